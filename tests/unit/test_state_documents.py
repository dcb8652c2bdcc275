"""State documents (the extract watermarks) at a local path and at an S3 key (moto), with the
same layout: absent until written, replaced whole, no temporary files left behind."""

from __future__ import annotations

from datetime import UTC, datetime

import boto3
from moto import mock_aws

from glue_jobs.extract_oltp import WATERMARKS_DOCUMENT, load_watermarks, save_watermarks
from glue_jobs.state import read_document, write_document


def test_local_documents_are_absent_until_written_and_then_replaced_whole(tmp_path):
    uri = str(tmp_path / "state" / "extract_oltp" / "watermarks.json")
    assert read_document(uri) is None

    write_document(uri, {"tables": {"users": "a", "orders": "b"}})
    write_document(uri, {"tables": {"users": "c"}})

    assert read_document(uri) == {"tables": {"users": "c"}}
    assert [path.name for path in (tmp_path / "state" / "extract_oltp").iterdir()] == [
        "watermarks.json"
    ]


def test_s3_documents_use_the_same_keys():
    with mock_aws():
        s3 = boto3.client("s3", region_name="eu-west-1")
        s3.create_bucket(
            Bucket="raw-bucket", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
        )
        uri = "s3://raw-bucket/_state/extract_oltp/watermarks.json"
        assert read_document(uri, s3) is None

        write_document(uri, {"tables": {"users": "2026-09-30T22:30:27.115000+00:00"}}, s3)

        assert read_document(uri, s3) == {"tables": {"users": "2026-09-30T22:30:27.115000+00:00"}}
        stored = s3.get_object(Bucket="raw-bucket", Key="_state/extract_oltp/watermarks.json")
        assert stored["ContentType"] == "application/json"


def test_watermarks_round_trip_as_utc_instants(tmp_path):
    watermarks = {
        "users": datetime(2026, 9, 25, 18, 16, 9, 182000, tzinfo=UTC),
        "orders": datetime(2026, 9, 30, 22, 30, 27, 115000, tzinfo=UTC),
    }
    save_watermarks(str(tmp_path), watermarks)

    assert load_watermarks(str(tmp_path)) == watermarks
    assert read_document(str(tmp_path / WATERMARKS_DOCUMENT)) == {
        "tables": {
            "orders": "2026-09-30T22:30:27.115000+00:00",
            "users": "2026-09-25T18:16:09.182000+00:00",
        }
    }
