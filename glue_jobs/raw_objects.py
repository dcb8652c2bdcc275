"""Which raw objects a curate_events run has already curated: a manifest in the lake's state.

The manifest is one JSON document (glue_jobs.state, a local file or an S3 object) mapping each
curated object's path to its size and modification time. A run lists the raw prefixes with
Hadoop's FileSystem API (the same calls for a folder and for S3), reads only the objects the
manifest lacks, and records the listing once its outputs are published. An object whose size
or time changed, or that vanished, cannot be curated incrementally: its earlier lines are
already in the curated tables, so the run re-curates everything instead.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from pyspark.sql import SparkSession

from contracts.lake import table_path
from glue_jobs.state import read_document, write_document

MANIFEST_VERSION = 1

# path -> (size in bytes, modification time in ms since the epoch)
ObjectVersions = Mapping[str, tuple[int, int]]


def manifest_uri(state_root: str) -> str:
    """Where curate_events keeps its manifest under the state root (<lake>/state locally)."""
    return table_path(state_root, "curate_events/raw_objects.json")


def _hidden(name: str) -> bool:
    """Names Spark skips when it reads a folder: `_spark_metadata`, `_SUCCESS`, `.crc` files."""
    return name.startswith(("_", "."))


def list_objects(spark: SparkSession, root: str) -> dict[str, tuple[int, int]]:
    """Every data file under `root` (itself when it is a file; nothing when it is absent),
    skipping hidden files and folders below it, as Spark does when reading the folder."""
    jvm = spark.sparkContext._jvm
    base = jvm.org.apache.hadoop.fs.Path(root)
    filesystem = base.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())
    if not filesystem.exists(base):
        return {}
    base_depth = len(filesystem.getFileStatus(base).getPath().toUri().getPath().rstrip("/"))
    listed: dict[str, tuple[int, int]] = {}
    files = filesystem.listFiles(base, True)
    while files.hasNext():
        status = files.next()
        path = status.getPath()
        below = path.toUri().getPath()[base_depth:]
        if any(_hidden(part) for part in below.split("/") if part):
            continue
        listed[path.toString()] = (int(status.getLen()), int(status.getModificationTime()))
    return listed


@dataclass(frozen=True)
class RawListing:
    """The objects of each raw source at the start of a run, and what the manifest says."""

    landed: dict[str, tuple[int, int]]
    streamed: dict[str, tuple[int, int]]
    curated_before: ObjectVersions | None  # None: no manifest yet

    @property
    def objects(self) -> dict[str, tuple[int, int]]:
        return {**self.landed, **self.streamed}

    def rewritten(self) -> list[str]:
        """Curated objects that changed or vanished since (the reason to re-curate all)."""
        now = self.objects
        before = self.curated_before or {}
        return sorted(path for path, version in before.items() if now.get(path) != version)

    def to_read(self, paths: Iterable[str], *, fold: bool) -> tuple[str, ...]:
        """The objects of `paths` a run reads: those the manifest lacks when the run folds
        them into the published tables, every one when it re-curates everything."""
        before = (self.curated_before or {}) if fold else {}
        return tuple(sorted(path for path in paths if path not in before))


def read_manifest(uri: str, s3_client: Any = None) -> dict[str, tuple[int, int]] | None:
    document = read_document(uri, s3_client)
    if document is None:
        return None
    if document.get("version") != MANIFEST_VERSION:
        raise ValueError(f"{uri}: manifest version {document.get('version')!r} is not mine")
    return {path: (size, modified) for path, (size, modified) in document["objects"].items()}


def write_manifest(uri: str, objects: ObjectVersions, s3_client: Any = None) -> None:
    document = {
        "version": MANIFEST_VERSION,
        "objects": {path: list(version) for path, version in sorted(objects.items())},
    }
    write_document(uri, document, s3_client)
