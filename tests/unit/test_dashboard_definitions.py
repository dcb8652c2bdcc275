"""The dashboard definitions: the committed ones load and cover the issue's dashboards, and a
broken one is refused at load with the file and the path of the bad key."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from quicksight_templates.loader import TEMPLATES_DIR, DefinitionError, load_definitions
from quicksight_templates.model import MAX_SHEETS_PER_DASHBOARD, MAX_VISUALS_PER_SHEET

Mutation = Callable[[dict[str, Any]], None]


def test_the_committed_definitions_load_in_their_order():
    definitions = load_definitions()

    assert list(definitions.dashboards) == [
        "executive-overview",
        "sales-performance",
        "funnel-behaviour",
        "customers",
        "inventory",
        "real-time",
        "data-quality",
    ]
    counts = {key: len(item.visuals) for key, item in definitions.dashboards.items()}
    assert counts == {
        "executive-overview": 9,
        "sales-performance": 8,
        "funnel-behaviour": 13,
        "customers": 10,
        "inventory": 6,
        "real-time": 9,
        "data-quality": 8,
    }


def test_every_visual_type_of_the_issue_is_used():
    definitions = load_definitions()
    used = {visual.type for item in definitions.dashboards.values() for visual in item.visuals}

    assert used == {
        "kpi", "line", "bar", "stacked_bar", "table", "pivot", "funnel", "heatmap", "scatter",
        "donut",
    }  # fmt: skip


def test_live_datasets_are_direct_query_and_the_rest_spice_with_a_refresh():
    datasets = load_definitions().datasets.values()

    live = sorted(item.id for item in datasets if item.source == "live")
    assert live == ["live_abandonment_alerts", "live_carts", "live_minutes", "live_products"]
    for dataset in datasets:
        if dataset.source == "live":
            assert (dataset.import_mode, dataset.refresh) == ("DIRECT_QUERY", None)
        else:
            assert dataset.import_mode == "SPICE"
            assert dataset.refresh is not None


def test_datasets_shared_with_the_analysts_are_their_sql_files():
    definitions = load_definitions()
    query = TEMPLATES_DIR.parent / "contracts/warehouse/queries/007_at_risk_customers.sql"

    assert definitions.datasets["at_risk_customers"].analyst_query == "at_risk_customers"
    assert definitions.sql["at_risk_customers"] in query.read_text(encoding="utf-8")


@pytest.fixture
def templates(tmp_path: Path) -> Path:
    """A copy of quicksight_templates to break."""
    root = tmp_path / "templates"
    shutil.copytree(TEMPLATES_DIR, root, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return root


def _edit(root: Path, relative: str, mutate: Mutation) -> Path:
    path = root / relative
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    mutate(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def _refused(root: Path, relative: str, mutate: Mutation) -> DefinitionError:
    path = _edit(root, relative, mutate)
    with pytest.raises(DefinitionError) as raised:
        load_definitions(root)
    assert raised.value.file == path
    assert str(raised.value).startswith(f"{path}: ")
    return raised.value


def _visual(data: dict[str, Any], sheet: int, visual: int) -> dict[str, Any]:
    return data["sheets"][sheet]["visuals"][visual]


def test_an_unknown_dataset_names_the_visual(templates: Path):
    def mutate(data):
        _visual(data, 0, 2)["dataset"] = "sales_hourly"

    error = _refused(templates, "dashboards/executive-overview.yaml", mutate)

    assert error.path == "sheets[0].visuals[2].dataset"
    assert "unknown dataset 'sales_hourly'" in str(error)


def test_an_unknown_column_names_the_measure(templates: Path):
    def mutate(data):
        _visual(data, 1, 2)["measures"][3]["denominator"] = "sessions"

    error = _refused(templates, "dashboards/sales-performance.yaml", mutate)

    assert error.path == "sheets[1].visuals[2].measures[3].denominator"
    assert "'product_performance' has no numeric column 'sessions'" in str(error)


def test_an_unknown_dimension_column_names_the_dimension(templates: Path):
    def mutate(data):
        _visual(data, 0, 2)["dimensions"][1]["column"] = "device"

    error = _refused(templates, "dashboards/inventory.yaml", mutate)

    assert error.path == "sheets[0].visuals[2].dimensions[1].column"
    assert "dataset 'inventory_latest' has no column 'device'" in str(error)


def test_an_unknown_parameter_names_the_filter(templates: Path):
    def mutate(data):
        data["filters"][3]["parameter"] = "storefront"

    error = _refused(templates, "dashboards/executive-overview.yaml", mutate)

    assert error.path == "filters[3].parameter"
    assert "unknown parameter 'storefront'" in str(error)


def test_an_unknown_visual_in_a_filter_scope_is_named(templates: Path):
    def mutate(data):
        data["filters"][3]["visuals"][1] = "cart-abandonment-rate"

    error = _refused(templates, "dashboards/funnel-behaviour.yaml", mutate)

    assert error.path == "filters[3].visuals[1]"
    assert "unknown visual 'cart-abandonment-rate'" in str(error)


def test_a_filter_scoped_to_a_visual_of_another_dataset_is_refused(templates: Path):
    def mutate(data):
        data["filters"][3]["visuals"][0] = "funnel-steps"

    error = _refused(templates, "dashboards/funnel-behaviour.yaml", mutate)

    assert error.path == "filters[3].visuals[0]"
    assert "shows 'funnel_steps', not 'funnel_daily'" in str(error)


def test_a_filter_on_a_dataset_no_visual_shows_is_refused(templates: Path):
    def mutate(data):
        data["filters"][0]["dataset"] = "inventory_latest"
        data["filters"][0]["column"] = "category_name"

    error = _refused(templates, "dashboards/customers.yaml", mutate)

    assert error.path == "filters[0].dataset"
    assert "no visual of the dashboard uses dataset 'inventory_latest'" in str(error)


def test_a_date_range_on_a_text_column_is_refused(templates: Path):
    def mutate(data):
        data["filters"][0]["column"] = "category_name"

    error = _refused(templates, "dashboards/sales-performance.yaml", mutate)

    assert error.path == "filters[0].column"
    assert "'category_name' is STRING" in str(error)


def test_a_parameter_no_filter_uses_is_refused(templates: Path):
    def mutate(data):
        data["parameters"].append({"name": "device", "label": "Device", "kind": "string",
                                   "values": ["desktop", "phone"]})  # fmt: skip

    error = _refused(templates, "dashboards/inventory.yaml", mutate)

    assert error.path == "parameters[1].name"


def test_duplicate_visual_ids_are_named_at_the_second(templates: Path):
    def mutate(data):
        _visual(data, 1, 0)["id"] = "funnel-steps"

    error = _refused(templates, "dashboards/funnel-behaviour.yaml", mutate)

    assert error.path == "sheets[1].visuals[0].id"
    assert "duplicate visual id 'funnel-steps'" in str(error)


def test_duplicate_sheet_ids_are_named(templates: Path):
    def mutate(data):
        data["sheets"][2]["id"] = "trend"

    error = _refused(templates, "dashboards/sales-performance.yaml", mutate)

    assert error.path == "sheets[2].id"


def test_duplicate_dataset_ids_name_the_catalog_entry(templates: Path):
    def mutate(data):
        data["datasets"][4]["id"] = "funnel_daily"

    error = _refused(templates, "datasets.yaml", mutate)

    assert error.path == "datasets[4].id"
    assert "duplicate id 'funnel_daily'" in str(error)


def test_a_missing_sql_file_and_an_unknown_analyst_query_are_named(templates: Path):
    def no_file(data):
        data["datasets"][2]["sql_file"] = "funnel_long.sql"

    missing = _refused(templates, "datasets.yaml", no_file)
    assert missing.path == "datasets[2].sql_file"

    def unknown_query(data):
        data["datasets"][2].pop("sql_file")
        data["datasets"][2]["analyst_query"] = "funnel_steps"

    unknown = _refused(templates, "datasets.yaml", unknown_query)
    assert unknown.path == "datasets[2].analyst_query"
    assert "unknown analysts' query 'funnel_steps'" in str(unknown)


def test_a_shape_error_names_the_key_path(templates: Path):
    def mutate(data):
        _visual(data, 0, 0)["measures"].append({"column": "orders", "aggregation": "SUM"})

    error = _refused(templates, "dashboards/executive-overview.yaml", mutate)

    assert error.path == "sheets[0].visuals[0]"
    assert "a kpi visual takes 0-1 dimension(s) and 1 measure(s), not 1 and 2" in str(error)


def test_an_unknown_key_is_refused_with_its_path(templates: Path):
    def mutate(data):
        _visual(data, 0, 3)["colour"] = "orange"

    error = _refused(templates, "dashboards/real-time.yaml", mutate)

    assert error.path == "sheets[0].visuals[3].colour"
    assert "Extra inputs are not permitted" in str(error)


def test_a_spice_dataset_without_a_refresh_is_refused(templates: Path):
    def mutate(data):
        data["datasets"][1].pop("refresh")

    error = _refused(templates, "datasets.yaml", mutate)

    assert error.path == "datasets[1]"
    assert "a SPICE dataset needs a refresh schedule" in str(error)


def test_overlapping_visuals_are_refused(templates: Path):
    def mutate(data):
        _visual(data, 0, 1)["layout"] = {"column": 6, "row": 2, "width": 9, "height": 6}

    error = _refused(templates, "dashboards/executive-overview.yaml", mutate)

    assert error.path == "sheets[0].visuals[1].layout"
    assert "overlaps visual 'kpi-revenue' at row 2, column 6" in str(error)


def test_a_visual_wider_than_the_grid_is_refused(templates: Path):
    def mutate(data):
        _visual(data, 0, 3)["layout"]["column"] = 30

    error = _refused(templates, "dashboards/executive-overview.yaml", mutate)

    assert error.path == "sheets[0].visuals[3].layout"
    assert "column + width must be at most 36" in str(error)


def _small_visual(index: int, sheet: int = 0) -> dict[str, Any]:
    return {
        "id": f"v-{sheet}-{index}",
        "type": "kpi",
        "title": "On hand",
        "subtitle": "Units on hand.",
        "dataset": "inventory_latest",
        "measures": [{"column": "on_hand", "aggregation": "SUM"}],
        "layout": {"column": index % 36, "row": index // 36, "width": 1, "height": 1},
    }


def test_quicksight_limits_visuals_per_sheet(templates: Path):
    def mutate(data):
        data["sheets"] = [
            {"id": "full", "title": "Full", "visuals": [_small_visual(i) for i in range(76)]}
        ]

    error = _refused(templates, "dashboards/inventory.yaml", mutate)

    assert MAX_VISUALS_PER_SHEET == 75
    assert error.path == "sheets[0].visuals"
    assert "76 visuals; QuickSight allows 75 a sheet" in str(error)


def test_quicksight_limits_sheets_per_dashboard(templates: Path):
    def mutate(data):
        data["sheets"] = [
            {"id": f"s-{i}", "title": "Sheet", "visuals": [_small_visual(0, i)]} for i in range(21)
        ]

    error = _refused(templates, "dashboards/inventory.yaml", mutate)

    assert MAX_SHEETS_PER_DASHBOARD == 20
    assert error.path == "sheets"
    assert "21 sheets; QuickSight allows 20" in str(error)


def test_twenty_sheets_and_seventy_five_visuals_are_allowed(templates: Path):
    def mutate(data):
        data["sheets"] = [
            {"id": f"s-{i}", "title": "Sheet", "visuals": [_small_visual(0, i)]} for i in range(19)
        ]
        data["sheets"].append(
            {"id": "full", "title": "Full", "visuals": [_small_visual(i, 19) for i in range(75)]}
        )
        data["filters"] = [f for f in data["filters"] if f["dataset"] == "inventory_latest"]

    _edit(templates, "dashboards/inventory.yaml", mutate)

    loaded = load_definitions(templates).dashboards["inventory"]
    assert (len(loaded.sheets), len(loaded.sheets[-1].visuals)) == (20, 75)


def test_invalid_yaml_names_the_line(templates: Path):
    path = templates / "dashboards/real-time.yaml"
    path.write_text("id: real-time\nposition: 6\nsheets: [unclosed\n", encoding="utf-8")

    with pytest.raises(DefinitionError, match=r"real-time\.yaml: line 4: "):
        load_definitions(templates)


def test_a_file_named_unlike_its_id_is_refused(templates: Path):
    (templates / "dashboards/inventory.yaml").rename(templates / "dashboards/stock.yaml")

    with pytest.raises(DefinitionError, match=r"stock\.yaml: id: 'inventory' differs"):
        load_definitions(templates)


def test_the_docs_describe_every_dashboard_and_visual():
    docs = (TEMPLATES_DIR.parent / "docs" / "dashboards.md").read_text(encoding="utf-8")

    for dashboard in load_definitions().dashboards.values():
        section = docs.split(f"\n### {dashboard.title}\n", 1)[1].split("\n### ", 1)[0]
        assert f"images/dashboards/{dashboard.id}.png" in section
        for visual in dashboard.visuals:
            assert f"\n| {visual.title} | " in section, visual.id
