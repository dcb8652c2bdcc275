"""The warehouse DDL files: one per mart, each with its keys and the reason written down, the
partition column last (COPY maps the Parquet files' columns by position), and readable."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from contracts.lake import CUSTOMER_SCORES_PARTITION
from contracts.marts import MART_PARTITIONS, marts
from contracts.warehouse.loads import SCORES_RELOADED_DAYS, warehouse_loads
from contracts.warehouse.tables import (
    MARTS_DIR,
    Column,
    customer_scores_table,
    glue_type,
    mart_tables,
    parse_table,
)
from sagemaker_pipelines.models.scoring import SCORE_COLUMNS

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


def test_glue_types_follow_the_warehouse_types():
    expected = {
        "BIGINT": "bigint",
        "INTEGER": "int",
        "DOUBLE PRECISION": "double",
        "VARCHAR(64)": "string",
        "BOOLEAN": "boolean",
        "TIMESTAMP": "timestamp",
        "DATE": "date",
        "DECIMAL(18,2)": "decimal(18,2)",
        "DECIMAL( 9 , 4 )": "decimal(9,4)",
    }
    assert {sql: glue_type(sql) for sql in expected} == expected
    with pytest.raises(ValueError, match="no Glue type for warehouse type SUPER"):
        glue_type("SUPER")


def test_the_scores_ddl_has_the_scoring_columns_in_order_then_the_partition():
    names = customer_scores_table().column_names
    assert names == [*SCORE_COLUMNS, CUSTOMER_SCORES_PARTITION]


def test_one_list_of_loaded_tables_the_marts_then_the_scores():
    loads = warehouse_loads()
    assert list(loads) == [*marts(), "customer_scores"]
    scores = loads["customer_scores"]
    assert (scores.zone, scores.folder, scores.partition) == ("curated", "customer_scores", "as_of")
    assert scores.latest_partitions == SCORES_RELOADED_DAYS == 7
    assert {load.zone for name, load in loads.items() if name != "customer_scores"} == {"marts"}
    assert loads["mart_sales_daily"].latest_partitions is None
    days = [f"2026-12-{d:02d}" for d in (9, 1, 3, 2, 8, 4, 7, 6, 5)]
    assert scores.chosen_partitions(days) == [f"2026-12-{d:02d}" for d in range(3, 10)]
    assert loads["mart_sales_daily"].chosen_partitions(["b", "a"]) == ["a", "b"]
