"""The warehouse's streaming-ingestion scripts: safe to re-run, rendered only with safe values,
and in step with the event contract (size limit, envelope fields, field shapes)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from contracts.events.loader import ENVELOPE, load_schemas
from contracts.events.validator import MAX_EVENT_BYTES
from contracts.warehouse import (
    STREAMING_DIR,
    WarehouseScriptError,
    existence_probe,
    load_scripts,
    scripts_checksum,
)

VALUES = {
    "StreamingRoleArn": "arn:aws:iam::123456789012:role/dev-Warehouse-StreamingIngestionRole",
    "ClusterArn": "arn:aws:kafka:eu-west-1:123456789012:cluster/ecommerce-dev/0a1b-2c3d-4",
    "EventsTopic": "ecommerce.events.v1",
}


def _events_view() -> str:
    (script,) = [s for s in load_scripts() if "MATERIALIZED VIEW" in s.template]
    return script.render(VALUES)


def test_scripts_run_in_file_order_and_each_is_one_repeatable_statement():
    scripts = load_scripts()
    assert [s.name for s in scripts] == [
        "001_schema.sql",
        "002_msk_external_schema.sql",
        "003_events_view.sql",
    ]
    for script in scripts:
        statement = script.render(VALUES)
        code = "\n".join(line.split("--", 1)[0] for line in statement.splitlines())
        assert code.count(";") == 1, script.name
        assert code.rstrip().endswith(";"), script.name
        assert "IF NOT EXISTS" in code or existence_probe(statement) is not None, script.name


def test_rendering_fills_every_placeholder_and_refuses_missing_or_unsafe_values():
    external_schema = load_scripts()[1]
    rendered = external_schema.render(VALUES)
    assert "${" not in rendered
    assert f"IAM_ROLE '{VALUES['StreamingRoleArn']}'" in rendered
    assert f"CLUSTER_ARN '{VALUES['ClusterArn']}'" in rendered
    with pytest.raises(WarehouseScriptError, match=r"002_msk_external_schema.sql: no value for"):
        external_schema.render({"StreamingRoleArn": VALUES["StreamingRoleArn"]})
    with pytest.raises(WarehouseScriptError, match="value of ClusterArn is not safe"):
        external_schema.render({**VALUES, "ClusterArn": "x'; DROP SCHEMA streaming; --"})


def test_events_view_refreshes_itself_and_parses_only_what_the_contract_can_accept():
    view = _events_view()
    assert "AUTO REFRESH YES" in view
    assert 'FROM msk_events."ecommerce.events.v1"' in view
    assert "JSON_PARSE(kafka_value) AS payload" in view
    (limit,) = re.findall(r"OCTET_LENGTH\(kafka_value\) <= (\d+)", view)
    assert int(limit) == MAX_EVENT_BYTES
    assert "CAN_JSON_PARSE(kafka_value)" in view


def test_events_view_types_every_scalar_of_the_envelope():
    envelope = load_schemas()[ENVELOPE]["properties"]
    scalars = {name for name, field in envelope.items() if name not in ("context", "properties")}
    columns = set(re.findall(r"\bAS (\w+)", _events_view()))
    assert scalars <= columns
    assert {"kafka_partition", "kafka_offset", "kafka_timestamp"} <= set(
        re.findall(r"^\s+(kafka_\w+),", _events_view(), re.MULTILINE)
    )


SAMPLE_TIMES = [
    "2026-10-01T12:34:56Z",
    "2026-10-01T12:34:56.1Z",
    "2026-10-01T12:34:56.123456789Z",
    "2026-10-01T12:34:56+00:00",
    "2026-10-01 12:34:56Z",
    "2026-10-01T12:34Z",
    "2026-10-01",
    "2026-10-01T12:34:56.Z",
]


def test_cast_guards_accept_exactly_the_contract_shapes():
    view = _events_view()
    time_guard, user_guard = re.findall(r"~ '([^']+)'", view)
    contract_time = load_schemas()[ENVELOPE]["properties"]["occurred_at"]["pattern"]
    for sample in SAMPLE_TIMES:
        assert bool(re.search(time_guard, sample)) == bool(re.search(contract_time, sample)), sample
    # user_id: an integer >= 1 (within BIGINT); anything else stays NULL instead of failing.
    assert [bool(re.search(user_guard, v)) for v in ("1", "42", "0", "-3", "1.5", "7e3", "")] == [
        True,
        True,
        False,
        False,
        False,
        False,
        False,
    ]


def test_existence_probe_names_the_materialized_view_only():
    probe = existence_probe(_events_view())
    assert probe is not None
    assert "svv_mv_info" in probe.sql
    assert probe.parameters == (("schema", "streaming"), ("name", "events"))
    assert existence_probe(load_scripts()[0].render(VALUES)) is None
    assert existence_probe("-- CREATE MATERIALIZED VIEW a.b in a comment\nSELECT 1;") is None


def test_checksum_follows_the_script_files(tmp_path: Path):
    copy = tmp_path / "streaming"
    shutil.copytree(STREAMING_DIR, copy)
    before = scripts_checksum(copy)
    assert before == scripts_checksum(STREAMING_DIR)
    (copy / "004_more.sql").write_text("CREATE SCHEMA IF NOT EXISTS more;\n")
    assert scripts_checksum(copy) != before
