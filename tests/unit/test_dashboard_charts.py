"""The local dashboards' charts and pages: a visual's Vega-Lite spec, rendered without a browser
(vl-convert), shows the figures worked out by hand; the pages carry the definition's ids and
titles, one Vega-Lite bundle and nothing from the network; `ecom dashboards` fails in one
line on bad input."""

from __future__ import annotations

import html
import json
import re
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest
import vl_convert
from typer.testing import CliRunner

from contracts.warehouse.tables import customer_scores_table, mart_tables
from local_platform.cli import app
from local_platform.dashboards import build as build_module
from local_platform.dashboards.charts import chart_size, vega_lite_spec
from local_platform.demo import dashboards, ml, recommendations
from local_platform.demo.pipeline import STAGES
from quicksight_templates.loader import load_definitions

DEFINITIONS = load_definitions()
runner = CliRunner()


def _ms(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp() * 1000)


def _text_marks(dashboard: str, visual_id: str, rows: list[dict[str, Any]]) -> dict[str, list]:
    """The texts of the visual rendered on these rows, top to bottom, by the field Vega names
    first in a mark's description ("text" for marks and titles without one)."""
    visual = next(v for v in DEFINITIONS.dashboards[dashboard].visuals if v.id == visual_id)
    spec = vega_lite_spec(visual, DEFINITIONS.datasets[visual.dataset])
    spec["data"] = {"name": "rows", "values": rows}
    svg = vl_convert.vegalite_to_svg(spec, vl_version="6.4")
    marks: dict[str, list[tuple[float, str]]] = {}
    for attributes, content in re.findall(r"<text([^>]*)>(.*?)</text>", svg):
        label = re.search(r'aria-label="([^":]*)', attributes)
        y = re.search(r"translate\([-\d.]+,([-\d.]+)\)", attributes)
        field = label[1] if label else "text"
        marks.setdefault(field, []).append((float(y[1]) if y else 0.0, html.unescape(content)))
    return {field: [text for _, text in sorted(found)] for field, found in marks.items()}


def _sale(day: date, orders: int, revenue: float, channel: str = "web") -> dict[str, Any]:
    return {
        "order_date": _ms(day), "category_name": "Garden", "channel": channel,
        "orders": orders, "units": orders, "revenue": revenue, "refunded_orders": 0,
        "refunds": 0.0, "net_revenue": revenue,
    }  # fmt: skip


def test_a_kpi_compares_the_latest_complete_week_with_the_one_before():
    rows = [
        _sale(date(2026, 1, 6), 3, 120.0),  # week of 5 Jan: 5 orders, $200
        _sale(date(2026, 1, 9), 2, 80.0, "mobile_app"),
        _sale(date(2026, 1, 12), 1, 100.0),  # week of 12 Jan: 4 orders, $300
        _sale(date(2026, 1, 18), 3, 200.0),  # (Sunday: the week is complete)
        _sale(date(2026, 1, 19), 9, 9000.0),  # Monday 19 Jan: a partial week, left out
    ]

    marks = _text_marks("executive-overview", "kpi-aov", rows)

    assert marks == {"text": ["$75.00", "▲ 87.5% vs previous week", "Week of 12 Jan"]}


def test_a_kpi_without_a_previous_week_says_so():
    rows = [_sale(date(2026, 1, 12), 4, 1234.0), _sale(date(2026, 1, 18), 1, 1.0)]

    marks = _text_marks("executive-overview", "kpi-revenue", rows)

    assert marks == {"text": ["$1,235", "no previous week to compare", "Week of 12 Jan"]}


def test_the_funnel_labels_each_step_with_its_share_of_the_one_before():
    rows = [
        {"session_date": _ms(date(2026, 1, 5)), "channel": channel, "step_order": order,
         "step": step, "sessions": sessions}
        for channel, counts in (("web", (600, 300, 30)), ("mobile_app", (200, 100, 10)))
        for order, step, sessions in zip((1, 2, 3), ("1 session", "2 product view",
                                                     "3 add to cart"), counts, strict=True)
    ]  # fmt: skip

    marks = _text_marks("funnel-behaviour", "funnel-steps", rows)

    assert marks["m0"] == ["800", "400 (50% of the step before)", "40 (10% of the step before)"]
    assert marks["text"] == ["1 session", "2 product view", "3 add to cart"]  # the step axis


