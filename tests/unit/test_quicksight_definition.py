"""QuickSight's form of the dashboard definitions (quicksight_templates/quicksight.py).

- Every generated Definition, dataset and refresh schedule validates offline against
  botocore's QuickSight model, with a strict walk for enums, bounds and patterns.
- The generated JSON is consistent with itself: columns exist in their dataset, ids are
  unique and resolve, layouts place exactly the visuals, QuickSight's limits hold.
- A small fixture dashboard with one visual of every type pins how each model type, format,
  aggregation, filter and parameter is spelled in QuickSight's terms.
- Parity: the ids, types and titles of every definition equal the model's.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.validate import ParamValidator
from botocore_strict import input_shape, problems, validate

from data_generators.orders import CURRENCY as SHOP_CURRENCY
from local_platform.dashboards.charts import number_format
from quicksight_templates.loader import Definitions, load_definitions
from quicksight_templates.model import Dashboard, Dataset, DatasetCatalog, VisualField
from quicksight_templates.quicksight import (
    CURRENCY,
    data_set_properties,
    definition,
    numeric_format,
    refresh_schedule,
)

ACCOUNT = "111122223333"
SOURCE_ARN = f"arn:aws:quicksight:eu-west-1:{ACCOUNT}:datasource/ecommerce-dev-warehouse"
# The visual key QuickSight uses for each model type, written out here on purpose (not
# imported) so the mapping in the module is checked against a second statement of it.
QUICKSIGHT_KEY = {
    "kpi": "KPIVisual",
    "line": "LineChartVisual",
    "bar": "BarChartVisual",
    "stacked_bar": "BarChartVisual",
    "table": "TableVisual",
    "pivot": "PivotTableVisual",
    "funnel": "FunnelChartVisual",
    "heatmap": "HeatMapVisual",
    "scatter": "ScatterPlotVisual",
    "donut": "PieChartVisual",
}
# QuickSight's quotas (User Guide, "Service quotas") and grid width.
MAX_SHEETS, MAX_VISUALS_PER_SHEET, GRID_COLUMNS = 20, 50, 36


def _arn(dataset_id: str) -> str:
    return f"arn:aws:quicksight:eu-west-1:{ACCOUNT}:dataset/ecommerce-dev-{dataset_id}"


@pytest.fixture(scope="module")
def definitions() -> Definitions:
    return load_definitions()


def _definition(definitions: Definitions, dashboard: Dashboard) -> dict[str, Any]:
    arns = {dataset_id: _arn(dataset_id) for dataset_id in definitions.datasets}
    return definition(dashboard, definitions.datasets, arns)


def _all_definitions(definitions: Definitions) -> Iterator[tuple[Dashboard, dict[str, Any]]]:
    for dashboard in definitions.dashboards.values():
        yield dashboard, _definition(definitions, dashboard)


# The strict walk itself -----------------------------------------------------------------


def test_the_strict_walk_finds_what_botocore_lets_through():
    """An enum, a maximum and a pattern broken: ParamValidator passes all three."""
    params = {
        "AwsAccountId": ACCOUNT,
        "DashboardId": "has space",  # pattern [\w\-]+
        "Name": "x",
        "Definition": {
            "DataSetIdentifierDeclarations": [{"Identifier": "d", "DataSetArn": _arn("d")}],
            "Sheets": [
                {
                    "SheetId": "s",
                    "Visuals": [
                        {
                            "KPIVisual": {
                                "VisualId": "v",
                                "Title": {"Visibility": "SHOWN"},  # enum HIDDEN/VISIBLE
                            }
                        }
                    ],
                    "Layouts": [
                        {
                            "Configuration": {
                                "GridLayout": {
                                    "Elements": [
                                        {
                                            "ElementId": "v",
                                            "ElementType": "VISUAL",
                                            "ColumnSpan": 37,  # max 36
                                            "RowSpan": 4,
                                        }
                                    ]
                                }
                            }
                        }
                    ],
                }
            ],
        },
    }
    shape = input_shape("quicksight", "CreateDashboard")
    assert not ParamValidator().validate(params, shape).has_errors()
    found = problems(params, shape)
    assert len(found) == 3
    assert found[0].startswith(".DashboardId: 'has space' does not match")
    assert "KPIVisual.Title.Visibility: 'SHOWN' is not one of" in found[1]
    assert found[2].endswith("ColumnSpan: 37 is above the maximum 36")


def test_the_strict_walk_reports_unknown_and_missing_keys_with_their_path():
    shape = input_shape("quicksight", "CreateDataSet")
    found = problems({"AwsAccountId": ACCOUNT, "DataSetId": "d", "Nmae": "x"}, shape)
    assert ".Name: required by CreateDataSetRequest" in found
    assert ".Nmae: not a member of CreateDataSetRequest" in found
    assert ".PhysicalTableMap: required by CreateDataSetRequest" in found


# Every real definition against botocore's model -------------------------------------------


def test_every_definition_validates_as_a_dashboard_and_an_analysis(definitions: Definitions):
    checked = 0
    for dashboard, body in _all_definitions(definitions):
        common = {"AwsAccountId": ACCOUNT, "Name": dashboard.title, "Definition": body}
        dashboard_id = f"ecommerce-dev-{dashboard.id}"
        assert (
            validate("quicksight", "CreateDashboard", {**common, "DashboardId": dashboard_id}) == []
        )
        analysis_id = f"{dashboard_id}-analysis"
        assert validate("quicksight", "CreateAnalysis", {**common, "AnalysisId": analysis_id}) == []
        checked += 1
    assert checked == len(definitions.dashboards) >= 7


def test_every_dataset_validates_as_create_data_set(definitions: Definitions):
    for dataset in definitions.datasets.values():
        properties = data_set_properties(dataset, definitions.sql[dataset.id], SOURCE_ARN)
        params = {
            "AwsAccountId": ACCOUNT,
            "DataSetId": f"ecommerce-dev-{dataset.id}",
            "Name": dataset.title,
            **properties,
        }
        assert validate("quicksight", "CreateDataSet", params) == [], dataset.id


def test_every_spice_schedule_validates_as_create_refresh_schedule(definitions: Definitions):
    spice = [d for d in definitions.datasets.values() if d.import_mode == "SPICE"]
    assert spice
    for dataset in spice:
        schedule = refresh_schedule(dataset)
        # CloudFormation says TimeZone where the API says Timezone.
        frequency = dict(schedule["ScheduleFrequency"])
        frequency["Timezone"] = frequency.pop("TimeZone")
        params = {
            "AwsAccountId": ACCOUNT,
            "DataSetId": f"ecommerce-dev-{dataset.id}",
            "Schedule": {**schedule, "ScheduleFrequency": frequency},
        }
        assert validate("quicksight", "CreateRefreshSchedule", params) == [], dataset.id


# Cross-references inside the generated JSON -----------------------------------------------


def _walk(value: Any, key: str) -> Iterator[Any]:
    """Every value stored under `key` anywhere inside value."""
    if isinstance(value, dict):
        for name, item in value.items():
            if name == key:
                yield item
            yield from _walk(item, key)
    elif isinstance(value, list):
        for item in value:
            yield from _walk(item, key)


def _visuals(sheet: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [next(iter(visual.items())) for visual in sheet["Visuals"]]


def test_columns_and_datasets_the_visuals_use_exist(definitions: Definitions):
    for dashboard, body in _all_definitions(definitions):
        declared = {d["Identifier"] for d in body["DataSetIdentifierDeclarations"]}
        assert declared == set(dashboard.dataset_ids)
        columns = {
            dataset_id: {
                column["Name"]
                for table in data_set_properties(
                    definitions.datasets[dataset_id], "select 1", SOURCE_ARN
                )["PhysicalTableMap"].values()
                for column in table["CustomSql"]["Columns"]
            }
            for dataset_id in declared
        }
        calculated = {(f["DataSetIdentifier"], f["Name"]) for f in body["CalculatedFields"]}
        for field in body["CalculatedFields"]:
            expression = field["Expression"]
            used = {part.split("}")[0] for part in expression.split("{")[1:]}
            assert used <= columns[field["DataSetIdentifier"]], expression
        references = list(_walk(body["Sheets"], "Column")) + list(
            _walk(body["FilterGroups"], "Column")
        )
        references += list(_walk(body["Sheets"], "LinkToDataSetColumn"))
        assert references
        for reference in references:
            dataset_id, name = reference["DataSetIdentifier"], reference["ColumnName"]
            assert dataset_id in declared, (dashboard.id, reference)
            assert name in columns[dataset_id] or (dataset_id, name) in calculated, (
                dashboard.id,
                reference,
            )


def test_ids_are_unique_and_every_reference_resolves(definitions: Definitions):
    for dashboard, body in _all_definitions(definitions):
        sheets = {sheet["SheetId"]: sheet for sheet in body["Sheets"]}
        assert len(sheets) == len(body["Sheets"])
        visual_ids = {
            sheet_id: [visual["VisualId"] for _, visual in _visuals(sheet)]
            for sheet_id, sheet in sheets.items()
        }
        every_visual = [v for ids in visual_ids.values() for v in ids]
        assert len(set(every_visual)) == len(every_visual), dashboard.id
        field_ids = list(_walk(body["Sheets"], "FieldId"))
        # A FieldId appears where a field is declared and where it is sorted or labelled.
        declared_fields = [
            field["FieldId"]
            for sheet in body["Sheets"]
            for _, visual in _visuals(sheet)
            for well in _walk(visual, "FieldWells")
            for field in _field_declarations(well)
        ]
        assert len(set(declared_fields)) == len(declared_fields), dashboard.id
        assert set(field_ids) == set(declared_fields), dashboard.id
        parameters = [next(iter(p.values()))["Name"] for p in body["ParameterDeclarations"]]
        assert len(set(parameters)) == len(parameters)
        used_parameters = set(_walk(body["FilterGroups"], "Parameter")) | set(
            _walk(body["FilterGroups"], "ParameterName")
        )
        controlled = set(_walk(body["Sheets"], "SourceParameterName"))
        assert used_parameters == set(parameters) == controlled, dashboard.id
        control_ids = list(_walk(body["Sheets"], "ParameterControlId"))
        assert len(set(control_ids)) == len(control_ids)
        filter_ids = [f["FilterGroupId"] for f in body["FilterGroups"]]
        trend_kpis = [v for v in dashboard.visuals if v.type == "kpi" and v.dimensions]
        assert len(set(filter_ids)) == len(filter_ids) == len(dashboard.filters) + len(trend_kpis)
        for group in body["FilterGroups"]:
            scopes = group["ScopeConfiguration"]["SelectedSheets"][
                "SheetVisualScopingConfigurations"
            ]
            assert scopes, group["FilterGroupId"]
            (condition,) = group["Filters"]
            dataset_id = next(_walk(condition, "Column"))["DataSetIdentifier"]
            for scope in scopes:
                assert set(scope["VisualIds"]) <= set(visual_ids[scope["SheetId"]])
                for visual_id in scope["VisualIds"]:
                    visual = _find_visual(body, visual_id)
                    assert dataset_id in {c["DataSetIdentifier"] for c in _walk(visual, "Column")}


def _field_declarations(well: Any) -> Iterator[dict[str, Any]]:
    """The field objects (dimension or measure) inside a FieldWells value."""
    if isinstance(well, dict):
        if "FieldId" in well and "Column" in well:
            yield well
            return
        for item in well.values():
            yield from _field_declarations(item)
    elif isinstance(well, list):
        for item in well:
            yield from _field_declarations(item)


def _find_visual(body: dict[str, Any], visual_id: str) -> dict[str, Any]:
    for sheet in body["Sheets"]:
        for _, visual in _visuals(sheet):
            if visual["VisualId"] == visual_id:
                return visual
    raise AssertionError(visual_id)


def test_layouts_place_exactly_the_visuals_inside_the_grid_and_limits_hold(
    definitions: Definitions,
):
    for dashboard, body in _all_definitions(definitions):
        assert len(body["Sheets"]) <= MAX_SHEETS
        for sheet in body["Sheets"]:
            ids = [visual["VisualId"] for _, visual in _visuals(sheet)]
            assert 1 <= len(ids) <= MAX_VISUALS_PER_SHEET
            (layout,) = sheet["Layouts"]
            elements = layout["Configuration"]["GridLayout"]["Elements"]
            assert [e["ElementId"] for e in elements] == ids, (dashboard.id, sheet["SheetId"])
            for element in elements:
                assert element["ColumnIndex"] + element["ColumnSpan"] <= GRID_COLUMNS


# One visual of every type, pinned field by field -------------------------------------------

FIXTURE_DATASETS = DatasetCatalog.model_validate(
    {
        "datasets": [
            {
                "id": "orders_fx",
                "title": "Orders",
                "description": "fixture",
                "sql_file": "x.sql",
                "import_mode": "SPICE",
                "refresh": {"interval": "DAILY", "time_of_day": "07:15", "timezone": "UTC"},
                "columns": [
                    {"name": "order_date", "type": "DATETIME"},
                    {"name": "channel", "type": "STRING"},
                    {"name": "category", "type": "STRING"},
                    {"name": "revenue", "type": "DECIMAL"},
                    {"name": "orders", "type": "INTEGER"},
                    {"name": "sessions", "type": "INTEGER"},
                    {"name": "customer_id", "type": "STRING"},
                    {"name": "basket", "type": "INTEGER"},
                ],
            },
            {
                "id": "stock_fx",
                "title": "Stock",
                "description": "fixture",
                "sql_file": "y.sql",
                "import_mode": "DIRECT_QUERY",
                "columns": [
                    {"name": "sku", "type": "STRING"},
                    {"name": "on_hand", "type": "INTEGER"},
                    {"name": "cover_days", "type": "DECIMAL"},
                ],
            },
        ]
    }
).datasets
DATASETS: dict[str, Dataset] = {d.id: d for d in FIXTURE_DATASETS}


def _layout(row: int) -> dict[str, int]:
    return {"column": 0, "row": row, "width": 12, "height": 6}


FIXTURE = Dashboard.model_validate(
    {
        "id": "fixture",
        "position": 3,
        "title": "Fixture",
        "description": "one visual of each type",
        "parameters": [
            {"name": "period", "label": "Period", "kind": "date_range", "default_days": 30},
            {"name": "channel", "label": "Storefront", "kind": "string", "values": ["web", "app"]},
            {
                "name": "sku",
                "label": "Product",
                "kind": "string",
                "values_from": {"dataset": "stock_fx", "column": "sku"},
            },
        ],
        "filters": [
            {
                "id": "f-period",
                "parameter": "period",
                "dataset": "orders_fx",
                "column": "order_date",
            },
            {
                "id": "f-channel",
                "parameter": "channel",
                "dataset": "orders_fx",
                "column": "channel",
                "visuals": ["trend", "mix"],
            },
            {"id": "f-sku", "parameter": "sku", "dataset": "stock_fx", "column": "sku"},
        ],
        "sheets": [
            {
                "id": "money",
                "title": "Money",
                "description": "What was sold",
                "visuals": [
                    {
                        "id": "kpi-aov",
                        "type": "kpi",
                        "title": "AOV",
                        "subtitle": "Revenue per order",
                        "dataset": "orders_fx",
                        "dimensions": [{"column": "order_date", "granularity": "WEEK"}],
                        "measures": [
                            {
                                "column": "revenue",
                                "aggregation": "RATIO",
                                "denominator": "orders",
                                "format": "currency",
                            }
                        ],
                        "layout": _layout(0),
                    },
                    {
                        "id": "kpi-orders",
                        "type": "kpi",
                        "title": "Orders",
                        "subtitle": "All orders",
                        "dataset": "orders_fx",
                        "measures": [
                            {"column": "orders", "aggregation": "SUM", "format": "integer"}
                        ],
                        "layout": _layout(6),
                    },
                    {
                        "id": "trend",
                        "type": "line",
                        "title": "Trend",
                        "subtitle": "Revenue per month",
                        "dataset": "orders_fx",
                        "dimensions": [
                            {"column": "order_date", "granularity": "MONTH", "label": "Month"}
                        ],
                        "measures": [
                            {
                                "column": "revenue",
                                "aggregation": "SUM",
                                "format": "currency",
                                "decimals": 2,
                            }
                        ],
                        "layout": _layout(12),
                    },
                    {
                        "id": "mix",
                        "type": "stacked_bar",
                        "title": "Mix",
                        "subtitle": "Orders per day by storefront",
                        "dataset": "orders_fx",
                        "dimensions": [
                            {"column": "order_date", "granularity": "DAY"},
                            {"column": "channel"},
                        ],
                        "measures": [{"column": "orders", "aggregation": "SUM"}],
                        "layout": _layout(18),
                    },
                    {
                        "id": "top",
                        "type": "bar",
                        "title": "Top categories",
                        "subtitle": "Five best",
                        "dataset": "orders_fx",
                        "dimensions": [{"column": "category"}],
                        "measures": [{"column": "revenue", "aggregation": "SUM"}],
                        "sort": {"column": "revenue"},
                        "limit": 5,
                        "layout": _layout(24),
                    },
                    {
                        "id": "share",
                        "type": "donut",
                        "title": "Share",
                        "subtitle": "Customers per storefront",
                        "dataset": "orders_fx",
                        "dimensions": [{"column": "channel"}],
                        "measures": [{"column": "customer_id", "aggregation": "DISTINCT_COUNT"}],
                        "layout": _layout(30),
                    },
                ],
            },
            {
                "id": "shape",
                "title": "Shape",
                "visuals": [
                    {
                        "id": "steps",
                        "type": "funnel",
                        "title": "Steps",
                        "subtitle": "Sessions per category",
                        "dataset": "orders_fx",
                        "dimensions": [{"column": "category"}],
                        "measures": [{"column": "sessions", "aggregation": "SUM"}],
                        "layout": _layout(0),
                    },
                    {
                        "id": "grid",
                        "type": "heatmap",
                        "title": "Grid",
                        "subtitle": "Orders by category and storefront",
                        "dataset": "orders_fx",
                        "dimensions": [{"column": "category"}, {"column": "channel"}],
                        "measures": [
                            {
                                "column": "orders",
                                "aggregation": "AVERAGE",
                                "format": "number",
                                "decimals": 3,
                            }
                        ],
                        "layout": _layout(6),
                    },
                    {
                        "id": "points",
                        "type": "scatter",
                        "title": "Points",
                        "subtitle": "Basket against conversion",
                        "dataset": "orders_fx",
                        "dimensions": [{"column": "category"}, {"column": "channel"}],
                        "measures": [
                            {"column": "basket", "aggregation": "MAX"},
                            {
                                "column": "orders",
                                "aggregation": "RATIO",
                                "denominator": "sessions",
                                "format": "percent",
                            },
                        ],
                        "layout": _layout(12),
                    },
                    {
                        "id": "cross",
                        "type": "pivot",
                        "title": "Cross",
                        "subtitle": "Revenue by category and storefront",
                        "dataset": "orders_fx",
                        "dimensions": [
                            {"column": "category", "label": "Category"},
                            {"column": "channel"},
                        ],
                        "measures": [
                            {"column": "revenue", "aggregation": "MIN", "label": "Lowest"}
                        ],
                        "layout": _layout(18),
                    },
                    {
                        "id": "stock",
                        "type": "table",
                        "title": "Stock",
                        "subtitle": "Rows as stored",
                        "dataset": "stock_fx",
                        "dimensions": [
                            {"column": "sku", "label": "SKU"},
                            {"column": "cover_days", "format": "number", "decimals": 1},
                        ],
                        "sort": {"column": "cover_days", "descending": False},
                        "limit": 25,
                        "layout": _layout(24),
                    },
                    {
                        "id": "by-channel",
                        "type": "table",
                        "title": "By storefront",
                        "subtitle": "Orders counted",
                        "dataset": "orders_fx",
                        "dimensions": [{"column": "channel"}],
                        "measures": [{"column": "customer_id", "aggregation": "COUNT"}],
                        "layout": _layout(30),
                    },
                ],
            },
        ],
    }
)


@pytest.fixture(scope="module")
def fixture_body() -> dict[str, Any]:
    return definition(FIXTURE, DATASETS, {d: _arn(d) for d in DATASETS})


def _visual(body: dict[str, Any], visual_id: str) -> tuple[str, dict[str, Any]]:
    for sheet in body["Sheets"]:
        for key, visual in _visuals(sheet):
            if visual["VisualId"] == visual_id:
                return key, visual
    raise AssertionError(visual_id)


def test_the_fixture_validates_against_botocore(fixture_body: dict[str, Any]):
    params = {"AwsAccountId": ACCOUNT, "DashboardId": "f", "Name": "F", "Definition": fixture_body}
    assert validate("quicksight", "CreateDashboard", params) == []


def test_each_model_type_becomes_its_quicksight_visual(fixture_body: dict[str, Any]):
    types = {
        visual["VisualId"]: key
        for sheet in fixture_body["Sheets"]
        for key, visual in _visuals(sheet)
    }
    assert types == {visual.id: QUICKSIGHT_KEY[visual.type] for visual in FIXTURE.visuals}
    assert Counter(types.values())["BarChartVisual"] == 2
    _, mix = _visual(fixture_body, "mix")
    _, top = _visual(fixture_body, "top")
    assert (
        mix["ChartConfiguration"]["BarsArrangement"],
        top["ChartConfiguration"]["BarsArrangement"],
    ) == (
        "STACKED",
        "CLUSTERED",
    )
    # Bars over time stand up; ranked categories lie down.
    assert mix["ChartConfiguration"]["Orientation"] == "VERTICAL"
    assert top["ChartConfiguration"]["Orientation"] == "HORIZONTAL"
    _, share = _visual(fixture_body, "share")
    assert share["ChartConfiguration"]["DonutOptions"] == {"ArcOptions": {"ArcThickness": "MEDIUM"}}
    _, kpi = _visual(fixture_body, "kpi-aov")
    assert kpi["Title"] == {"Visibility": "VISIBLE", "FormatText": {"PlainText": "AOV"}}
    assert kpi["Subtitle"]["FormatText"]["PlainText"] == "Revenue per order"


def test_fields_by_column_type_aggregation_and_format(fixture_body: dict[str, Any]):
    _, kpi = _visual(fixture_body, "kpi-aov")
    wells = kpi["ChartConfiguration"]["FieldWells"]
    assert wells["TrendGroups"] == [
        {
            "DateDimensionField": {
                "FieldId": "kpi-aov.d0.order_date",
                "Column": {"DataSetIdentifier": "orders_fx", "ColumnName": "order_date"},
                "DateGranularity": "WEEK",
            }
        }
    ]
    # RATIO: a calculated field that aggregates itself, formatted as currency (whole units,
    # the currency default the local page shows too).
    assert wells["Values"] == [
        {
            "NumericalMeasureField": {
                "FieldId": "kpi-aov.m0.revenue",
                "Column": {"DataSetIdentifier": "orders_fx", "ColumnName": "revenue_per_orders"},
                "FormatConfiguration": {
                    "FormatConfiguration": {
                        "CurrencyDisplayFormatConfiguration": {
                            "Symbol": "USD",
                            "DecimalPlacesConfiguration": {"DecimalPlaces": 0},
                        }
                    }
                },
            }
        }
    ]
    assert kpi["ChartConfiguration"]["KPIOptions"]["Comparison"] == {
        "ComparisonMethod": "PERCENT_DIFFERENCE"
    }
    _, plain_kpi = _visual(fixture_body, "kpi-orders")
    assert "KPIOptions" not in plain_kpi["ChartConfiguration"]
    assert "TrendGroups" not in plain_kpi["ChartConfiguration"]["FieldWells"]
    orders = plain_kpi["ChartConfiguration"]["FieldWells"]["Values"][0]["NumericalMeasureField"]
    assert orders["AggregationFunction"] == {"SimpleNumericalAggregation": "SUM"}
    assert orders["FormatConfiguration"]["FormatConfiguration"] == {
        "NumberDisplayFormatConfiguration": {"DecimalPlacesConfiguration": {"DecimalPlaces": 0}}
    }
    _, trend = _visual(fixture_body, "trend")
    revenue = trend["ChartConfiguration"]["FieldWells"]["LineChartAggregatedFieldWells"]["Values"][
        0
    ]
    currency = revenue["NumericalMeasureField"]["FormatConfiguration"]["FormatConfiguration"]
    assert currency["CurrencyDisplayFormatConfiguration"]["DecimalPlacesConfiguration"] == {
        "DecimalPlaces": 2
    }
    assert (
        trend["ChartConfiguration"]["XAxisLabelOptions"]["AxisLabelOptions"][0]["CustomLabel"]
        == "Month"
    )
    _, points = _visual(fixture_body, "points")
    scatter = points["ChartConfiguration"]["FieldWells"][
        "ScatterPlotCategoricallyAggregatedFieldWells"
    ]
    assert scatter["XAxis"][0]["NumericalMeasureField"]["AggregationFunction"] == {
        "SimpleNumericalAggregation": "MAX"
    }
    conversion = scatter["YAxis"][0]["NumericalMeasureField"]
    assert conversion["Column"]["ColumnName"] == "orders_per_sessions"
    assert conversion["FormatConfiguration"]["FormatConfiguration"] == {
        "PercentageDisplayFormatConfiguration": {"DecimalPlacesConfiguration": {"DecimalPlaces": 1}}
    }
    assert [d["CategoricalDimensionField"]["FieldId"] for d in scatter["Category"]] == [
        "points.d0.category"
    ]
    _, grid = _visual(fixture_body, "grid")
    average = grid["ChartConfiguration"]["FieldWells"]["HeatMapAggregatedFieldWells"]["Values"][0]
    assert average["NumericalMeasureField"]["FormatConfiguration"]["FormatConfiguration"] == {
        "NumberDisplayFormatConfiguration": {"DecimalPlacesConfiguration": {"DecimalPlaces": 3}}
    }
    # Counting strings is a categorical measure with a plain aggregation name.
    _, share = _visual(fixture_body, "share")
    (customers,) = share["ChartConfiguration"]["FieldWells"]["PieChartAggregatedFieldWells"][
        "Values"
    ]
    assert customers == {
        "CategoricalMeasureField": {
            "FieldId": "share.m0.customer_id",
            "Column": {"DataSetIdentifier": "orders_fx", "ColumnName": "customer_id"},
            "AggregationFunction": "DISTINCT_COUNT",
        }
    }
    _, by_channel = _visual(fixture_body, "by-channel")
    counted = by_channel["ChartConfiguration"]["FieldWells"]["TableAggregatedFieldWells"]["Values"][
        0
    ]
    assert counted["CategoricalMeasureField"]["AggregationFunction"] == "COUNT"


def test_calculated_fields_once_per_dataset_and_ratio(fixture_body: dict[str, Any]):
    assert fixture_body["CalculatedFields"] == [
        {
            "DataSetIdentifier": "orders_fx",
            "Name": "revenue_per_orders",
            "Expression": "sum({revenue}) / sum({orders})",
        },
        {
            "DataSetIdentifier": "orders_fx",
            "Name": "orders_per_sessions",
            "Expression": "sum({orders}) / sum({sessions})",
        },
    ]


def test_sorting_limits_and_tables(fixture_body: dict[str, Any]):
    _, top = _visual(fixture_body, "top")
    assert top["ChartConfiguration"]["SortConfiguration"] == {
        "CategorySort": [{"FieldSort": {"FieldId": "top.m0.revenue", "Direction": "DESC"}}],
        "CategoryItemsLimit": {"ItemsLimit": 5, "OtherCategories": "EXCLUDE"},
    }
    _, stock = _visual(fixture_body, "stock")
    config = stock["ChartConfiguration"]
    values = config["FieldWells"]["TableUnaggregatedFieldWells"]["Values"]
    assert [v["FieldId"] for v in values] == ["stock.d0.sku", "stock.d1.cover_days"]
    assert "FormatConfiguration" not in values[0]
    assert values[1]["FormatConfiguration"] == {
        "NumberFormatConfiguration": {
            "FormatConfiguration": {
                "NumberDisplayFormatConfiguration": {
                    "DecimalPlacesConfiguration": {"DecimalPlaces": 1}
                }
            }
        }
    }
    assert config["SortConfiguration"] == {
        "RowSort": [{"FieldSort": {"FieldId": "stock.d1.cover_days", "Direction": "ASC"}}],
        "PaginationConfiguration": {"PageSize": 25, "PageNumber": 1},
    }
    assert config["FieldOptions"] == {
        "SelectedFieldOptions": [{"FieldId": "stock.d0.sku", "CustomLabel": "SKU"}]
    }
    _, cross = _visual(fixture_body, "cross")
    wells = cross["ChartConfiguration"]["FieldWells"]["PivotTableAggregatedFieldWells"]
    assert [next(iter(f.values()))["FieldId"] for f in wells["Rows"] + wells["Columns"]] == [
        "cross.d0.category",
        "cross.d1.channel",
    ]
    assert cross["ChartConfiguration"]["FieldOptions"]["SelectedFieldOptions"] == [
        {"FieldId": "cross.d0.category", "CustomLabel": "Category"},
        {"FieldId": "cross.m0.revenue", "CustomLabel": "Lowest"},
    ]


def test_parameters_filters_and_their_scope(fixture_body: dict[str, Any]):
    period_from = {
        "Name": "periodFrom",
        "TimeGranularity": "DAY",
        "ValueWhenUnset": {"ValueWhenUnsetOption": "NULL"},
        # default_days 30: the range starts 30 days before today
        "DefaultValues": {
            "RollingDate": {"Expression": "addDateTime(-30, 'DD', truncDate('DD', now()))"}
        },
    }
    period_to = {
        "Name": "periodTo",
        "TimeGranularity": "DAY",
        "ValueWhenUnset": {"ValueWhenUnsetOption": "NULL"},
    }
    assert fixture_body["ParameterDeclarations"] == [
        {"DateTimeParameterDeclaration": period_from},
        {"DateTimeParameterDeclaration": period_to},
    ] + [
        {
            "StringParameterDeclaration": {
                "ParameterValueType": "SINGLE_VALUED",
                "Name": name,
                "DefaultValues": {"StaticValues": []},
                "ValueWhenUnset": {"ValueWhenUnsetOption": "NULL"},
            }
        }
        for name in ("channel", "sku")
    ]
    groups = {g["FilterGroupId"]: g for g in fixture_body["FilterGroups"]}
    period = groups["f-period"]["Filters"][0]["TimeRangeFilter"]
    assert (period["RangeMinimumValue"], period["RangeMaximumValue"]) == (
        {"Parameter": "periodFrom"},
        {"Parameter": "periodTo"},
    )
    channel = groups["f-channel"]["Filters"][0]["CategoryFilter"]
    assert channel["Configuration"]["CustomFilterConfiguration"]["ParameterName"] == "channel"

    def scope(group_id: str) -> dict[str, list[str]]:
        configs = groups[group_id]["ScopeConfiguration"]["SelectedSheets"]
        return {s["SheetId"]: s["VisualIds"] for s in configs["SheetVisualScopingConfigurations"]}

    # Every visual of the dataset, on each sheet that has one; or just the ones named.
    assert scope("f-period") == {
        "money": ["kpi-aov", "kpi-orders", "trend", "mix", "top", "share"],
        "shape": ["steps", "grid", "points", "cross", "by-channel"],
    }
    assert scope("f-channel") == {"money": ["trend", "mix"]}
    assert scope("f-sku") == {"shape": ["stock"]}
    # Controls only where their parameter filters something.
    controls = {
        sheet["SheetId"]: [
            next(iter(c.values()))["SourceParameterName"] for c in sheet["ParameterControls"]
        ]
        for sheet in fixture_body["Sheets"]
    }
    assert controls == {
        "money": ["periodFrom", "periodTo", "channel"],
        "shape": ["periodFrom", "periodTo", "sku"],
    }
    shape = next(s for s in fixture_body["Sheets"] if s["SheetId"] == "shape")
    sku = shape["ParameterControls"][2]["Dropdown"]
    assert sku["SelectableValues"] == {
        "LinkToDataSetColumn": {"DataSetIdentifier": "stock_fx", "ColumnName": "sku"}
    }
    money = next(s for s in fixture_body["Sheets"] if s["SheetId"] == "money")
    assert money["ParameterControls"][2]["Dropdown"]["SelectableValues"] == {
        "Values": ["web", "app"]
    }
    assert money["Description"] == "What was sold"
    assert "Description" not in shape


def test_trend_kpis_leave_out_the_current_period_and_weeks_start_on_monday(
    fixture_body: dict[str, Any],
):
    groups = {g["FilterGroupId"]: g for g in fixture_body["FilterGroups"]}
    # Only kpi-aov compares periods (weeks); kpi-orders has no trend dimension.
    assert sorted(g for g in groups if g.endswith("-complete")) == ["kpi-aov-complete"]
    group = groups["kpi-aov-complete"]
    assert group["Filters"] == [
        {
            "TimeRangeFilter": {
                "FilterId": "kpi-aov-complete",
                "Column": {"DataSetIdentifier": "orders_fx", "ColumnName": "order_date"},
                "RangeMaximumValue": {"RollingDate": {"Expression": "truncDate('WK', now())"}},
                "IncludeMaximum": False,
                "NullOption": "NON_NULLS_ONLY",
                "TimeGranularity": "WEEK",
            }
        }
    ]
    assert group["ScopeConfiguration"]["SelectedSheets"]["SheetVisualScopingConfigurations"] == [
        {"SheetId": "money", "Scope": "SELECTED_VISUALS", "VisualIds": ["kpi-aov"]}
    ]
    assert fixture_body["Options"] == {"WeekStart": "MONDAY"}


def test_data_set_properties_and_refresh_schedules():
    orders, stock = DATASETS["orders_fx"], DATASETS["stock_fx"]
    properties = data_set_properties(stock, "select sku from s", SOURCE_ARN)
    assert properties == {
        "ImportMode": "DIRECT_QUERY",
        "PhysicalTableMap": {
            "stock-fx": {
                "CustomSql": {
                    "DataSourceArn": SOURCE_ARN,
                    "Name": "Stock",
                    "SqlQuery": "select sku from s",
                    "Columns": [
                        {"Name": "sku", "Type": "STRING"},
                        {"Name": "on_hand", "Type": "INTEGER"},
                        {"Name": "cover_days", "Type": "DECIMAL"},
                    ],
                }
            }
        },
    }
    assert refresh_schedule(orders) == {
        "ScheduleId": "orders-fx-daily",
        "RefreshType": "FULL_REFRESH",
        "ScheduleFrequency": {"Interval": "DAILY", "TimeZone": "UTC", "TimeOfTheDay": "07:15"},
    }
    assert refresh_schedule(orders, time_of_day="05:45", time_zone="Europe/Paris")[
        "ScheduleFrequency"
    ] == {"Interval": "DAILY", "TimeZone": "Europe/Paris", "TimeOfTheDay": "05:45"}
    assert refresh_schedule(orders, interval="HOURLY")["ScheduleFrequency"] == {
        "Interval": "HOURLY",
        "TimeZone": "UTC",
    }
    assert refresh_schedule(orders, interval="WEEKLY")["ScheduleFrequency"]["RefreshOnDay"] == {
        "DayOfWeek": "MONDAY"
    }
    with pytest.raises(ValueError, match="'stock_fx' is DIRECT_QUERY: it is not refreshed"):
        refresh_schedule(stock)


def test_currency_is_the_shops():
    assert CURRENCY == SHOP_CURRENCY


# Parity with the model ---------------------------------------------------------------------


def test_ids_types_and_titles_equal_the_models(definitions: Definitions):
    for dashboard, body in _all_definitions(definitions):
        generated = [
            (
                sheet["SheetId"],
                sheet["Name"],
                visual["VisualId"],
                key,
                visual["Title"]["FormatText"]["PlainText"],
            )
            for sheet in body["Sheets"]
            for key, visual in _visuals(sheet)
        ]
        expected = [
            (sheet.id, sheet.title, visual.id, QUICKSIGHT_KEY[visual.type], visual.title)
            for sheet in dashboard.sheets
            for visual in sheet.visuals
        ]
        assert generated == expected, dashboard.id


@pytest.mark.parametrize(
    ("format_", "decimals", "places", "local"),
    [
        ("currency", None, 0, "$,.0f"),
        ("currency", 2, 2, "$,.2f"),
        ("percent", None, 1, ".1%"),
        ("percent", 0, 0, ".0%"),
        ("number", None, 1, ",.1f"),
        ("number", 0, 0, ",.0f"),
        ("integer", None, 0, ",.0f"),
    ],
)
def test_quicksight_and_the_local_page_show_the_same_decimal_places(
    format_: str, decimals: int | None, places: int, local: str
) -> None:
    field = VisualField(column="x", format=format_, decimals=decimals)
    assert number_format(field) == local
    (configuration,) = numeric_format(field).values()
    assert configuration["DecimalPlacesConfiguration"] == {"DecimalPlaces": places}
