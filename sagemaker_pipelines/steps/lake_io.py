"""The step scripts' lake reads and writes, by location: awswrangler for `s3://` (the pipelines
on SageMaker read the extracts and marts from S3 and write the scores with their Glue catalog
partition), pandas for a local folder (the local runner and the tests). awswrangler's S3
functions take only `s3://` paths, so the scheme picks the library.

The stock scikit-learn image has no awswrangler and its jobs cannot pip install (the VPC has no
internet route): the source tarball carries it under `vendor/` (stacks/ml.py), which goes at
the end of sys.path, so every package the image has keeps its own version.
"""

from __future__ import annotations

import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import pandas as pd

S3_SCHEME = "s3://"
VENDOR_DIR = Path(__file__).resolve().parents[2] / "vendor"
"""Where the source tarball unpacks its vendored packages (absent in a checkout)."""
PART_PREFIX = "part-"
"""Data files start with it, as Spark's do: the warehouse load copies only those."""
LOCAL_PART_FILE = f"{PART_PREFIX}00000.parquet"


@dataclass(frozen=True)
class CatalogTable:
    """The Glue Data Catalog table a dataset's partitions are registered in."""

    database: str
    table: str


def is_s3(location: str | Path) -> bool:
    return str(location).startswith(S3_SCHEME)


def use_vendored() -> None:
    """Make the tarball's vendored packages importable, after everything the image has."""
    if VENDOR_DIR.is_dir() and str(VENDOR_DIR) not in sys.path:
        sys.path.append(str(VENDOR_DIR))


def wrangler() -> ModuleType:
    """awswrangler, from the vendored copy when the interpreter has none of its own."""
    use_vendored()
    import awswrangler

    return awswrangler


def _s3_folder(location: str | Path) -> str:
    return str(location).rstrip("/") + "/"


def has_parquet(location: str | Path) -> bool:
    """Whether any Parquet file lies under the folder (partition folders included); an empty
    location (an optional input not given) holds none."""
    if not str(location):
        return False
    if is_s3(location):
        return bool(wrangler().s3.list_objects(_s3_folder(location), suffix=".parquet"))
    folder = Path(location)
    return folder.is_dir() and any(folder.rglob("*.parquet"))


def read_dataset(location: str | Path, columns: list[str] | None = None) -> pd.DataFrame:
    """Every Parquet file under the folder as one frame; hive partition folders (`key=value`)
    become columns, which `columns` may name."""
    if not is_s3(location):
        return pd.read_parquet(location, columns=columns)
    frame = wrangler().s3.read_parquet(path=_s3_folder(location), dataset=True, columns=columns)
    return _numpy_dtypes(frame)


def _numpy_dtypes(frame: pd.DataFrame) -> pd.DataFrame:
    """awswrangler reads into pandas' nullable dtypes (Int64, boolean, string), pandas'
    read_parquet into NumPy ones (a null integer as float, text as object): the models see
    the same frame from S3 as from a local folder."""
    converted: dict[str, object] = {}
    for name, dtype in frame.dtypes.items():
        if isinstance(dtype, pd.StringDtype):
            converted[name] = object
        elif (numpy_dtype := getattr(dtype, "numpy_dtype", None)) is not None:
            if not frame[name].isna().any():
                converted[name] = numpy_dtype
            else:
                converted[name] = object if dtype.kind == "b" else "float64"
    return frame.astype(converted) if converted else frame


def write_partition(
    frame: pd.DataFrame,
    location: str | Path,
    column: str,
    value: str,
    catalog: CatalogTable | None = None,
) -> str:
    """`frame` as the partition `column=value` of the dataset at `location`, replacing that
    partition's files and no other; on S3 the partition is also registered in `catalog`,
    whose declared columns the files must match (no schema evolution). Returns the
    partition's folder."""
    if is_s3(location):
        wrangler().s3.to_parquet(
            df=frame.assign(**{column: value}),
            path=_s3_folder(location),
            dataset=True,
            partition_cols=[column],
            mode="overwrite_partitions",
            filename_prefix=PART_PREFIX,
            index=False,
            schema_evolution=False,
            **({"database": catalog.database, "table": catalog.table} if catalog else {}),
        )
        return f"{_s3_folder(location)}{column}={value}/"
    if catalog is not None:
        raise ValueError("a local dataset has no catalog: write it without one")
    folder = Path(location) / f"{column}={value}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    frame.to_parquet(folder / LOCAL_PART_FILE, index=False)
    return str(folder)
