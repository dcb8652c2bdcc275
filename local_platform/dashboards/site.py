"""Write the dashboards as a self-contained, offline site: index.html and one page per
dashboard, each page carrying Vega-Lite's bundle once (vl-convert ships it, so no CDN), its
datasets' rows once, and a spec per visual.

The page's script applies the dashboard's filters to the rows (the parameter controls at the
top), hands each visual its dataset's remaining rows, and shows "no data" with the reason
instead of a chart when none remain. Ids, titles and formats are the definition's, so the page
and the QuickSight dashboard show the same thing.
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from local_platform.dashboards.charts import (
    CELL_HEIGHT,
    CELL_WIDTH,
    VEGA_LITE_VERSION,
    vega_lite_spec,
)
from local_platform.dashboards.datasets import DatasetRows
from quicksight_templates.loader import Definitions
from quicksight_templates.model import GRID_COLUMNS, Dashboard, Parameter, Visual

INDEX = "index.html"
NO_ROWS_FOR_FILTERS = "No data for the chosen filters."


@dataclass(frozen=True)
class WrittenPage:
    dashboard_id: str
    path: Path
    bytes: int


@cache
def _vega_bundle() -> str:
    import vl_convert

    return vl_convert.javascript_bundle(vl_version=VEGA_LITE_VERSION)


def page_name(dashboard: Dashboard) -> str:
    return f"{dashboard.id}.html"


def write_site(
    definitions: Definitions,
    rows: dict[str, DatasetRows],
    out_dir: Path,
    source: str,
    on_page: Callable[[WrittenPage], None] | None = None,
) -> list[WrittenPage]:
    """Write every dashboard's page and the index; `source` says what the data came from."""
    out_dir.mkdir(parents=True, exist_ok=True)
    built_at = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    pages = []
    for dashboard in definitions.dashboards.values():
        path = out_dir / page_name(dashboard)
        path.write_text(_dashboard_page(definitions, dashboard, rows, built_at), encoding="utf-8")
        page = WrittenPage(dashboard.id, path, path.stat().st_size)
        pages.append(page)
        if on_page is not None:
            on_page(page)
    index = out_dir / INDEX
    index.write_text(_index_page(definitions, rows, source, built_at), encoding="utf-8")
    return pages


def _script_json(value: Any) -> str:
    """JSON safe inside a <script> element."""
    return json.dumps(value, separators=(",", ":")).replace("</", "<\\/")


def _nav(definitions: Definitions, current: str | None) -> str:
    links = [f'<a href="{INDEX}"{" class=current" if current is None else ""}>Dashboards</a>']
    for dashboard in definitions.dashboards.values():
        marker = ' class="current"' if dashboard.id == current else ""
        links.append(f'<a href="{page_name(dashboard)}"{marker}>{html.escape(dashboard.title)}</a>')
    return f"<nav>{''.join(links)}</nav>"


def _index_page(
    definitions: Definitions, rows: dict[str, DatasetRows], source: str, built_at: str
) -> str:
    cards = []
    for dashboard in definitions.dashboards.values():
        empty = [dataset_id for dataset_id in dashboard.dataset_ids if not rows[dataset_id].rows]
        state = (
            f'<p class="warning">{len(empty)} of {len(dashboard.dataset_ids)} datasets empty: '
            f"{html.escape(', '.join(empty))}</p>"
            if empty
            else ""
        )
        sheets = ", ".join(html.escape(sheet.title) for sheet in dashboard.sheets)
        cards.append(
            f'<li><a href="{page_name(dashboard)}">{html.escape(dashboard.title)}</a>'
            f"<p>{html.escape(dashboard.description)}</p>"
            f'<p class="meta">{len(dashboard.visuals)} visuals on {sheets}</p>{state}</li>'
        )
    body = (
        f"{_nav(definitions, None)}<header><h1>Dashboards</h1>"
        "<p>The QuickSight dashboards of quicksight_templates/, rendered from "
        f"{html.escape(source)} on {built_at}.</p></header><ul class=index>{''.join(cards)}</ul>"
    )
    return _html("Dashboards", body, scripts="")


def _dashboard_page(
    definitions: Definitions, dashboard: Dashboard, rows: dict[str, DatasetRows], built_at: str
) -> str:
    data = {
        dataset_id: _page_rows(rows[dataset_id], _used_columns(dashboard, dataset_id))
        for dataset_id in dashboard.dataset_ids
    }
    text_lengths = {dataset_id: _longest_texts(rows[dataset_id]) for dataset_id in data}
    visuals = [
        {
            "id": visual.id,
            "dataset": visual.dataset,
            "spec": vega_lite_spec(
                visual, definitions.datasets[visual.dataset], text_lengths[visual.dataset]
            ),
        }
        for visual in dashboard.visuals
    ]
    page = {
        "dashboard": dashboard.id,
        "datasets": data,
        "visuals": visuals,
        "parameters": {item.name: {"kind": item.kind} for item in dashboard.parameters},
        "filters": [item.model_dump() for item in dashboard.filters],
        "noRowsForFilters": NO_ROWS_FOR_FILTERS,
    }
    controls = "".join(_control(item, dashboard, rows) for item in dashboard.parameters)
    tabs = "".join(
        f'<button type="button" role="tab" data-sheet="{sheet.id}"'
        f"{' aria-selected=true' if index == 0 else ''}>{html.escape(sheet.title)}</button>"
        for index, sheet in enumerate(dashboard.sheets)
    )
    sheets = "".join(
        f'<section class="sheet" id="sheet-{sheet.id}"{"" if index == 0 else " hidden"}>'
        + (
            f'<p class="sheet-description">{html.escape(sheet.description)}</p>'
            if sheet.description
            else ""
        )
        + '<div class="grid">'
        + "".join(_card(visual) for visual in sheet.visuals)
        + "</div></section>"
        for index, sheet in enumerate(dashboard.sheets)
    )
    body = (
        f"{_nav(definitions, dashboard.id)}<header><h1>{html.escape(dashboard.title)}</h1>"
        f"<p>{html.escape(dashboard.description)}</p>"
        f'<p class="meta">Built {built_at}.</p></header>'
        + (f'<form class="controls" onsubmit="return false">{controls}</form>' if controls else "")
        + f'<div class="tabs" role="tablist">{tabs}</div>{sheets}'
    )
    scripts = (
        f"<script>{_vega_bundle()}</script>"
        f'<script type="application/json" id="dashboard-data">{_script_json(page)}</script>'
        f"<script>{_asset('page.js')}</script>"
    )
    return _html(dashboard.title, body, scripts)


