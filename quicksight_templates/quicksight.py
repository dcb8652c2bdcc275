"""QuickSight's form of the dashboard definitions: each dataset's CfnDataSet properties and
each dashboard's Definition (the same one for its analysis and its dashboard).

Pure data, no CDK: stacks/dashboards.py passes the ARNs (CloudFormation tokens there, plain
strings in tests) and sets the results with add_property_override, and the tests validate
them offline against botocore's QuickSight model and cfn-lint. Keys are QuickSight's own
(PascalCase), as the API and CloudFormation both spell them.

Naming, so that a definition can be read back (tests, the local page's parity check):
- a field's id is `<visual id>.<role><index>.<column>` (role `d` dimension, `m` measure);
- a date_range parameter `p` becomes the DateTime parameters `pFrom` and `pTo`;
- a RATIO measure is the calculated field `<column>_per_<denominator>` of its dataset;
- a filter's id is the definition's filter id, in a filter group of the same id;
- a trend KPI's complete-period filter is `<visual id>-complete` (group of the same id).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from quicksight_templates.model import (
    WEEK_START,
    Dashboard,
    Dataset,
    Dimension,
    Filter,
    Measure,
    Parameter,
    Sheet,
    Visual,
    VisualField,
)

# The shop sells in one currency (data_generators/orders.py CURRENCY; a test keeps them equal).
CURRENCY = "USD"
# QuickSight's names of the model's visual types, and the definition key each is set under.
VISUAL_TYPES = {
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
DATE_RANGE_BOUNDS = ("From", "To")
# The width the grid layout is designed for (QuickSight scales it to the screen).
CANVAS_WIDTH = "1600px"
_NUMERIC = ("INTEGER", "DECIMAL")
# truncDate's period codes for the model's granularities.
_PERIOD_CODES = {"MINUTE": "MI", "HOUR": "HH", "DAY": "DD", "WEEK": "WK", "MONTH": "MM"}
JsonDict = dict[str, Any]


def physical_table_key(dataset: Dataset) -> str:
    """PhysicalTableMap keys allow letters, digits and hyphens only."""
    return dataset.id.replace("_", "-")


def data_set_properties(dataset: Dataset, sql: str, data_source_arn: str) -> JsonDict:
    """What a CfnDataSet (and CreateDataSet) takes besides ids, name and permissions: the
    query as custom SQL with its declared columns, and where QuickSight keeps the rows."""
    return {
        "ImportMode": dataset.import_mode,
        "PhysicalTableMap": {
            physical_table_key(dataset): {
                "CustomSql": {
                    "DataSourceArn": data_source_arn,
                    "Name": dataset.title,
                    "SqlQuery": sql,
                    "Columns": [
                        {"Name": column.name, "Type": column.type} for column in dataset.columns
                    ],
                }
            }
        },
    }


def ratio_name(measure: Measure) -> str:
    return f"{measure.column}_per_{measure.denominator}"


def field_id(visual: Visual, role: str, index: int, field: VisualField) -> str:
    return f"{visual.id}.{role}{index}.{field.column}"


def parameter_names(parameter: Parameter) -> list[str]:
    """The QuickSight parameters a definition parameter becomes."""
    if parameter.kind == "date_range":
        return [f"{parameter.name}{bound}" for bound in DATE_RANGE_BOUNDS]
    return [parameter.name]


def definition(
    dashboard: Dashboard, datasets: Mapping[str, Dataset], data_set_arns: Mapping[str, str]
) -> JsonDict:
    """The Definition of the dashboard's analysis and dashboard. `datasets` holds at least
    the datasets its visuals use (checked by the loader); `data_set_arns` their ARNs by id."""
    builder = _DefinitionBuilder(dashboard, datasets)
    return {
        "DataSetIdentifierDeclarations": [
            {"Identifier": dataset_id, "DataSetArn": data_set_arns[dataset_id]}
            for dataset_id in dashboard.dataset_ids
        ],
        "CalculatedFields": builder.calculated_fields(),
        "ParameterDeclarations": [
            declaration
            for parameter in dashboard.parameters
            for declaration in _parameter_declarations(parameter)
        ],
        "FilterGroups": [
            *(builder.filter_group(item) for item in dashboard.filters),
            *builder.complete_period_groups(),
        ],
        "Sheets": [builder.sheet(sheet) for sheet in dashboard.sheets],
        "Options": {"WeekStart": WEEK_START},
    }


def _parameter_declarations(parameter: Parameter) -> list[JsonDict]:
    """An unset parameter keeps every row (the whole period, every value); a date range with
    default_days starts that many days before today."""
    if parameter.kind == "date_range":
        declarations = [
            {
                "DateTimeParameterDeclaration": {
                    "Name": name,
                    "TimeGranularity": "DAY",
                    "ValueWhenUnset": {"ValueWhenUnsetOption": "NULL"},
                }
            }
            for name in parameter_names(parameter)
        ]
        if parameter.default_days is not None:
            declarations[0]["DateTimeParameterDeclaration"]["DefaultValues"] = {
                "RollingDate": {
                    "Expression": f"addDateTime(-{parameter.default_days}, 'DD', "
                    "truncDate('DD', now()))"
                }
            }
        return declarations
    return [
        {
            "StringParameterDeclaration": {
                "ParameterValueType": "SINGLE_VALUED",
                "Name": parameter.name,
                "DefaultValues": {"StaticValues": []},
                "ValueWhenUnset": {"ValueWhenUnsetOption": "NULL"},
            }
        }
    ]


def _text(text: str) -> JsonDict:
    return {"Visibility": "VISIBLE", "FormatText": {"PlainText": text}}


def numeric_format(field: VisualField) -> JsonDict | None:
    """QuickSight's NumericFormatConfiguration for the field's format, or None (default)."""
    if field.format is None:
        return None
    places = {"DecimalPlaces": field.places}
    if field.format == "currency":
        return {
            "CurrencyDisplayFormatConfiguration": {
                "Symbol": CURRENCY,
                "DecimalPlacesConfiguration": places,
            }
        }
    if field.format == "percent":  # QuickSight shows a fraction as a percentage
        return {"PercentageDisplayFormatConfiguration": {"DecimalPlacesConfiguration": places}}
    return {"NumberDisplayFormatConfiguration": {"DecimalPlacesConfiguration": places}}


def _filter_group(group_id: str, condition: JsonDict, scopes: Mapping[str, list[str]]) -> JsonDict:
    """An enabled group of the one filter `condition`, applied to the given visuals (sheet id
    -> visual ids)."""
    return {
        "FilterGroupId": group_id,
        "Filters": [condition],
        "ScopeConfiguration": {
            "SelectedSheets": {
                "SheetVisualScopingConfigurations": [
                    {"SheetId": sheet_id, "Scope": "SELECTED_VISUALS", "VisualIds": ids}
                    for sheet_id, ids in scopes.items()
                ]
            }
        },
        "Status": "ENABLED",
        "CrossDataset": "SINGLE_DATASET",
    }


def _source_column(field: VisualField) -> str:
    """The column a field reads: a RATIO measure's calculated field, else its own column."""
    if isinstance(field, Measure) and field.aggregation == "RATIO":
        return ratio_name(field)
    return field.column


