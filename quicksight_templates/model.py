"""The dashboards as data: what a dataset, a parameter, a filter, a sheet and a visual are.

One definition feeds two renderers (QuickSight through the CDK, and the local HTML preview),
so this module says what a thing means and neither renderer's vocabulary leaks in beyond
QuickSight's own names for column types, aggregations and import modes. Shapes are checked
here (pydantic); references between files (a visual's dataset, a filter's parameter) are
checked by `quicksight_templates.loader`, which knows every file.
"""

from __future__ import annotations

from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

# QuickSight's limits for one analysis or dashboard, as its API model states them (botocore
# 1.44, quicksight 2018-04-01: DashboardVersionDefinition.Sheets max 20, SheetDefinition.Visuals
# max 75, GridLayoutElement ColumnIndex 0-35, ColumnSpan 1-36, RowIndex 0-9009, RowSpan 1-21).
MAX_SHEETS_PER_DASHBOARD = 20
MAX_VISUALS_PER_SHEET = 75
GRID_COLUMNS = 36
MAX_GRID_ROW = 9009
MAX_ROW_SPAN = 21
WEEK_START = "MONDAY"
"""Weeks start on Monday, as the marts' weeks do (QuickSight: Definition Options.WeekStart)."""

# Ids become QuickSight ids (pattern [\w\-]+) and HTML ids; parameter names are alphanumeric
# in QuickSight (no underscore or hyphen), so parameters follow their own pattern.
Identifier = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)]
ElementId = Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]*$", max_length=64)]
ParameterName = Annotated[str, Field(pattern=r"^[a-zA-Z][a-zA-Z0-9]*$", max_length=64)]
Text = Annotated[str, Field(min_length=1, max_length=512)]

ColumnType = Literal["STRING", "INTEGER", "DECIMAL", "DATETIME", "BOOLEAN"]
"""QuickSight's InputColumn types; a DATE column is DATETIME there."""

ImportMode = Literal["SPICE", "DIRECT_QUERY"]
Source = Literal["warehouse", "live"]
"""warehouse: the marts and scores in Redshift (locally the DuckDB warehouse). live: the
stream processor's realtime.* tables in PostgreSQL (RDS on AWS, the local server here)."""

Aggregation = Literal["SUM", "AVERAGE", "MIN", "MAX", "COUNT", "DISTINCT_COUNT", "RATIO"]
"""QuickSight's numerical aggregations, plus RATIO: SUM(column) / SUM(denominator), a
calculated field in QuickSight, so rates stay right at every level of grouping."""

Granularity = Literal["MINUTE", "HOUR", "DAY", "WEEK", "MONTH"]
NumberFormat = Literal["number", "integer", "currency", "percent"]
"""percent: the value is a fraction (0.25 shows as 25%)."""