def test_a_table_keeps_the_top_rows_by_its_sort_with_their_formats():
    rows = [
        {"product_id": product, "product_name": f"Kite {product}", "category_name": "Toys",
         "views": 100, "view_sessions": 50,
         "purchase_sessions": product % 5, "orders": product, "units": 2 * product,
         "revenue": 10.0 * product, "refunded_orders": 0}
        for product in range(1, 26)
    ]  # fmt: skip

    marks = _text_marks("sales-performance", "top-products", rows)

    # 20 rows, by revenue: products 25 down to 6.
    assert marks["d0_text"] == [str(product) for product in range(25, 5, -1)]
    assert marks["d1_text"][:2] == ["Kite 25", "Kite 24"]
    assert marks["m0_text"][:2] == ["$250", "$240"]
    assert marks["m0_text"][-1] == "$60"
    # View to purchase: product 25 had 0 purchase sessions of 50, 24 had 4, 23 had 3.
    assert marks["m3_text"][:3] == ["0.0%", "8.0%", "6.0%"]


def test_a_tables_headers_wrap_and_its_text_column_keeps_room_for_its_values():
    # Seven numeric columns beside one text column in half the page: before, every numeric
    # column took an equal share and both "cannot_lose" and "Days since last order" were cut.
    rows = [
        {"user_id": user, "segment": segment, "monetary": spend, "frequency": 3,
         "recency_days": 40, "visit_trend": 2, "tickets": 1, "refunds": 0}
        for user, segment, spend in [(98, "cannot_lose", 1342.0), (7, "at_risk", 1234567.0)]
    ]  # fmt: skip

    marks = _text_marks("customers", "at-risk-customers", rows)

    assert marks["d1_text"] == ["cannot_lose", "at_risk"]
    assert marks["d2_text"] == ["$1,342", "$1,234,567"]
    headers = [re.findall(r"<tspan[^>]*>([^<]*)</tspan>", text) for text in marks["text"]]
    assert ["Days since", "last order"] in headers
    assert ["Visit", "trend"] in headers
    assert sorted(" ".join(lines) for lines in headers if lines) == sorted(
        ["Customer", "Segment", "Spend", "Orders", "Days since last order", "Visit trend",
         "Tickets", "Refunds"]
    )  # fmt: skip
    assert not [text for texts in marks.values() for text in texts if "…" in text]


def test_text_columns_share_a_tables_room_by_their_longest_values():
    visual = next(
        v for v in DEFINITIONS.dashboards["inventory"].visuals if v.id == "products-running-out"
    )
    dataset = DEFINITIONS.datasets[visual.dataset]
    lengths = {column.name: 6 for column in dataset.columns}

    def widths(text_lengths: dict[str, int] | None) -> list[int]:
        return [
            column["width"] for column in vega_lite_spec(visual, dataset, text_lengths)["hconcat"]
        ]

    equal = widths(None)
    # Product and Risk are the text columns; the five numeric ones keep their widths throughout.
    assert equal == [118, 118, 56, 56, 56, 68, 72]
    room = 118 + 118
    # Too little room for both: Risk ("out_of_stock", 12 characters) needs 12 * 8 + 6 = 102 px
    # and gets them; Product (30) would need 246 and takes the other 134 (it was Risk that was
    # cut before: "medi…").
    assert widths({**lengths, "product_name": 30, "risk": 12}) == [room - 102, 102, *equal[2:]]
    # Enough room for both: each gets its need (Product 8 characters: 70 px; Risk by its title,
    # 4: 38) and the 128 px left over in proportion, 128 * 70 // 108 = 82, 128 * 38 // 108 = 45.
    assert widths({**lengths, "product_name": 8, "risk": 3}) == [70 + 82, 38 + 45, *equal[2:]]
    # Both past the 40-character cap: equal needs, equal room.
    assert widths({**lengths, "product_name": 55, "risk": 41}) == equal


