"""The step scripts' lake I/O: pandas on local folders, awswrangler on s3:// (against moto's S3
and Glue catalog, which cannot run here). The same data reads back as the same frame either
way, and writing a day replaces that day's files and catalog partition only."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import boto3
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from contracts.warehouse.tables import glue_type
from sagemaker_pipelines.steps.lake_io import (
    CatalogTable,
    has_parquet,
    read_dataset,
    write_partition,
)

pytest.importorskip("awswrangler", reason="the `pipelines` extra is not installed")
moto = pytest.importorskip("moto")

BUCKET = "lake-curated"
DATABASE = "lake_curated"
TABLE = "scores"
URI = f"s3://{BUCKET}/{TABLE}/"
REGION = "eu-west-1"
# Warehouse types, mapped to Glue's by the contract's glue_type as the ML stack does.
COLUMNS = {"user_id": "BIGINT", "p": "DOUBLE PRECISION", "band": "VARCHAR(16)", "new": "BOOLEAN"}


def _frame(users: list[int], p: list[float], bands: list[str], new: list[bool]) -> pd.DataFrame:
    return pd.DataFrame({"user_id": users, "p": p, "band": bands, "new": new})


DAY_ONE = _frame([3, 5, 8], [0.125, 0.5, 0.75], ["low", "medium", "high"], [False, True, False])
DAY_TWO = _frame([3, 9], [0.25, 0.0625], ["low", "low"], [False, True])


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with moto.mock_aws():
        boto3.client("s3").create_bucket(
            Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION}
        )
        glue = boto3.client("glue")
        glue.create_database(DatabaseInput={"Name": DATABASE})
        glue.create_table(
            DatabaseName=DATABASE,
            TableInput={
                "Name": TABLE,
                "TableType": "EXTERNAL_TABLE",
                "Parameters": {"classification": "parquet"},
                "PartitionKeys": [{"Name": "as_of", "Type": "date"}],
                "StorageDescriptor": {
                    "Columns": [{"Name": n, "Type": glue_type(t)} for n, t in COLUMNS.items()],
                    "Location": URI,
                    "InputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
                    "OutputFormat": "org.apache.hadoop.hive.ql.io.parquet."
                    "MapredParquetOutputFormat",
                    "SerdeInfo": {
                        "SerializationLibrary": "org.apache.hadoop.hive.ql.io.parquet.serde."
                        "ParquetHiveSerDe"
                    },
                },
            },
        )
        yield


def _keys(prefix: str = TABLE) -> list[str]:
    listing = boto3.client("s3").list_objects_v2(Bucket=BUCKET, Prefix=prefix)
    return sorted(item["Key"] for item in listing.get("Contents", []))


def _partitions() -> list[list[str]]:
    found = boto3.client("glue").get_partitions(DatabaseName=DATABASE, TableName=TABLE)
    return sorted(p["Values"] for p in found["Partitions"])


def test_a_local_day_replaces_its_own_folder_only(tmp_path: Path) -> None:
    dataset = tmp_path / "scores"
    first = write_partition(DAY_ONE, dataset, "as_of", "2026-12-01")
    write_partition(DAY_TWO, dataset, "as_of", "2026-12-02")
    stale = dataset / "as_of=2026-12-01" / "part-old.parquet"
    DAY_TWO.to_parquet(stale)
    again = write_partition(DAY_ONE.iloc[:2], dataset, "as_of", "2026-12-01")
    assert first == again == str(dataset / "as_of=2026-12-01")
    files = sorted(p.relative_to(dataset).as_posix() for p in dataset.rglob("*.parquet"))
    assert files == ["as_of=2026-12-01/part-00000.parquet", "as_of=2026-12-02/part-00000.parquet"]
    back = read_dataset(dataset, ["user_id", "as_of"])
    assert sorted(zip(back["user_id"], back["as_of"].astype(str), strict=True)) == [
        (3, "2026-12-01"),
        (3, "2026-12-02"),
        (5, "2026-12-01"),
        (9, "2026-12-02"),
    ]


def test_a_local_dataset_has_no_catalog(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no catalog"):
        write_partition(DAY_ONE, tmp_path, "as_of", "2026-12-01", CatalogTable(DATABASE, TABLE))
    assert not list(tmp_path.iterdir())


def test_has_parquet_looks_below_the_folder_and_not_at_an_empty_location(tmp_path: Path) -> None:
    assert not has_parquet("")
    assert not has_parquet(tmp_path / "missing")
    (tmp_path / "a" / "b=1").mkdir(parents=True)
    assert not has_parquet(tmp_path / "a")
    DAY_ONE.to_parquet(tmp_path / "a" / "b=1" / "x.parquet")
    assert has_parquet(tmp_path / "a")


def test_an_s3_day_is_written_as_part_files_and_registered_in_the_catalog(aws: None) -> None:
    catalog = CatalogTable(DATABASE, TABLE)
    written = write_partition(DAY_ONE, URI, "as_of", "2026-12-01", catalog)
    write_partition(DAY_TWO, URI, "as_of", "2026-12-02", catalog)
    assert written == f"{URI}as_of=2026-12-01/"
    assert _partitions() == [["2026-12-01"], ["2026-12-02"]]
    first_day = _keys(f"{TABLE}/as_of=2026-12-01/")
    assert len(first_day) == 1
    assert first_day[0].split("/")[-1].startswith("part-")
    # Re-scoring a day replaces its files; the other day's stay as they were.
    second_day = _keys(f"{TABLE}/as_of=2026-12-02/")
    write_partition(DAY_ONE.iloc[1:], URI, "as_of", "2026-12-01", catalog)
    assert _keys(f"{TABLE}/as_of=2026-12-02/") == second_day
    assert len(_keys(f"{TABLE}/as_of=2026-12-01/")) == 1
    assert _keys(f"{TABLE}/as_of=2026-12-01/") != first_day
    assert _partitions() == [["2026-12-01"], ["2026-12-02"]]
    back = read_dataset(URI).sort_values(["as_of", "user_id"], key=lambda c: c.astype(str))
    assert back["user_id"].tolist() == [5, 8, 3, 9]
    assert back["p"].tolist() == [0.5, 0.75, 0.25, 0.0625]


def test_columns_the_catalog_does_not_declare_are_refused_and_nothing_is_written(
    aws: None,
) -> None:
    with pytest.raises(Exception, match="Schema change detected"):
        write_partition(
            DAY_ONE.assign(extra=1), URI, "as_of", "2026-12-03", CatalogTable(DATABASE, TABLE)
        )
    assert _keys() == []
    assert _partitions() == []


def test_s3_reads_give_the_frame_pandas_reads_from_a_folder(aws: None, tmp_path: Path) -> None:
    """Nullable integers, text and booleans come back with pandas' own NumPy dtypes. The file
    carries no pandas metadata, as the lake's Spark-written files do not."""
    frame = pd.DataFrame(
        {
            "user_id": [11, 12, 13],
            "orders": pd.array([4, None, 2], dtype="Int64"),
            "channel": ["web", None, "app"],
            "flag": [True, False, True],
            "amount": [1.5, np.nan, 3.25],
        }
    )
    local = tmp_path / "mart" / "cutoff_date=2026-11-30"
    local.mkdir(parents=True)
    table = pa.Table.from_pandas(frame, preserve_index=False).replace_schema_metadata(None)
    pq.write_table(table, local / "part-0.parquet")
    boto3.client("s3").upload_file(
        str(local / "part-0.parquet"), BUCKET, "mart/cutoff_date=2026-11-30/part-0.parquet"
    )
    from_s3 = read_dataset(f"s3://{BUCKET}/mart")
    from_folder = read_dataset(tmp_path / "mart")
    assert has_parquet(f"s3://{BUCKET}/mart")
    assert not has_parquet(f"s3://{BUCKET}/nothing")
    assert from_s3["orders"].dtype == np.float64  # a null integer reads as float
    assert from_s3["channel"].dtype == object
    assert from_s3["flag"].dtype == bool
    pd.testing.assert_frame_equal(
        from_s3.drop(columns="cutoff_date"), from_folder.drop(columns="cutoff_date")
    )
    assert from_s3["cutoff_date"].astype(str).tolist() == ["2026-11-30"] * 3
    assert read_dataset(f"s3://{BUCKET}/mart", ["user_id"])["user_id"].tolist() == [11, 12, 13]
