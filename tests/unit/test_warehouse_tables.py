"""The warehouse DDL files: one per mart, each with its keys and the reason written down, the
partition column last (COPY maps the Parquet files' columns by position), and readable."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from contracts.marts import MART_PARTITIONS
from contracts.warehouse.tables import MARTS_DIR, Column, mart_tables, parse_table

WAREHOUSE_DOC = Path(__file__).resolve().parents[2] / "docs" / "warehouse.md"


def test_there_is_one_ddl_file_per_mart():
    assert set(mart_tables()) == set(MART_PARTITIONS)


@pytest.mark.parametrize("name", sorted(MART_PARTITIONS))
def test_each_table_states_and_explains_its_distribution_and_sort_keys(name):
    ddl = (MARTS_DIR / f"{name}.sql").read_text()
    code = "\n".join(line.split("--", 1)[0] for line in ddl.splitlines())
    comments = "\n".join(line for line in ddl.splitlines() if line.lstrip().startswith("--"))
    distribution = re.search(r"\b(DISTSTYLE (ALL|EVEN)|DISTKEY \((\w+)\))", code)
    sort_key = re.search(r"\bSORTKEY \(([\w, ]+)\)", code)
    assert distribution, name
    assert sort_key, name
    assert distribution[1] in comments, name
    assert f"SORTKEY ({sort_key[1]})" in comments, name
    assert f"`{name}`" in WAREHOUSE_DOC.read_text(), name


@pytest.mark.parametrize("name", sorted(MART_PARTITIONS))
def test_the_partition_column_comes_last(name):
    partition = MART_PARTITIONS[name]
    if partition is not None:
        assert mart_tables()[name].column_names[-1] == partition


def test_parse_reads_names_types_and_nullability():
    table = parse_table(
        """-- a comment (with, commas)
        CREATE TABLE IF NOT EXISTS example (
            id      BIGINT        NOT NULL,  -- the key
            amount  DECIMAL(18,2),
            ratio   DOUBLE PRECISION,
            label   VARCHAR(16)   NOT NULL,
            PRIMARY KEY (id)
        )
        DISTKEY (id)
        SORTKEY (id);"""
    )
    assert table.name == "example"
    assert table.columns == (
        Column("id", "BIGINT", True),
        Column("amount", "DECIMAL(18,2)", False),
        Column("ratio", "DOUBLE PRECISION", False),
        Column("label", "VARCHAR(16)", True),
    )


def test_parse_refuses_what_it_cannot_read():
    with pytest.raises(ValueError, match="cannot read column definition"):
        parse_table("CREATE TABLE IF NOT EXISTS t (id BIGINT DEFAULT 1)")