def test_a_chart_with_axes_is_drawn_within_its_cards_plot_width():
    # Vega's padding used to come on top of the width: the card clipped the last tick label.
    visual = next(v for v in DEFINITIONS.dashboards["customers"].visuals if v.id == "segment-sizes")
    rows = [{"user_id": user, "segment": "lost" if user <= 10 else "new"} for user in range(1, 15)]
    spec = vega_lite_spec(visual, DEFINITIONS.datasets[visual.dataset])
    spec["data"] = {"name": "rows", "values": rows}

    svg = vl_convert.vegalite_to_svg(spec, vl_version="6.4")

    width = float(re.search(r'<svg[^>]* width="([\d.]+)"', svg)[1])
    assert width == chart_size(visual)[0] == 18 * 36 - 30


def _empty_warehouse(path: Path) -> Path:
    with duckdb.connect(str(path)) as connection:
        for table in [*mart_tables().values(), customer_scores_table()]:
            columns = ", ".join(f"{column.name} {column.type}" for column in table.columns)
            connection.execute(f"CREATE TABLE {table.name} ({columns})")
    return path


def test_the_pages_carry_the_definitions_ids_and_titles_and_nothing_from_the_network(
    tmp_path: Path,
):
    site = tmp_path / "site"
    result = runner.invoke(
        app,
        ["dashboards", "build", "--out", str(site), "--warehouse",
         str(_empty_warehouse(tmp_path / "w.duckdb")), "--no-live"],
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    assert result.output.strip().splitlines()[-1] == str(site / "index.html")
    index = (site / "index.html").read_text(encoding="utf-8")
    for dashboard in DEFINITIONS.dashboards.values():
        page = (site / f"{dashboard.id}.html").read_text(encoding="utf-8")
        assert f'href="{dashboard.id}.html"' in index
        assert page.count("window.vegaEmbed=") == 1
        assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)
        data = json.loads(
            re.search(
                r'<script type="application/json" id="dashboard-data">(.*?)</script>', page, re.S
            )[1]
        )
        assert [item["id"] for item in data["visuals"]] == [v.id for v in dashboard.visuals]
        assert sorted(data["datasets"]) == sorted(dashboard.dataset_ids)
        for visual in dashboard.visuals:
            card = re.search(rf'<article class="visual" id="visual-{visual.id}".*?</article>',
                             page, re.S)[0]  # fmt: skip
            assert f"<h2>{visual.title}</h2>" in card.replace("&#x27;", "'")
            assert f'data-type="{visual.type}"' in card


def test_the_dashboards_stage_ends_the_demo_after_the_models_and_recommendations():
    assert STAGES[-3:] == (ml.run, recommendations.run, dashboards.run)


def test_serve_without_a_built_site_fails_in_one_line(tmp_path: Path):
    result = runner.invoke(app, ["dashboards", "serve", "--out", str(tmp_path / "none")])

    assert result.exit_code == 1
    assert result.output.strip() == (
        f"error: no dashboards site in {tmp_path / 'none'}: run `ecom dashboards build` first"
    )


def test_a_broken_definition_stops_the_build_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    broken = tmp_path / "templates"
    broken.mkdir()
    (broken / "datasets.yaml").write_text("datasets: []\n", encoding="utf-8")
    monkeypatch.setattr(build_module, "load_definitions", lambda: load_definitions(broken))

    result = runner.invoke(
        app, ["dashboards", "build", "--out", str(tmp_path / "site"), "--no-live"]
    )

    assert result.exit_code == 1
    assert " ".join(result.output.split()) == (
        f"error: {broken / 'datasets.yaml'}: datasets: List should have at least 1 item after"
        " validation, not 0"
    )
    assert not (tmp_path / "site").exists()
