"""The analysts' queries, read from docs/queries.md: the document is the one place they are
written, so what the demo prints and what the tests run is what the docs show."""

from __future__ import annotations

import re
from pathlib import Path

QUERIES_DOC = Path(__file__).resolve().parents[1] / "docs" / "queries.md"
_NAMED_QUERY = re.compile(r"<!-- query: (\w+) -->\s*```sql\n(.*?)```", re.DOTALL)


def analyst_queries(document: Path = QUERIES_DOC) -> dict[str, str]:
    """Every named SQL block of the document, by name, in document order."""
    text = document.read_text(encoding="utf-8")
    queries: dict[str, str] = {}
    for name, sql in _NAMED_QUERY.findall(text):
        if name in queries:
            raise ValueError(f"{document.name}: query {name!r} appears twice")
        queries[name] = sql.strip()
    if len(queries) != text.count("```sql"):
        raise ValueError(f"{document.name}: every ```sql block needs a <!-- query: name --> line")
    return queries