class _DefinitionBuilder:
    def __init__(self, dashboard: Dashboard, datasets: Mapping[str, Dataset]) -> None:
        self.dashboard = dashboard
        self.datasets = datasets

    def _column_type(self, visual: Visual, column: str) -> str:
        found = self.datasets[visual.dataset].column(column)
        if found is None:  # the loader rejects such a definition first
            raise ValueError(f"{visual.id}: dataset {visual.dataset!r} has no column {column!r}")
        return found.type

    def calculated_fields(self) -> list[JsonDict]:
        fields: dict[tuple[str, str], JsonDict] = {}
        for visual in self.dashboard.visuals:
            for measure in visual.measures:
                if measure.aggregation == "RATIO":
                    name = ratio_name(measure)
                    fields[(visual.dataset, name)] = {
                        "DataSetIdentifier": visual.dataset,
                        "Name": name,
                        "Expression": f"sum({{{measure.column}}}) / sum({{{measure.denominator}}})",
                    }
        return list(fields.values())

    # Filters -----------------------------------------------------------------------------

    def _filtered_visuals(self, item: Filter) -> dict[str, list[str]]:
        """Sheet id -> ids of the visuals the filter applies to there."""
        wanted = set(item.visuals or [])
        scope: dict[str, list[str]] = {}
        for sheet in self.dashboard.sheets:
            ids = [
                visual.id
                for visual in sheet.visuals
                if visual.dataset == item.dataset and (not wanted or visual.id in wanted)
            ]
            if ids:
                scope[sheet.id] = ids
        return scope

    def _parameter(self, name: str) -> Parameter:
        (found,) = (p for p in self.dashboard.parameters if p.name == name)
        return found

    def filter_group(self, item: Filter) -> JsonDict:
        column = {"DataSetIdentifier": item.dataset, "ColumnName": item.column}
        parameter = self._parameter(item.parameter)
        if parameter.kind == "date_range":
            low, high = parameter_names(parameter)
            condition: JsonDict = {
                "TimeRangeFilter": {
                    "FilterId": item.id,
                    "Column": column,
                    "RangeMinimumValue": {"Parameter": low},
                    "RangeMaximumValue": {"Parameter": high},
                    "IncludeMinimum": True,
                    "IncludeMaximum": True,
                    "NullOption": "NON_NULLS_ONLY",
                    "TimeGranularity": "DAY",
                }
            }
        else:
            condition = {
                "CategoryFilter": {
                    "FilterId": item.id,
                    "Column": column,
                    "Configuration": {
                        "CustomFilterConfiguration": {
                            "MatchOperator": "EQUALS",
                            "ParameterName": parameter.name,
                            "NullOption": "NON_NULLS_ONLY",
                            "SelectAllOptions": "FILTER_ALL_VALUES",
                        }
                    },
                }
            }
        return _filter_group(item.id, condition, self._filtered_visuals(item))

    def complete_period_groups(self) -> list[JsonDict]:
        """A KPI that compares periods leaves out the current, unfinished one: its trend column
        must fall before the start of the period now is in."""
        groups = []
        for sheet in self.dashboard.sheets:
            for visual in sheet.visuals:
                if visual.type != "kpi" or not visual.dimensions:
                    continue
                trend = visual.dimensions[0]
                period = _PERIOD_CODES[trend.granularity or "DAY"]
                group_id = f"{visual.id}-complete"
                condition = {
                    "TimeRangeFilter": {
                        "FilterId": group_id,
                        "Column": self._column(visual, trend.column),
                        "RangeMaximumValue": {
                            "RollingDate": {"Expression": f"truncDate('{period}', now())"}
                        },
                        "IncludeMaximum": False,
                        "NullOption": "NON_NULLS_ONLY",
                        "TimeGranularity": trend.granularity or "DAY",
                    }
                }
                groups.append(_filter_group(group_id, condition, {sheet.id: [visual.id]}))
        return groups

    # Sheets ------------------------------------------------------------------------------

    def sheet(self, sheet: Sheet) -> JsonDict:
        body: JsonDict = {"SheetId": sheet.id, "Name": sheet.title, "Title": sheet.title}
        if sheet.description:
            body["Description"] = sheet.description
        controls = self._controls(sheet)
        if controls:
            body["ParameterControls"] = controls
        body["Visuals"] = [self.visual(visual) for visual in sheet.visuals]
        body["Layouts"] = [
            {
                "Configuration": {
                    "GridLayout": {
                        "Elements": [
                            {
                                "ElementId": visual.id,
                                "ElementType": "VISUAL",
                                "ColumnIndex": visual.layout.column,
                                "ColumnSpan": visual.layout.width,
                                "RowIndex": visual.layout.row,
                                "RowSpan": visual.layout.height,
                            }
                            for visual in sheet.visuals
                        ],
                        "CanvasSizeOptions": {
                            "ScreenCanvasSizeOptions": {
                                "ResizeOption": "FIXED",
                                "OptimizedViewPortWidth": CANVAS_WIDTH,
                            }
                        },
                    }
                }
            }
        ]
        body["ContentType"] = "INTERACTIVE"
        return body

    def _controls(self, sheet: Sheet) -> list[JsonDict]:
        """A control per parameter that filters a visual of this sheet, in declaration order."""
        used = {
            item.parameter
            for item in self.dashboard.filters
            if sheet.id in self._filtered_visuals(item)
        }
        controls = []
        for parameter in self.dashboard.parameters:
            if parameter.name not in used:
                continue
            if parameter.kind == "date_range":
                for name, bound in zip(parameter_names(parameter), DATE_RANGE_BOUNDS, strict=True):
                    controls.append(
                        {
                            "DateTimePicker": {
                                "ParameterControlId": f"{sheet.id}-{name}",
                                "Title": f"{parameter.label} {bound.lower()}",
                                "SourceParameterName": name,
                            }
                        }
                    )
                continue
            source = parameter.values_from
            if source is None:  # the model requires values or values_from
                values: JsonDict = {"Values": list(parameter.values or [])}
            else:
                values = {
                    "LinkToDataSetColumn": {
                        "DataSetIdentifier": source.dataset,
                        "ColumnName": source.column,
                    }
                }
            controls.append(
                {
                    "Dropdown": {
                        "ParameterControlId": f"{sheet.id}-{parameter.name}",
                        "Title": parameter.label,
                        "SourceParameterName": parameter.name,
                        "Type": "SINGLE_SELECT",
                        "SelectableValues": values,
                    }
                }
            )
        return controls

    # Fields ------------------------------------------------------------------------------

    def _column(self, visual: Visual, name: str) -> JsonDict:
        return {"DataSetIdentifier": visual.dataset, "ColumnName": name}

    def dimension(self, visual: Visual, index: int, field: Dimension) -> JsonDict:
        base = {
            "FieldId": field_id(visual, "d", index, field),
            "Column": self._column(visual, field.column),
        }
        kind = self._column_type(visual, field.column)
        if kind == "DATETIME":
            return {"DateDimensionField": {**base, "DateGranularity": field.granularity or "DAY"}}
        if kind in _NUMERIC:
            number = numeric_format(field)
            if number:
                base["FormatConfiguration"] = {"FormatConfiguration": number}
            return {"NumericalDimensionField": base}
        return {"CategoricalDimensionField": base}

    def measure(self, visual: Visual, index: int, field: Measure) -> JsonDict:
        base: JsonDict = {
            "FieldId": field_id(visual, "m", index, field),
            "Column": self._column(visual, _source_column(field)),
        }
        kind = self._column_type(visual, field.column)
        if field.aggregation != "RATIO":  # a RATIO's calculated field aggregates itself
            if kind not in _NUMERIC:  # counting strings, booleans or dates
                base["AggregationFunction"] = field.aggregation
                key = "DateMeasureField" if kind == "DATETIME" else "CategoricalMeasureField"
                return {key: base}
            base["AggregationFunction"] = {"SimpleNumericalAggregation": field.aggregation}
        number = numeric_format(field)
        if number:
            base["FormatConfiguration"] = {"FormatConfiguration": number}
        return {"NumericalMeasureField": base}

    def _fields(self, visual: Visual) -> tuple[list[JsonDict], list[JsonDict]]:
        dims = [self.dimension(visual, i, d) for i, d in enumerate(visual.dimensions)]
        measures = [self.measure(visual, i, m) for i, m in enumerate(visual.measures)]
        return dims, measures

    def _field_ids(self, visual: Visual) -> dict[str, str]:
        """Column -> field id; a column used twice resolves to its first field."""
        ids: dict[str, str] = {}
        for role, fields in (("d", visual.dimensions), ("m", visual.measures)):
            for index, field in enumerate(fields):
                ids.setdefault(field.column, field_id(visual, role, index, field))
        return ids

    def _sort(self, visual: Visual) -> list[JsonDict]:
        if visual.sort is None:
            return []
        direction = "DESC" if visual.sort.descending else "ASC"
        sort_id = self._field_ids(visual)[visual.sort.column]
        return [{"FieldSort": {"FieldId": sort_id, "Direction": direction}}]

    def _labels(self, visual: Visual) -> list[tuple[str, str]]:
        """(field id, label) of every field with a label."""
        out = []
        for role, fields in (("d", visual.dimensions), ("m", visual.measures)):
            for index, field in enumerate(fields):
                if field.label:
                    out.append((field_id(visual, role, index, field), field.label))
        return out

    def _axis_labels(self, visual: Visual, fields: list[VisualField], role: str) -> JsonDict | None:
        labels = [
            {
                "CustomLabel": field.label,
                "ApplyTo": {
                    "FieldId": field_id(visual, role, index, field),
                    "Column": self._column(visual, _source_column(field)),
                },
            }
            for index, field in enumerate(fields)
            if field.label
        ]
        return {"AxisLabelOptions": labels} if labels else None

    def _field_options(self, visual: Visual) -> JsonDict | None:
        """The table's custom column labels, or None when no field has a label."""
        labels = self._labels(visual)
        if not labels:
            return None
        return {
            "SelectedFieldOptions": [
                {"FieldId": fid, "CustomLabel": label} for fid, label in labels
            ]
        }

    # Visuals -----------------------------------------------------------------------------

    def visual(self, visual: Visual) -> JsonDict:
        config = getattr(self, f"_{visual.type}")(visual)
        body = {
            "VisualId": visual.id,
            "Title": _text(visual.title),
            "Subtitle": _text(visual.subtitle),
            "ChartConfiguration": config,
        }
        return {VISUAL_TYPES[visual.type]: body}

    def _kpi(self, visual: Visual) -> JsonDict:
        dims, measures = self._fields(visual)
        wells: JsonDict = {"Values": measures}
        config: JsonDict = {"FieldWells": wells}
        if dims:  # the latest period against the one before
            wells["TrendGroups"] = dims
            config["KPIOptions"] = {
                "Comparison": {"ComparisonMethod": "PERCENT_DIFFERENCE"},
                "PrimaryValueDisplayType": "ACTUAL",
            }
        return config

    def _line(self, visual: Visual) -> JsonDict:
        dims, measures = self._fields(visual)
        wells: JsonDict = {"Category": dims[:1], "Values": measures}
        if len(dims) > 1:
            wells["Colors"] = dims[1:]
        config: JsonDict = {"FieldWells": {"LineChartAggregatedFieldWells": wells}, "Type": "LINE"}
        self._add_axis_labels(visual, config, "XAxisLabelOptions", "PrimaryYAxisLabelOptions")
        return config

    def _add_axis_labels(self, visual: Visual, config: JsonDict, x_key: str, y_key: str) -> None:
        x_labels = self._axis_labels(visual, list(visual.dimensions[:1]), "d")
        y_labels = self._axis_labels(visual, list(visual.measures), "m")
        if x_labels:
            config[x_key] = x_labels
        if y_labels:
            config[y_key] = y_labels

    def _bar(self, visual: Visual, arrangement: str = "CLUSTERED") -> JsonDict:
        dims, measures = self._fields(visual)
        wells: JsonDict = {"Category": dims[:1], "Values": measures}
        if len(dims) > 1:
            wells["Colors"] = dims[1:]
        over_time = self._column_type(visual, visual.dimensions[0].column) == "DATETIME"
        config: JsonDict = {
            "FieldWells": {"BarChartAggregatedFieldWells": wells},
            "Orientation": "VERTICAL" if over_time else "HORIZONTAL",
            "BarsArrangement": arrangement,
        }
        sort = self._category_sort(visual)
        if sort:
            config["SortConfiguration"] = sort
        self._add_axis_labels(visual, config, "CategoryLabelOptions", "ValueLabelOptions")
        return config

    def _stacked_bar(self, visual: Visual) -> JsonDict:
        return self._bar(visual, "STACKED")

    def _category_sort(self, visual: Visual) -> JsonDict:
        sort: JsonDict = {}
        if visual.sort:
            sort["CategorySort"] = self._sort(visual)
        if visual.limit:
            sort["CategoryItemsLimit"] = {"ItemsLimit": visual.limit, "OtherCategories": "EXCLUDE"}
        return sort

    def _donut(self, visual: Visual) -> JsonDict:
        dims, measures = self._fields(visual)
        config: JsonDict = {
            "FieldWells": {"PieChartAggregatedFieldWells": {"Category": dims, "Values": measures}},
            "DonutOptions": {"ArcOptions": {"ArcThickness": "MEDIUM"}},
        }
        sort = self._category_sort(visual)
        if sort:
            config["SortConfiguration"] = sort
        return config

    def _funnel(self, visual: Visual) -> JsonDict:
        dims, measures = self._fields(visual)
        return {
            "FieldWells": {
                "FunnelChartAggregatedFieldWells": {"Category": dims, "Values": measures}
            },
            "DataLabelOptions": {
                "Visibility": "VISIBLE",
                "MeasureDataLabelStyle": "VALUE_AND_PERCENTAGE_BY_FIRST_STAGE",
            },
        }

    def _heatmap(self, visual: Visual) -> JsonDict:
        dims, measures = self._fields(visual)
        return {
            "FieldWells": {
                "HeatMapAggregatedFieldWells": {
                    "Rows": dims[:1],
                    "Columns": dims[1:],
                    "Values": measures,
                }
            }
        }

    def _scatter(self, visual: Visual) -> JsonDict:
        dims, measures = self._fields(visual)
        wells: JsonDict = {
            "XAxis": measures[:1],
            "YAxis": measures[1:2],
            "Category": dims[:1],
        }
        if len(dims) > 1:
            wells["Label"] = dims[1:]
        return {"FieldWells": {"ScatterPlotCategoricallyAggregatedFieldWells": wells}}

    def _table(self, visual: Visual) -> JsonDict:
        dims, measures = self._fields(visual)
        if measures:
            wells: JsonDict = {"TableAggregatedFieldWells": {"GroupBy": dims, "Values": measures}}
        else:  # rows as the dataset has them
            wells = {
                "TableUnaggregatedFieldWells": {
                    "Values": [
                        self._unaggregated(visual, i, d) for i, d in enumerate(visual.dimensions)
                    ]
                }
            }
        config: JsonDict = {"FieldWells": wells}
        sort: JsonDict = {}
        if visual.sort:
            sort["RowSort"] = self._sort(visual)
        if visual.limit:
            sort["PaginationConfiguration"] = {"PageSize": visual.limit, "PageNumber": 1}
        if sort:
            config["SortConfiguration"] = sort
        options = self._field_options(visual)
        if options:
            config["FieldOptions"] = options
        return config

    def _unaggregated(self, visual: Visual, index: int, field: Dimension) -> JsonDict:
        body: JsonDict = {
            "FieldId": field_id(visual, "d", index, field),
            "Column": self._column(visual, field.column),
        }
        number = numeric_format(field)
        if number and self._column_type(visual, field.column) in _NUMERIC:
            body["FormatConfiguration"] = {
                "NumberFormatConfiguration": {"FormatConfiguration": number}
            }
        return body

    def _pivot(self, visual: Visual) -> JsonDict:
        dims, measures = self._fields(visual)
        config: JsonDict = {
            "FieldWells": {
                "PivotTableAggregatedFieldWells": {
                    "Rows": dims[:1],
                    "Columns": dims[1:],
                    "Values": measures,
                }
            }
        }
        options = self._field_options(visual)
        if options:
            config["FieldOptions"] = options
        return config


def refresh_schedule(
    dataset: Dataset,
    *,
    interval: str | None = None,
    time_of_day: str | None = None,
    time_zone: str | None = None,
) -> JsonDict:
    """A SPICE dataset's CfnRefreshSchedule `Schedule` (CloudFormation spells the zone
    `TimeZone`), its definition's schedule with this environment's overrides applied. WEEKLY
    refreshes run on Mondays; HOURLY ones take no time of day."""
    if dataset.refresh is None:
        raise ValueError(f"dataset {dataset.id!r} is {dataset.import_mode}: it is not refreshed")
    interval = interval or dataset.refresh.interval
    frequency: JsonDict = {
        "Interval": interval,
        "TimeZone": time_zone or dataset.refresh.timezone,
    }
    if interval != "HOURLY":
        frequency["TimeOfTheDay"] = time_of_day or dataset.refresh.time_of_day
    if interval == "WEEKLY":
        frequency["RefreshOnDay"] = {"DayOfWeek": "MONDAY"}
    return {
        "ScheduleId": f"{physical_table_key(dataset)}-{interval.lower()}",
        "RefreshType": "FULL_REFRESH",
        "ScheduleFrequency": frequency,
    }