VisualType = Literal[
    "kpi",
    "line",
    "bar",
    "stacked_bar",
    "table",
    "pivot",
    "funnel",
    "heatmap",
    "scatter",
    "donut",
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DatasetColumn(_Strict):
    name: Identifier
    type: ColumnType
    description: Text | None = None


class RefreshSchedule(_Strict):
    """A full SPICE refresh at a time of day, after the warehouse load it depends on."""

    interval: Literal["HOURLY", "DAILY", "WEEKLY"] = "DAILY"
    time_of_day: Annotated[str, Field(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")] = "07:00"
    timezone: str = "UTC"


class Dataset(_Strict):
    """One SQL query as QuickSight imports it. The SQL lives in a file: a dataset file of its
    own (quicksight_templates/datasets/<sql_file>) or an analysts' query of
    contracts/warehouse/queries (by name), so docs/queries.md and the dashboards share it."""

    id: Identifier
    title: Text
    description: Text
    source: Source = "warehouse"
    sql_file: str | None = None
    analyst_query: Identifier | None = None
    import_mode: ImportMode
    refresh: RefreshSchedule | None = None
    empty_message: Text | None = None
    """What an empty result means (shown instead of "no data"), e.g. no scores yet."""
    columns: Annotated[list[DatasetColumn], Field(min_length=1)]

    @model_validator(mode="after")
    def _one_sql_source_and_refresh_for_spice(self) -> Self:
        if (self.sql_file is None) == (self.analyst_query is None):
            raise ValueError("give exactly one of sql_file and analyst_query")
        if self.import_mode == "SPICE" and self.refresh is None:
            raise ValueError("a SPICE dataset needs a refresh schedule")
        if self.import_mode == "DIRECT_QUERY" and self.refresh is not None:
            raise ValueError("a DIRECT_QUERY dataset is never refreshed: remove refresh")
        return self

    def column(self, name: str) -> DatasetColumn | None:
        return next((column for column in self.columns if column.name == name), None)


class DatasetCatalog(_Strict):
    """quicksight_templates/datasets.yaml: every dataset, shared by the dashboards (one
    QuickSight dataset and one SPICE refresh however many dashboards use it)."""

    datasets: Annotated[list[Dataset], Field(min_length=1)]


class Parameter(_Strict):
    """A control on the dashboard. date_range: a start and an end date (QuickSight: two
    DateTime parameters, <name>From and <name>To), empty meaning the whole period. string:
    one value or all; the values are listed, or read from a dataset column."""

    name: ParameterName
    label: Text
    kind: Literal["date_range", "string"]
    values: list[Text] | None = None
    values_from: ColumnRef | None = None
    default_days: Annotated[int, Field(ge=1, le=3660)] | None = None
    """date_range only: starts as the last N days of the data (QuickSight: a rolling-date
    default of the From parameter, N days before now); the whole period when absent."""

    @model_validator(mode="after")
    def _values_only_for_strings(self) -> Self:
        if self.kind == "date_range" and (self.values or self.values_from):
            raise ValueError("a date_range parameter takes no values")
        if self.kind == "string" and self.default_days is not None:
            raise ValueError("default_days is for date_range parameters")
        if self.kind == "string" and (self.values is None) == (self.values_from is None):
            raise ValueError("a string parameter needs exactly one of values and values_from")
        return self


class ColumnRef(_Strict):
    dataset: Identifier
    column: Identifier


class Filter(_Strict):
    """Applies a parameter to one dataset's column, on every visual of that dataset: a date
    range keeps rows inside it, a string keeps rows equal to it (all rows when it is empty)."""

    id: ElementId
    parameter: ParameterName
    dataset: Identifier
    column: Identifier
    visuals: list[ElementId] | None = None
    """Only these visuals (of the dataset); every visual of the dataset when absent."""


class VisualField(_Strict):
    column: Identifier
    label: Text | None = None
    format: NumberFormat | None = None
    decimals: Annotated[int, Field(ge=0, le=6)] | None = None

    @property
    def places(self) -> int:
        """Decimal places shown, the same in QuickSight and on the local page: none for
        integers, else `decimals`, else the format's default (whole currency units, one
        place for percentages and other numbers)."""
        if self.format == "integer":
            return 0
        if self.decimals is not None:
            return self.decimals
        return 0 if self.format == "currency" else 1


class Dimension(VisualField):
    """A group-by field. granularity truncates a DATETIME column (minute to month)."""

    granularity: Granularity | None = None


class Measure(VisualField):
    aggregation: Aggregation
    denominator: Identifier | None = None

    @model_validator(mode="after")
    def _denominator_only_for_ratio(self) -> Self:
        if (self.aggregation == "RATIO") != (self.denominator is not None):
            raise ValueError("RATIO needs a denominator, and only RATIO takes one")
        return self


class Layout(_Strict):
    """Position on QuickSight's grid: 36 columns; rows are grid rows (a chart is ~12 high)."""

    column: Annotated[int, Field(ge=0, lt=GRID_COLUMNS)]
    row: Annotated[int, Field(ge=0, le=MAX_GRID_ROW)]
    width: Annotated[int, Field(ge=1, le=GRID_COLUMNS)]
    height: Annotated[int, Field(ge=1, le=MAX_ROW_SPAN)]

    @model_validator(mode="after")
    def _inside_the_grid(self) -> Self:
        if self.column + self.width > GRID_COLUMNS:
            raise ValueError(f"column + width must be at most {GRID_COLUMNS}")
        return self


class Sort(_Strict):
    column: Identifier
    """A dimension's or a measure's column of the visual."""
    descending: bool = True


class Visual(_Strict):
    """One chart. Field roles by type:
    - kpi: one measure; an optional DATETIME dimension with a granularity compares the
      latest complete period with the one before (QuickSight's trend group; a period is
      complete when the data reaches its last day, so with nightly marts the current week
      is left out until it ends: in QuickSight, a filter excluding the current period).
    - line, bar, stacked_bar: dimensions[0] is the x axis (bars: the category), an optional
      dimensions[1] the series/stack colour; one or more measures (several only without a
      second dimension).
    - donut, funnel: one dimension, one measure.
    - heatmap: dimensions[0] rows, dimensions[1] columns, one measure as the colour.
    - scatter: dimensions[0] one point each (optional dimensions[1] the colour), measures x, y.
    - table: dimensions then measures as columns (no measures: rows as the dataset has them).
    - pivot: dimensions[0] rows, dimensions[1] columns, measures in the cells.
    sort and limit pick the top rows (bar, table, donut); limit also caps table rows."""

    id: ElementId
    type: VisualType
    title: Text
    subtitle: Text
    dataset: Identifier
    dimensions: list[Dimension] = []
    measures: list[Measure] = []
    sort: Sort | None = None
    limit: Annotated[int, Field(ge=1, le=10_000)] | None = None
    layout: Layout

    @model_validator(mode="after")
    def _fields_fit_the_type(self) -> Self:
        dims, measures = len(self.dimensions), len(self.measures)
        rules: dict[str, tuple[range, range]] = {
            "kpi": (range(0, 2), range(1, 2)),
            "line": (range(1, 3), range(1, 6)),
            "bar": (range(1, 3), range(1, 6)),
            "stacked_bar": (range(2, 3), range(1, 2)),
            "donut": (range(1, 2), range(1, 2)),
            "funnel": (range(1, 2), range(1, 2)),
            "heatmap": (range(2, 3), range(1, 2)),
            "scatter": (range(1, 3), range(2, 3)),
            "table": (range(1, 21), range(0, 21)),
            "pivot": (range(2, 3), range(1, 6)),
        }
        allowed_dims, allowed_measures = rules[self.type]
        if dims not in allowed_dims or measures not in allowed_measures:
            raise ValueError(
                f"a {self.type} visual takes {_span(allowed_dims)} dimension(s) and "
                f"{_span(allowed_measures)} measure(s), not {dims} and {measures}"
            )
        if self.type in ("line", "bar") and dims == 2 and measures > 1:
            raise ValueError(f"a {self.type} visual with a colour dimension takes one measure")
        names = [field.column for field in [*self.dimensions, *self.measures]]
        if self.sort is not None and self.sort.column not in names:
            raise ValueError(f"sort column {self.sort.column!r} is not a field of the visual")
        return self

    @property
    def fields(self) -> list[VisualField]:
        return [*self.dimensions, *self.measures]


def _span(allowed: range) -> str:
    low, high = allowed.start, allowed.stop - 1
    return str(low) if low == high else f"{low}-{high}"


class Sheet(_Strict):
    id: ElementId
    title: Text
    description: Text | None = None
    visuals: Annotated[list[Visual], Field(min_length=1)]


class Dashboard(_Strict):
    """quicksight_templates/dashboards/<id>.yaml. position orders the dashboards (1 first) in
    the QuickSight folder's listing and the local site's navigation."""

    id: ElementId
    position: Annotated[int, Field(ge=1)]
    title: Text
    description: Text
    parameters: list[Parameter] = []
    filters: list[Filter] = []
    sheets: Annotated[list[Sheet], Field(min_length=1)]

    @property
    def visuals(self) -> list[Visual]:
        return [visual for sheet in self.sheets for visual in sheet.visuals]

    @property
    def dataset_ids(self) -> list[str]:
        """The datasets the visuals use, in first-use order."""
        return list(dict.fromkeys(visual.dataset for visual in self.visuals))

    def filters_on(self, dataset_id: str) -> list[Filter]:
        return [item for item in self.filters if item.dataset == dataset_id]


Parameter.model_rebuild()
