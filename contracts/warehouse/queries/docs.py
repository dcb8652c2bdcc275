"""Render docs/queries.md from the query files.

The page is generated, never edited, so the SQL it shows is the SQL the demo and the tests
run; a unit test fails when the committed file differs. Regenerate with
`python -m contracts.warehouse.queries.docs`.
"""

from __future__ import annotations

from pathlib import Path

from contracts.generated_docs import write_page
from contracts.warehouse.queries import load_queries

DOCS_PATH = Path(__file__).resolve().parents[3] / "docs" / "queries.md"
_INTRO = """\
<!-- Generated from contracts/warehouse/queries by `python -m contracts.warehouse.queries.docs`. \
Edit the .sql files, not this file. -->

# Analysts' questions as SQL

The questions the marts exist for, answered in SQL that runs unchanged on Redshift and on the
local DuckDB warehouse (`ecom batch run` builds it at `.local/warehouse.duckdb`; open it with
`duckdb .local/warehouse.duckdb`). Table and column meanings are in [marts.md](marts.md), the
tables' keys in [warehouse.md](warehouse.md). Every query here runs in the test suite against
a warehouse built from a generated store, and `ecom demo` prints four of them.

Each query is named by the comment above it, after its file in `contracts/warehouse/queries/`;
the names are how the demo finds them.
"""


def render_markdown() -> str:
    """The whole of docs/queries.md: a section per question, its queries in file order."""
    lines = [_INTRO]
    question = None
    for query in load_queries():
        if query.question != question:
            question = query.question
            lines += [f"## {question}", ""]
        lines += [
            query.description,
            "",
            f"<!-- query: {query.name} -->",
            "```sql",
            query.sql,
            "```",
            "",
        ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    """Write the rendered page to docs/queries.md (or --output)."""
    write_page(render_markdown, DOCS_PATH, __doc__.splitlines()[0], argv)


if __name__ == "__main__":
    main()
