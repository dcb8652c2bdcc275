"""The mart registry (contracts/marts.yaml) against what names the marts elsewhere: the
warehouse DDL, the quality rules and docs/marts.md."""

from __future__ import annotations

import re

import pytest

from contracts.marts import DOCS_PATH, marts, with_summary
from contracts.quality import PrimaryKey, load_job_rules

_PRIMARY_KEY = re.compile(r"PRIMARY KEY\s*\(([^)]*)\)")


def test_registry_lists_the_marts_in_build_order():
    assert list(marts()) == [
        "mart_sales_daily",
        "mart_funnel_daily",
        "mart_sessions_daily",
        "mart_cohort_retention",
        "mart_rfm_segments",
        "mart_product_performance",
        "mart_products",
        "mart_inventory_health",
        "mart_quarantine_daily",
        "customer_features",
    ]


@pytest.mark.parametrize("name", list(marts()))
def test_the_ddl_declares_the_registry_key(name):
    mart = marts()[name]
    (declared,) = _PRIMARY_KEY.findall(mart.table.ddl)
    assert tuple(column.strip() for column in declared.split(",")) == mart.key
    assert set(mart.key) <= {column.name for column in mart.columns}


@pytest.mark.parametrize("name", list(marts()))
def test_the_quality_rules_check_the_registry_key(name):
    rules = load_job_rules("build_marts").tables[name]
    keys = [rule.columns for rule in rules if isinstance(rule, PrimaryKey)]
    assert keys == [marts()[name].key]


def test_docs_list_every_mart_from_the_registry():
    text = DOCS_PATH.read_text(encoding="utf-8")
    assert text == with_summary(text), "docs/marts.md is stale: run `python -m contracts.marts`"
    for name in marts():
        assert f"\n## `{name}`\n" in text