def _used_columns(dashboard: Dashboard, dataset_id: str) -> set[str]:
    """The columns of a dataset that the dashboard's visuals and filters read."""
    used = set()
    for visual in dashboard.visuals:
        if visual.dataset == dataset_id:
            used |= {field.column for field in visual.fields}
            used |= {m.denominator for m in visual.measures if m.denominator is not None}
    used |= {item.column for item in dashboard.filters if item.dataset == dataset_id}
    return used


def _longest_texts(dataset: DatasetRows) -> dict[str, int]:
    """Each column's longest value as text, in characters: how a table shares its width."""
    return {
        column: max((len(str(row[index])) for row in dataset.rows), default=0)
        for index, column in enumerate(dataset.columns)
    }


def _page_rows(dataset: DatasetRows, columns: set[str]) -> dict[str, Any]:
    """The dataset as the page carries it: only the columns it reads, so a page's weight
    grows with what it shows, not with the width of its datasets."""
    keep = [index for index, name in enumerate(dataset.columns) if name in columns]
    return {
        "columns": [dataset.columns[index] for index in keep],
        "rows": [[row[index] for index in keep] for row in dataset.rows],
        "note": dataset.note,
    }


def _card(visual: Visual) -> str:
    box = visual.layout
    style = (
        f"grid-column:{box.column + 1}/span {box.width};grid-row:{box.row + 1}/span {box.height}"
    )
    return (
        f'<article class="visual" id="visual-{visual.id}" data-visual="{visual.id}" '
        f'data-type="{visual.type}" style="{style}">'
        f"<h2>{html.escape(visual.title)}</h2>"
        f'<p class="subtitle">{html.escape(visual.subtitle)}</p>'
        f'<div class="chart" id="chart-{visual.id}"></div>'
        f'<p class="no-data" hidden></p></article>'
    )


def _control(parameter: Parameter, dashboard: Dashboard, rows: dict[str, DatasetRows]) -> str:
    label = html.escape(parameter.label)
    if parameter.kind == "date_range":
        low, high = _date_bounds(parameter, dashboard, rows)
        bounds = f' min="{low}" max="{high}"' if low and high else ""
        start = ""
        if parameter.default_days is not None and low and high:
            first = date.fromisoformat(high) - timedelta(days=parameter.default_days - 1)
            start = f' value="{max(first, date.fromisoformat(low)).isoformat()}"'
        return (
            f"<fieldset><legend>{label}</legend>"
            f'<input type="date" id="param-{parameter.name}From" data-parameter="{parameter.name}"'
            f' data-bound="from" aria-label="{label} from"{bounds}{start}>'
            f'<span>to</span><input type="date" id="param-{parameter.name}To"'
            f' data-parameter="{parameter.name}" data-bound="to" aria-label="{label} to"{bounds}>'
            "</fieldset>"
        )
    if parameter.values_from is None:
        values = list(parameter.values or [])
    else:
        found = rows[parameter.values_from.dataset].column_values(parameter.values_from.column)
        values = sorted({str(value) for value in found if value is not None})
    options = '<option value="">All</option>' + "".join(
        f'<option value="{html.escape(value)}">{html.escape(value)}</option>' for value in values
    )
    return (
        f'<fieldset><legend>{label}</legend><select id="param-{parameter.name}"'
        f' data-parameter="{parameter.name}" aria-label="{label}">{options}</select></fieldset>'
    )


def _date_bounds(
    parameter: Parameter, dashboard: Dashboard, rows: dict[str, DatasetRows]
) -> tuple[str | None, str | None]:
    """The earliest and latest date the parameter's filtered columns hold (for the inputs)."""
    moments = [
        value
        for item in dashboard.filters
        if item.parameter == parameter.name
        for value in rows[item.dataset].column_values(item.column)
        if value is not None
    ]
    if not moments:
        return None, None

    def day(ms: int) -> str:
        return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d")

    return day(min(moments)), day(max(moments))


@cache
def _asset(name: str) -> str:
    return (Path(__file__).resolve().parent / name).read_text(encoding="utf-8")


def _html(title: str, body: str, scripts: str) -> str:
    # The grid's sizes come from charts.py, so the cards and the plots inside them agree.
    sizes = (
        f":root{{--columns:{GRID_COLUMNS};--column-width:{CELL_WIDTH}px;"
        f"--row-height:{CELL_HEIGHT}px;--sheet-width:{GRID_COLUMNS * CELL_WIDTH}px}}"
    )
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<link rel="icon" href="data:,">'
        f"<title>{html.escape(title)}</title><style>{sizes}{_asset('page.css')}</style></head>"
        f"<body>{body}{scripts}</body></html>"
    )
