"""The registry of marts (contracts/marts.yaml): name, grain, key and partition column of
every table build_marts publishes, with its columns from the warehouse DDL. The build, the
warehouse load, the quality rules and docs/marts.md all name the same marts from here.

`python -m contracts.marts` rewrites the summary table in docs/marts.md; a unit test fails
when the committed one differs.
"""

from __future__ import annotations

import argparse
from functools import cache
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field

from contracts.warehouse.tables import Column, WarehouseTable, mart_tables

REGISTRY_PATH = Path(__file__).resolve().with_suffix(".yaml")
DOCS_PATH = Path(__file__).resolve().parents[1] / "docs" / "marts.md"
SUMMARY_START = "<!-- marts: generated from contracts/marts.yaml by `python -m contracts.marts` -->"
SUMMARY_END = "<!-- end of marts -->"


class Mart(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    grain: str
    key: tuple[str, ...] = Field(min_length=1)
    # None: the table is replaced as a whole every run.
    partition: str | None

    @property
    def table(self) -> WarehouseTable:
        """The mart's warehouse DDL, contracts/warehouse/marts/<name>.sql."""
        return mart_tables()[self.name]

    @property
    def columns(self) -> tuple[Column, ...]:
        return self.table.columns


@cache
def marts() -> dict[str, Mart]:
    """Every mart by name, in build order."""
    document = yaml.safe_load(REGISTRY_PATH.read_text(encoding="utf-8"))
    return {name: Mart(name=name, **fields) for name, fields in document["marts"].items()}


# Mart name -> partition column, as the jobs write and load them.
MART_PARTITIONS: dict[str, str | None] = {name: mart.partition for name, mart in marts().items()}


def render_summary() -> str:
    """The generated block of docs/marts.md: one row per mart."""
    rows = [
        f"| [`{mart.name}`](#{mart.name}) | {mart.grain} "
        f"| {', '.join(f'`{column}`' for column in mart.key)} "
        f"| {f'`{mart.partition}`' if mart.partition else 'none (replaced whole)'} |"
        for mart in marts().values()
    ]
    return "\n".join(
        [
            SUMMARY_START,
            "| mart | grain (one row per) | key | partitioned by |",
            "|---|---|---|---|",
            *rows,
            SUMMARY_END,
        ]
    )


def with_summary(document: str) -> str:
    """`document` with its generated block replaced by the current rendering."""
    before, rest = document.split(SUMMARY_START, 1)
    _, after = rest.split(SUMMARY_END, 1)
    return before + render_summary() + after


def main(argv: list[str] | None = None) -> None:
    """Rewrite the summary table in docs/marts.md (or --output)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=DOCS_PATH)
    output = parser.parse_args(argv).output
    output.write_text(with_summary(output.read_text(encoding="utf-8")), encoding="utf-8")
    print(f"wrote {output}")


if __name__ == "__main__":
    main()
