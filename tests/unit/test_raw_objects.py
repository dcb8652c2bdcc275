"""curate_events' manifest of curated raw objects: what a listing holds, which objects are new,
which changed since they were curated, and the document it keeps in the state folder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from glue_jobs.raw_objects import (
    RawListing,
    list_objects,
    manifest_uri,
    read_manifest,
    write_manifest,
)


def _file(path: Path, text: str, modified_s: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    os.utime(path, (modified_s, modified_s))


def test_a_listing_holds_the_data_files_spark_would_read(spark, tmp_path) -> None:
    root = tmp_path / "events_stream"
    _file(root / "event_date=2026-10-01" / "part-0.parquet", "12345", 1_700_000_000)
    _file(root / "event_date=2026-10-02" / "event_hour=3" / "part-1.parquet", "1234", 1_700_000_060)
    _file(root / "landing.jsonl", "1", 1_700_000_120)
    # What Spark skips: the streaming job's log, markers, checksums, hidden folders.
    _file(root / "_spark_metadata" / "0", "log", 1_700_000_000)
    _file(root / "event_date=2026-10-01" / "_SUCCESS", "", 1_700_000_000)
    _file(root / "event_date=2026-10-01" / ".part-0.parquet.crc", "x", 1_700_000_000)
    _file(root / ".tmp" / "part-9.parquet", "xx", 1_700_000_000)

    listed = list_objects(spark, str(root))
    assert {Path(path.removeprefix("file:")).relative_to(root).as_posix(): version
            for path, version in listed.items()} == {
        "event_date=2026-10-01/part-0.parquet": (5, 1_700_000_000_000),
        "event_date=2026-10-02/event_hour=3/part-1.parquet": (4, 1_700_000_060_000),
        "landing.jsonl": (1, 1_700_000_120_000),
    }  # fmt: skip
    one_file = list_objects(spark, str(root / "landing.jsonl"))
    assert list(one_file.values()) == [(1, 1_700_000_120_000)]
    assert list_objects(spark, str(tmp_path / "absent")) == {}


def test_new_objects_and_objects_changed_since_they_were_curated() -> None:
    listing = RawListing(
        landed={"a": (10, 1), "b": (25, 2), "c": (7, 3)},
        streamed={"s1": (5, 4)},
        curated_before={"a": (10, 1), "b": (20, 2), "gone": (1, 1)},
    )
    # Folding reads only what the manifest lacks.
    assert listing.to_read(listing.landed, fold=True) == ("c",)
    assert listing.to_read(listing.streamed, fold=True) == ("s1",)
    # b grew, gone vanished: their earlier lines are curated, so all must be re-curated.
    assert listing.rewritten() == ["b", "gone"]
    # Re-curating everything reads every listed object.
    assert listing.to_read(listing.landed, fold=False) == ("a", "b", "c")
    first = RawListing(landed={"a": (10, 1)}, streamed={}, curated_before=None)
    assert (first.to_read(first.landed, fold=True), first.rewritten()) == (("a",), [])


def test_the_manifest_round_trips_in_the_state_folder(tmp_path) -> None:
    uri = manifest_uri(str(tmp_path / "state"))
    assert uri == f"{tmp_path}/state/curate_events/raw_objects.json"
    assert read_manifest(uri) is None
    objects = {"file:/lake/raw/events/b.jsonl": (3, 20), "file:/lake/raw/events/a.jsonl": (9, 10)}
    write_manifest(uri, objects)
    assert read_manifest(uri) == objects
    Path(uri).write_text('{"version": 2, "objects": {}}')
    with pytest.raises(ValueError, match="manifest version 2"):
        read_manifest(uri)
