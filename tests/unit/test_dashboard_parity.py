"""Parity between the two renderings of the dashboard definitions: the QuickSight Definition
the CDK deploys and the local page `ecom dashboards build` writes show the same sheets,
visuals (ids, types, titles, subtitles) and parameter controls, in the same order.

The page is read back from its HTML (built here over empty datasets), the Definition from its
JSON, so neither side's code is trusted to describe itself.
"""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from local_platform.dashboards.datasets import DatasetRows
from local_platform.dashboards.site import write_site
from quicksight_templates.loader import Definitions, load_definitions
from quicksight_templates.quicksight import definition

# The model type a QuickSight visual stands for; bars are told apart by their arrangement.
_MODEL_TYPE = {
    "KPIVisual": "kpi",
    "LineChartVisual": "line",
    "TableVisual": "table",
    "PivotTableVisual": "pivot",
    "FunnelChartVisual": "funnel",
    "HeatMapVisual": "heatmap",
    "ScatterPlotVisual": "scatter",
    "PieChartVisual": "donut",
}


class _PageReader(HTMLParser):
    """Sheets (id, tab title), visuals (sheet, id, type, title, subtitle) and the ids of the
    parameter inputs of one dashboard page."""

    def __init__(self) -> None:
        super().__init__()
        self.tabs: dict[str, str] = {}
        self.sheet_order: list[str] = []
        self.visuals: list[dict[str, str]] = []
        self.parameter_inputs: set[str] = set()
        self._sheet: str | None = None
        self._text_target: tuple[dict[str, str], str] | None = None
        self._tab: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {name: value or "" for name, value in attrs}
        if tag == "button" and "data-sheet" in found:
            self._tab = found["data-sheet"]
            self.tabs[self._tab] = ""
        elif tag == "section" and "sheet" in found.get("class", "").split():
            self._sheet = found["id"].removeprefix("sheet-")
            self.sheet_order.append(self._sheet)
        elif tag == "article" and "data-visual" in found:
            self.visuals.append(
                {"sheet": self._sheet or "", "id": found["data-visual"], "type": found["data-type"]}
            )
        elif tag == "h2" and self.visuals:
            self._text_target = (self.visuals[-1], "title")
        elif tag == "p" and "subtitle" in found.get("class", "").split() and self.visuals:
            self._text_target = (self.visuals[-1], "subtitle")
        elif tag in ("input", "select") and found.get("id", "").startswith("param-"):
            self.parameter_inputs.add(found["id"].removeprefix("param-"))

    def handle_endtag(self, tag: str) -> None:
        if tag in ("h2", "p"):
            self._text_target = None
        if tag == "button":
            self._tab = None

    def handle_data(self, data: str) -> None:
        if self._text_target is not None:
            target, key = self._text_target
            target[key] = target.get(key, "") + data
        if self._tab is not None:
            self.tabs[self._tab] += data


def _model_type(key: str, visual: dict[str, Any]) -> str:
    if key == "BarChartVisual":
        stacked = visual["ChartConfiguration"]["BarsArrangement"] == "STACKED"
        return "stacked_bar" if stacked else "bar"
    return _MODEL_TYPE[key]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> tuple[Definitions, dict[str, Path]]:
    definitions = load_definitions()
    empty = {
        dataset_id: DatasetRows(dataset_id, [c.name for c in dataset.columns], [], "No data yet.")
        for dataset_id, dataset in definitions.datasets.items()
    }
    out = tmp_path_factory.mktemp("site")
    pages = write_site(definitions, empty, out, "empty datasets")
    return definitions, {page.dashboard_id: page.path for page in pages}


def _read(path: Path) -> _PageReader:
    reader = _PageReader()
    reader.feed(path.read_text(encoding="utf-8"))
    return reader


def test_every_dashboard_has_a_page(site: tuple[Definitions, dict[str, Path]]):
    definitions, pages = site
    assert set(pages) == set(definitions.dashboards)


def test_sheets_visuals_and_controls_match_the_quicksight_definition(
    site: tuple[Definitions, dict[str, Path]],
):
    definitions, pages = site
    arns = {
        d: f"arn:aws:quicksight:eu-west-1:111122223333:dataset/{d}" for d in definitions.datasets
    }
    compared = 0
    for dashboard in definitions.dashboards.values():
        body = definition(dashboard, definitions.datasets, arns)
        page = _read(pages[dashboard.id])
        assert page.sheet_order == [sheet["SheetId"] for sheet in body["Sheets"]], dashboard.id
        assert page.tabs == {sheet["SheetId"]: sheet["Name"] for sheet in body["Sheets"]}
        deployed = [
            {
                "sheet": sheet["SheetId"],
                "id": visual["VisualId"],
                "type": _model_type(key, visual),
                "title": visual["Title"]["FormatText"]["PlainText"],
                "subtitle": visual["Subtitle"]["FormatText"]["PlainText"],
            }
            for sheet in body["Sheets"]
            for key, visual in (next(iter(v.items())) for v in sheet["Visuals"])
        ]
        assert page.visuals == deployed, dashboard.id
        controlled = {
            next(iter(control.values()))["SourceParameterName"]
            for sheet in body["Sheets"]
            for control in sheet.get("ParameterControls", [])
        }
        assert page.parameter_inputs == controlled, dashboard.id
        compared += len(deployed)
    assert compared == sum(len(d.visuals) for d in definitions.dashboards.values()) > 40
