"""The data-quality rules as data: every rules file loads, names what the jobs really write,
agrees with the contracts it repeats, and renders to the DQDL written out here by hand."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from contracts.events.loader import event_types
from contracts.marts import MART_PARTITIONS
from contracts.quality import JobRules, NotNull, load_job_rules, rule_jobs
from contracts.quality.dqdl import dqdl_rule, dqdl_ruleset, job_rulesets
from glue_jobs.transforms.marts.customers import RFM_SEGMENT_RULES
from glue_jobs.transforms.oltp import SOURCE_TABLES


def _values(job: str, table: str, column: str) -> tuple[str, ...]:
    (rule,) = [
        rule
        for rule in load_job_rules(job).tables[table]
        if rule.check == "accepted_values" and rule.column == column
    ]
    return rule.values


def test_every_job_has_rules_for_exactly_the_tables_it_writes():
    assert rule_jobs() == ["build_marts", "curate_events", "extract_oltp"]
    assert set(load_job_rules("build_marts").tables) == set(MART_PARTITIONS)
    assert set(load_job_rules("curate_events").tables) == {"events", "sessions"}
    assert list(load_job_rules("extract_oltp").tables) == [table.name for table in SOURCE_TABLES]


def test_repeated_value_lists_match_their_sources():
    assert _values("curate_events", "events", "event_type") == event_types()
    assert set(_values("build_marts", "mart_rfm_segments", "segment")) == {
        name for name, _ in RFM_SEGMENT_RULES
    }


def test_every_extracted_table_checks_rows_in_against_rows_out_and_its_key():
    for table, rules in load_job_rules("extract_oltp").tables.items():
        checks = {(rule.check, getattr(rule, "reference", None)) for rule in rules}
        assert ("row_count_match", f"source_{table}") in checks, table
        assert ("primary_key", None) in checks, table


def test_the_required_referential_rules_are_critical():
    rules = load_job_rules("extract_oltp").tables
    references = {
        (table, rule.columns, rule.reference, rule.reference_columns, rule.severity)
        for table in ("orders", "order_items")
        for rule in rules[table]
        if rule.check == "referential"
    }
    assert ("orders", ("user_id",), "users", ("id",), "critical") in references
    assert ("order_items", ("product_id",), "products", ("id",), "critical") in references


def test_orders_ruleset_renders_to_hand_written_dqdl():
    expected = """Rules = [
    RowCountMatch "source_orders" = 1.0,
    IsPrimaryKey "id",
    IsComplete "placed_at",
    IsComplete "total",
    ReferentialIntegrity "user_id" "users.id" = 1.0,
    ColumnValues "status" in ["placed", "shipped", "delivered", "cancelled", "refunded", "partially_refunded"],
    CustomSql "SELECT COUNT(*) FROM primary WHERE placed_at >= current_timestamp() - INTERVAL 48 HOURS" > 0
]"""  # noqa: E501 - DQDL keeps each rule on one line
    assert job_rulesets("extract_oltp")["orders"] == expected


def test_multi_column_rules_render_to_hand_written_dqdl():
    rules = JobRules.model_validate(
        {
            "job": "example",
            "tables": {
                "t": [
                    {"check": "row_count", "op": ">", "value": 0},
                    {"check": "primary_key", "columns": ["order_date", "channel"]},
                    {
                        "check": "referential",
                        "columns": ["city", "state"],
                        "reference": "places",
                        "reference_columns": ["ref_city", "ref_state"],
                    },
                    {"check": "row_count_match", "reference": "users", "op": "<=", "value": 1},
                ]
            },
        }
    ).tables["t"]
    assert dqdl_ruleset(rules) == (
        "Rules = [\n"
        "    RowCount > 0,\n"
        '    IsPrimaryKey "order_date" "channel",\n'
        '    ReferentialIntegrity "city,state" "places.{ref_city,ref_state}" = 1.0,\n'
        '    RowCountMatch "users" <= 1.0\n'
        "]"
    )


def test_not_null_shorthand_is_one_rule_per_column_with_the_shared_severity():
    rules = JobRules.model_validate(
        {
            "job": "example",
            "tables": {"t": [{"check": "not_null", "columns": ["a", "b"], "severity": "warning"}]},
        }
    ).tables["t"]
    assert rules == (
        NotNull(check="not_null", column="a", severity="warning"),
        NotNull(check="not_null", column="b", severity="warning"),
    )
    assert [dqdl_rule(rule) for rule in rules] == ['IsComplete "a"', 'IsComplete "b"']


@pytest.mark.parametrize(
    "rule",
    [
        {
            "check": "referential",
            "columns": ["a", "b"],
            "reference": "r",
            "reference_columns": ["x"],
        },
        {"check": "accepted_values", "column": "a", "values": ['say "hi"']},
        {"check": "row_count", "op": "~", "value": 1},
        {"check": "freshness", "column": "a", "max_age_hours": 0},
        {"check": "unknown_check", "column": "a"},
        {"check": "not_null", "column": "a", "severity": "fatal"},
    ],
)
def test_malformed_rules_are_refused(rule):
    with pytest.raises(ValidationError):
        JobRules.model_validate({"job": "example", "tables": {"t": [rule]}})
