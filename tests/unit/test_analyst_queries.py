"""The analysts' SQL files: docs/queries.md is what they render, and a file that breaks the
layout is refused with its name."""

from __future__ import annotations

from pathlib import Path

import pytest

from contracts.warehouse.queries import AnalystQueryError, analyst_queries, load_queries
from contracts.warehouse.queries.docs import DOCS_PATH, render_markdown
from local_platform.demo.batch import HEADLINE_QUERIES


def test_docs_queries_md_is_generated_from_the_files():
    assert DOCS_PATH.read_text(encoding="utf-8") == render_markdown(), (
        "docs/queries.md is stale: run `python -m contracts.warehouse.queries.docs`"
    )


def test_every_query_shows_in_the_docs_under_its_question():
    text = render_markdown()
    for query in load_queries():
        heading = text.index(f"## {query.question}\n")
        block = text.index(f"<!-- query: {query.name} -->\n```sql\n{query.sql}\n```")
        assert heading < block


def test_the_demo_headlines_name_existing_queries():
    assert {name for name, _, _ in HEADLINE_QUERIES} <= set(analyst_queries())


def test_a_file_without_its_question_line_is_refused(tmp_path: Path):
    (tmp_path / "001_orders.sql").write_text("-- How many orders.\nSELECT 1;\n", encoding="utf-8")

    with pytest.raises(AnalystQueryError, match=r"001_orders\.sql"):
        load_queries(tmp_path)


def test_the_sql_is_the_file_below_its_comment_block(tmp_path: Path):
    (tmp_path / "001_orders.sql").write_text(
        "-- question: How many?\n-- Orders, all time.\n--\n-- Cancelled ones too.\n"
        "SELECT count(*)\nFROM orders;\n",
        encoding="utf-8",
    )

    (query,) = load_queries(tmp_path)

    assert query.name == "orders"
    assert query.question == "How many?"
    assert query.description == "Orders, all time.\n\nCancelled ones too."
    assert query.sql == "SELECT count(*)\nFROM orders;"
