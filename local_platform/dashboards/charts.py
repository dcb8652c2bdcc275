"""A visual of a definition as a Vega-Lite spec that aggregates the dataset's rows itself.

Each spec reads the named data set `rows` (the dataset's rows after the dashboard's filters,
put there by the page) and does what QuickSight does with the field wells: truncate dates to
the dimension's granularity (weeks start on Monday, as in the marts), group by the dimensions,
aggregate the measures (RATIO = sum / sum), sort and keep the top rows, and format numbers as
the definition says. Internal field names are d0.. for dimensions and m0.. for measures, so a
column used twice cannot collide.
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Mapping
from math import ceil
from typing import Any

from quicksight_templates.model import Dataset, Dimension, Measure, Visual, VisualField

VEGA_LITE_VERSION = "6.4"
"""The Vega-Lite the pages carry (vl-convert's bundle of this version) and the specs target."""
ROWS = "rows"
"""The data set every spec reads; the page inserts the filtered rows under this name."""
CELL_WIDTH = 36
"""Pixels per grid column: QuickSight's 36 columns make a 1296-pixel sheet."""
CELL_HEIGHT = 28
"""Pixels per grid row."""
TABLE_ROW_HEIGHT = 20
DEFAULT_TABLE_LIMIT = 100
# The least room (px) between two labels of a category axis; closer ones are dropped.
_LABEL_SEPARATION = 6
# Room for the vertical scroll bar of a card whose rows scroll (tables, pivots).
_SCROLL_BAR = 16
# Table columns. A character of the bold 11 px header font, with some room to spare:
_CHARACTER_PX = 7.5
# Numeric columns between these widths (an amount needs more than a count):
_NUMERIC_COLUMN_MIN = 56
_AMOUNT_COLUMN_MIN = 72
_NUMERIC_COLUMN_MAX = 96
# The least a text column keeps before the numeric columns narrow to make room:
_TEXT_COLUMN_MIN = 96
# A text column needs its longest value, counted up to this many characters, at this many
# pixels a character of the 11 px cell font (on the wide side: "medium" is 45 px), plus the
# room a cell keeps beside its text:
_TEXT_SHARE_MAX = 40
_VALUE_CHARACTER_PX = 8
_CELL_PADDING = 6

_OPS = {
    "SUM": "sum",
    "AVERAGE": "mean",
    "MIN": "min",
    "MAX": "max",
    "COUNT": "valid",
    "DISTINCT_COUNT": "distinct",
}
_DAY = 86_400_000
_TRUNCATE = {
    "MINUTE": "floor({v} / 60000) * 60000",
    "HOUR": "floor({v} / 3600000) * 3600000",
    "DAY": f"floor({{v}} / {_DAY}) * {_DAY}",
    "WEEK": f"floor({{v}} / {_DAY}) * {_DAY} - ((utcday({{v}}) + 6) % 7) * {_DAY}",
    "MONTH": "utc(utcyear({v}), utcmonth({v}), 1)",
}
_DATE_FORMATS = {
    "MINUTE": "%H:%M",
    "HOUR": "%H:00",
    "DAY": "%d %b",
    "WEEK": "%d %b",
    "MONTH": "%b %Y",
    None: "%Y-%m-%d %H:%M",
}
# Vega-Lite's time units for bars over time: a period without rows stays a visible gap on the
# axis instead of vanishing from a list of labels. Weeks start on Monday here and on Sunday in
# Vega-Lite, so weekly bars keep their labelled axis.
_BAR_TIME_UNITS = {
    "MINUTE": "utcyearmonthdatehoursminutes",
    "HOUR": "utcyearmonthdatehours",
    "DAY": "utcyearmonthdate",
    "MONTH": "utcyearmonth",
}
_PERIOD_NAMES = {"MINUTE": "minute", "HOUR": "hour", "DAY": "day", "WEEK": "week", "MONTH": "month"}
_PERIOD_CAPTIONS = {
    "MINUTE": "Minute ",
    "HOUR": "Hour from ",
    "DAY": "",
    "WEEK": "Week of ",
    "MONTH": "",
}
_PERIOD_END = {
    "MINUTE": "datum.d0 + 60000",
    "HOUR": "datum.d0 + 3600000",
    "DAY": f"datum.d0 + {_DAY}",
    "WEEK": f"datum.d0 + 7 * {_DAY}",
    "MONTH": "utc(utcyear(datum.d0), utcmonth(datum.d0) + 1, 1)",
}
_DATA_END = {
    "MINUTE": "floor(datum._last / 60000) * 60000 + 60000",
    "HOUR": "floor(datum._last / 60000) * 60000 + 60000",
    "DAY": f"floor(datum._last / {_DAY}) * {_DAY} + {_DAY}",
    "WEEK": f"floor(datum._last / {_DAY}) * {_DAY} + {_DAY}",
    "MONTH": f"floor(datum._last / {_DAY}) * {_DAY} + {_DAY}",
}
"""The end of the data: the day (or minute) of its latest value, included."""
_CONFIG = {
    "view": {"stroke": None},
    "font": "system-ui, -apple-system, Segoe UI, sans-serif",
    "axis": {"labelFontSize": 11, "titleFontSize": 11, "titleColor": "#555", "gridColor": "#eee"},
    "legend": {"orient": "bottom", "labelFontSize": 11, "titleFontSize": 11},
    "range": {"category": {"scheme": "tableau10"}},
}


def number_format(field: VisualField) -> str:
    """The d3-format string of a field: what QuickSight's number formatting shows."""
    match field.format:
        case "currency":
            return f"$,.{field.places}f"
        case "percent":
            return f".{field.places}%"
        case _:
            return f",.{field.places}f"


def field_label(field: VisualField) -> str:
    return field.label or field.column.replace("_", " ").capitalize()


def chart_size(visual: Visual) -> tuple[int, int]:
    """Plot width and height in pixels for the visual's grid box (title, subtitle and
    padding take the rest of the card)."""
    width = visual.layout.width * CELL_WIDTH - 30
    height = visual.layout.height * CELL_HEIGHT - 94
    return width, max(height, 40)


def vega_lite_spec(
    visual: Visual, dataset: Dataset, text_lengths: Mapping[str, int] | None = None
) -> dict[str, Any]:
    """The visual as a Vega-Lite spec over the named data set `rows`. `text_lengths` (the
    longest value of each text column, in characters, where known) shares a table's room
    between its text columns; without it they share it equally."""
    builder = _BUILDERS[visual.type]
    spec = builder(_Fields(visual, dataset, text_lengths or {}))
    return {
        "$schema": f"https://vega.github.io/schema/vega-lite/v{VEGA_LITE_VERSION.split('.')[0]}.json",
        "data": {"name": ROWS},
        **spec,
        "config": _CONFIG,
    }


class _Fields:
    """The visual's fields under their internal names, with types and formats."""

    def __init__(self, visual: Visual, dataset: Dataset, text_lengths: Mapping[str, int]) -> None:
        self.visual = visual
        self.dataset = dataset
        self.text_lengths = text_lengths
        self.width, self.height = chart_size(visual)
        self.dims = [f"d{index}" for index in range(len(visual.dimensions))]
        self.measures = [f"m{index}" for index in range(len(visual.measures))]

    def column_type(self, field: VisualField) -> str:
        column = self.dataset.column(field.column)
        if column is None:
            raise ValueError(f"{self.dataset.id} has no column {field.column!r}")
        return column.type

    def is_time(self, index: int) -> bool:
        return self.column_type(self.visual.dimensions[index]) == "DATETIME"

    def internal(self, column: str) -> str:
        """The internal name of the visual's field on this column (for sort)."""
        for name, field in zip(self.dims, self.visual.dimensions, strict=True):
            if field.column == column:
                return name
        for name, field in zip(self.measures, self.visual.measures, strict=True):
            if field.column == column:
                return name
        raise ValueError(f"{column!r} is not a field of {self.visual.id}")

    def dimension_transforms(self) -> list[dict[str, Any]]:
        transforms = []
        for name, field in zip(self.dims, self.visual.dimensions, strict=True):
            source = f"datum[{json.dumps(field.column)}]"
            if field.granularity is not None:
                expression = _TRUNCATE[field.granularity].format(v=source)
                source = f"isValid({source}) ? {expression} : null"
            transforms.append({"calculate": source, "as": name})
            if self.column_type(field) == "DATETIME":
                fmt = _DATE_FORMATS[field.granularity]
                transforms.append(
                    {
                        "calculate": f"isValid(datum.{name}) ? utcFormat(datum.{name}, "
                        f"{json.dumps(fmt)}) : '(none)'",
                        "as": f"{name}_label",
                    }
                )
            else:
                transforms.append(
                    {
                        "calculate": f"isValid(datum.{name}) ? '' + datum.{name} : '(none)'",
                        "as": f"{name}_label",
                    }
                )
        return transforms

    def aggregate_transforms(
        self, groupby: list[str], extra: list[str] | None = None
    ) -> list[dict[str, Any]]:
        """Group by the given dimensions (and extra fields, constant per group) and
        aggregate every measure."""
        ops, ratios = [], []
        for name, measure in zip(self.measures, self.visual.measures, strict=True):
            if measure.aggregation == "RATIO":
                ops.append({"op": "sum", "field": measure.column, "as": f"{name}_n"})
                ops.append({"op": "sum", "field": measure.denominator, "as": f"{name}_d"})
                ratios.append(
                    {
                        "calculate": f"datum.{name}_d ? datum.{name}_n / datum.{name}_d : null",
                        "as": name,
                    }
                )
            else:
                ops.append({"op": _OPS[measure.aggregation], "field": measure.column, "as": name})
        labels = [f"{name}_label" for name in groupby]
        return [{"aggregate": ops, "groupby": [*groupby, *labels, *(extra or [])]}, *ratios]

    def top_transforms(self, default_limit: int | None = None) -> list[dict[str, Any]]:
        """Rank by the visual's sort and keep `limit` rows (as QuickSight's items limit)."""
        sort = self.visual.sort
        limit = self.visual.limit or default_limit
        if sort is None and limit is None:
            return []
        order = []
        if sort is not None:
            order = [
                {
                    "field": self.internal(sort.column),
                    "order": "descending" if sort.descending else "ascending",
                }
            ]
        transforms: list[dict[str, Any]] = [
            {"window": [{"op": "row_number", "as": "_row"}], "sort": order}
        ]
        if limit is not None:
            transforms.append({"filter": f"datum._row <= {limit}"})
        return transforms

    def tooltip(self) -> list[dict[str, Any]]:
        items = [
            {"field": f"{name}_label", "title": field_label(field)}
            for name, field in zip(self.dims, self.visual.dimensions, strict=True)
        ]
        items += [
            {"field": name, "title": field_label(field), "format": number_format(field)}
            for name, field in zip(self.measures, self.visual.measures, strict=True)
        ]
        return items

    def sort_key(self, index: int) -> dict[str, Any]:
        """How the categories of dimension `index` are ordered along their axis."""
        sort = self.visual.sort
        if sort is not None:
            return {
                "field": self.internal(sort.column),
                "op": "max",
                "order": "descending" if sort.descending else "ascending",
            }
        return {"field": self.dims[index], "op": "min", "order": "ascending"}

    def category(self, index: int, axis: dict[str, Any] | None = None) -> dict[str, Any]:
        """Dimension `index` as a discrete axis of labels, in sort order."""
        field = self.visual.dimensions[index]
        return {
            "field": f"{self.dims[index]}_label",
            "type": "ordinal",
            "sort": self.sort_key(index),
            "title": field_label(field),
            "axis": {"labelLimit": 180, **(axis or {})},
        }

    def fold_measures(self) -> list[dict[str, Any]]:
        """One row per measure (several measures become series), labelled for the legend."""
        labels = {
            name: field_label(field)
            for name, field in zip(self.measures, self.visual.measures, strict=True)
        }
        return [
            {"fold": self.measures, "as": ["_measure", "_value"]},
            {"calculate": f"{json.dumps(labels)}[datum._measure]", "as": "_series"},
        ]

    def value_axis(self) -> dict[str, Any]:
        """Axis of the measures' values: their format, and whole ticks for counts."""
        first = self.visual.measures[0]
        axis: dict[str, Any] = {"format": number_format(first)}
        if first.format == "integer":
            axis["tickMinStep"] = 1
        return axis

    def value_axis_format(self) -> str:
        return number_format(self.visual.measures[0])

    def value_title(self) -> str:
        if len(self.visual.measures) == 1:
            return field_label(self.visual.measures[0])
        return ""


def _base(fields: _Fields) -> dict[str, Any]:
    # The padding Vega adds around the plot counts in the width, or the card clips its edge.
    return {
        "width": fields.width,
        "height": fields.height,
        "autosize": {"type": "fit", "contains": "padding"},
    }


def _series(fields: _Fields) -> tuple[list[dict[str, Any]], dict[str, Any] | None, str]:
    """Transforms, colour encoding and value field for line/bar charts: a second dimension
    or several measures make the series."""
    groupby = fields.dims
    transforms = [*fields.dimension_transforms(), *fields.aggregate_transforms(groupby)]
    if len(fields.dims) == 2:
        title = field_label(fields.visual.dimensions[1])
        return transforms, {"field": "d1_label", "type": "nominal", "title": title}, "m0"
    if len(fields.measures) > 1:
        transforms += fields.fold_measures()
        return transforms, {"field": "_series", "type": "nominal", "title": None}, "_value"
    return transforms, None, "m0"


def _time_axis(fields: _Fields) -> dict[str, Any]:
    """The first dimension, a time, as a UTC time axis labelled at its granularity."""
    granularity = fields.visual.dimensions[0].granularity
    return {
        "field": "d0",
        "type": "temporal",
        "title": field_label(fields.visual.dimensions[0]),
        "scale": {"type": "utc"},
        "axis": {"labelExpr": f"utcFormat(datum.value, {json.dumps(_DATE_FORMATS[granularity])})"},
    }


def _line(fields: _Fields) -> dict[str, Any]:
    transforms, color, value = _series(fields)
    x = _time_axis(fields) if fields.is_time(0) else fields.category(0)
    encoding: dict[str, Any] = {
        "x": x,
        "y": {
            "field": value,
            "type": "quantitative",
            "title": fields.value_title(),
            "axis": fields.value_axis(),
        },
        "tooltip": _series_tooltip(fields, value),
    }
    if color:
        encoding["color"] = color
    return {
        **_base(fields),
        "transform": transforms,
        "mark": {"type": "line", "point": True, "interpolate": "linear"},
        "encoding": encoding,
    }


def _series_tooltip(fields: _Fields, value: str) -> list[dict[str, Any]]:
    if value == "_value":
        first = fields.visual.dimensions[0]
        return [
            {"field": "d0_label", "title": field_label(first)},
            {"field": "_series", "title": "Measure"},
            {"field": "_value", "title": "Value", "format": fields.value_axis_format()},
        ]
    return fields.tooltip()


def _bar(fields: _Fields, stacked: bool = False) -> dict[str, Any]:
    transforms, color, value = _series(fields)
    if len(fields.dims) == 1:
        transforms += fields.top_transforms()
    horizontal = not fields.is_time(0) and fields.column_type(fields.visual.dimensions[0]) == (
        "STRING"
    )
    unit = _BAR_TIME_UNITS.get(fields.visual.dimensions[0].granularity)
    if fields.is_time(0) and unit and not color:  # a time scale: see _BAR_TIME_UNITS
        category = {**_time_axis(fields), "timeUnit": unit}
    else:
        category = fields.category(0, {"labelAngle": 0} if not horizontal else None)
    quantity = {
        "field": value,
        "type": "quantitative",
        "title": fields.value_title(),
        "axis": fields.value_axis(),
    }
    encoding: dict[str, Any] = (
        {"y": category, "x": quantity} if horizontal else {"x": category, "y": quantity}
    )
    encoding["tooltip"] = _series_tooltip(fields, value)
    if color:
        encoding["color"] = color
        if not stacked:
            encoding["yOffset" if horizontal else "xOffset"] = {"field": color["field"]}
    if not horizontal:
        # Labels that would touch are dropped in turn: without a gap, "03 Aug" and "10 Aug"
        # met as "03 Aug10 Aug" on a weekly band axis.
        encoding["x"]["axis"].update(labelOverlap="greedy", labelSeparation=_LABEL_SEPARATION)
    return {**_base(fields), "transform": transforms, "mark": "bar", "encoding": encoding}


def _stacked_bar(fields: _Fields) -> dict[str, Any]:
    return _bar(fields, stacked=True)


def _donut(fields: _Fields) -> dict[str, Any]:
    transforms = [
        *fields.dimension_transforms(),
        *fields.aggregate_transforms(fields.dims),
        *fields.top_transforms(),
    ]
    # The legend sits right of the ring, outside the plot width.
    width = fields.width - 170
    radius = min(width, fields.height) / 2 - 4
    return {
        "width": width,
        "height": fields.height,
        "transform": transforms,
        "mark": {"type": "arc", "innerRadius": radius * 0.55, "outerRadius": radius},
        "encoding": {
            "theta": {"field": "m0", "type": "quantitative", "stack": True},
            "color": {
                "field": "d0_label",
                "type": "nominal",
                "title": field_label(fields.visual.dimensions[0]),
                "legend": {"orient": "right"},
            },
            "order": {"field": "m0", "sort": "descending"},
            "tooltip": fields.tooltip(),
        },
    }


def _funnel(fields: _Fields) -> dict[str, Any]:
    measure = fields.visual.measures[0]
    sort = fields.sort_key(0)
    order = {"field": sort["field"], "order": sort["order"]}
    transforms = [
        *fields.dimension_transforms(),
        *fields.aggregate_transforms(fields.dims),
        {"window": [{"op": "lag", "field": "m0", "as": "_previous"}], "sort": [order]},
        {
            "calculate": f"format(datum.m0, {json.dumps(number_format(measure))})"
            " + (datum._previous ? ' (' + format(datum.m0 / datum._previous, '.0%')"
            " + ' of the step before)' : '')",
            "as": "_text",
        },
    ]
    category = fields.category(0)
    category["axis"] = {"labelLimit": 160, "title": None}
    return {
        **_base(fields),
        "transform": transforms,
        "encoding": {
            "y": category,
            "x": {"field": "m0", "type": "quantitative", "axis": None},
            "tooltip": fields.tooltip(),
        },
        "layer": [
            {"mark": {"type": "bar", "color": "#4c78a8"}},
            {
                "mark": {"type": "text", "align": "left", "dx": 4, "fontSize": 11},
                "encoding": {"text": {"field": "_text"}, "x": {"datum": 0}},
            },
        ],
    }


def _heatmap(fields: _Fields) -> dict[str, Any]:
    measure = fields.visual.measures[0]
    transforms = [*fields.dimension_transforms(), *fields.aggregate_transforms(fields.dims)]
    return {
        **_base(fields),
        "transform": transforms,
        "encoding": {
            "y": fields.category(0),
            "x": fields.category(1, {"labelAngle": 0, "orient": "top"}),
            "tooltip": fields.tooltip(),
        },
        "layer": [
            {
                "mark": "rect",
                "encoding": {
                    "color": {
                        "field": "m0",
                        "type": "quantitative",
                        "title": field_label(measure),
                        "scale": {"scheme": "blues"},
                        "legend": {"format": number_format(measure)},
                    }
                },
            },
            {
                "mark": {"type": "text", "fontSize": 10},
                "encoding": {
                    "text": {"field": "m0", "format": number_format(measure)},
                    "color": {
                        "condition": {"test": "datum.m0 > 0.5", "value": "white"},
                        "value": "#222",
                    },
                },
            },
        ],
    }


def _scatter(fields: _Fields) -> dict[str, Any]:
    x_field, y_field = fields.visual.measures
    transforms = [*fields.dimension_transforms(), *fields.aggregate_transforms(fields.dims)]
    encoding: dict[str, Any] = {
        "x": {
            "field": "m0",
            "type": "quantitative",
            "title": field_label(x_field),
            "axis": {"format": number_format(x_field)},
        },
        "y": {
            "field": "m1",
            "type": "quantitative",
            "title": field_label(y_field),
            "axis": {"format": number_format(y_field)},
        },
        "tooltip": fields.tooltip(),
    }
    if len(fields.dims) == 2:
        encoding["color"] = {
            "field": "d1_label",
            "type": "nominal",
            "title": field_label(fields.visual.dimensions[1]),
        }
    return {
        **_base(fields),
        "transform": transforms,
        "mark": {"type": "point", "filled": True, "opacity": 0.7},
        "encoding": encoding,
    }


def _kpi(fields: _Fields) -> dict[str, Any]:
    """The measure over all rows, or (with a trend dimension) over the latest complete period
    with the change against the period before it. A period is complete when the data reaches
    its last day: the nightly marts end yesterday, so "this week" is left out until it ends."""
    measure = fields.visual.measures[0]
    value_format = json.dumps(number_format(measure))
    middle = fields.height / 2
    transforms = fields.aggregate_transforms([])
    caption = "''"
    change = "''"
    if fields.dims:
        trend = fields.visual.dimensions[0]
        granularity = str(trend.granularity)
        period = _PERIOD_NAMES[granularity]
        transforms = [
            *fields.dimension_transforms(),
            {"filter": "isValid(datum.d0)"},
            {"joinaggregate": [{"op": "max", "field": trend.column, "as": "_last"}]},
            *fields.aggregate_transforms(["d0"], extra=["_last"]),
            {"calculate": _PERIOD_END[granularity], "as": "_end"},
            {"filter": f"datum._end <= {_DATA_END[granularity]}"},
            {
                "window": [{"op": "row_number", "as": "_rank"}],
                "sort": [{"field": "d0", "order": "descending"}],
            },
            {"filter": "datum._rank <= 2"},
            {"joinaggregate": [{"op": "max", "field": "d0", "as": "_latest"}]},
            {"pivot": "_rank", "value": "m0", "groupby": ["_latest"]},
            {"calculate": "datum['1']", "as": "m0"},
            {
                "calculate": "isValid(datum['2']) && datum['2'] != 0"
                " ? (datum['1'] - datum['2']) / abs(datum['2']) : null",
                "as": "_change",
            },
        ]
        date_format = json.dumps(_DATE_FORMATS[granularity])
        caption = (
            f"{json.dumps(_PERIOD_CAPTIONS[granularity])} + utcFormat(datum._latest, {date_format})"
        )
        change = (
            "isValid(datum._change) ? (datum._change >= 0 ? '▲ ' : '▼ ')"
            f" + format(abs(datum._change), '.1%') + ' vs previous {period}'"
            f" : 'no previous {period} to compare'"
        )
    transforms += [
        {"calculate": f"isValid(datum.m0) ? format(datum.m0, {value_format}) : '–'", "as": "_text"},
        {"calculate": change, "as": "_change_text"},
        {"calculate": caption, "as": "_caption"},
    ]
    center = fields.width / 2
    return {
        "width": fields.width,
        "height": fields.height,
        "padding": 0,
        "autosize": "none",
        "transform": transforms,
        "layer": [
            {
                "mark": {
                    "type": "text",
                    "fontSize": 30,
                    "fontWeight": "bold",
                    "baseline": "middle",
                },
                "encoding": {
                    "text": {"field": "_text"},
                    "x": {"value": center},
                    "y": {"value": middle - 14},
                },
            },
            {
                "mark": {"type": "text", "fontSize": 12, "baseline": "middle"},
                "encoding": {
                    "text": {"field": "_change_text"},
                    "x": {"value": center},
                    "y": {"value": middle + 12},
                    "color": {"value": "#3d4a5c"},
                },
            },
            {
                "mark": {"type": "text", "fontSize": 10, "color": "#777", "baseline": "middle"},
                "encoding": {
                    "text": {"field": "_caption"},
                    "x": {"value": center},
                    "y": {"value": middle + 28},
                },
            },
        ],
    }


def _header_lines(title: str, characters: int) -> list[str]:
    """The title in lines of at most `characters` (a word longer than that keeps its line)."""
    return textwrap.wrap(title, max(characters, 1), break_long_words=False) or [title]


def _numeric_column_width(title: str, least: int) -> int:
    """Room for the title in at most two lines, and at least `least` pixels for the values."""
    characters = max(len(word) for word in title.split()) if title.strip() else 1
    while len(_header_lines(title, characters)) > 2:
        characters += 1
    return min(_NUMERIC_COLUMN_MAX, max(least, ceil(characters * _CHARACTER_PX)))


def _column_widths(
    titles: list[str], least: list[int | None], shares: list[int], available: int
) -> list[int]:
    """Widths of a table's columns: numeric ones (those with a least width) as wide as their
    titles need, text ones sharing the rest by their `shares` (characters); when the text would
    keep under its least width, the numeric columns narrow in proportion to make room for it."""
    numeric = {
        index: _numeric_column_width(title, width)
        for index, (title, width) in enumerate(zip(titles, least, strict=True))
        if width is not None
    }
    text_columns = len(titles) - len(numeric)
    if not text_columns:
        return [min(width, available // len(titles)) for width in numeric.values()]
    wanted = sum(numeric.values())
    room = available - _TEXT_COLUMN_MIN * text_columns
    if wanted > room:
        numeric = {index: width * room // wanted for index, width in numeric.items()}
        wanted = sum(numeric.values())
    text = [index for index in range(len(titles)) if index not in numeric]
    text_widths = _share_text_room([shares[index] for index in text], available - wanted)
    widths = {**numeric, **dict(zip(text, text_widths, strict=True))}
    return [widths[index] for index in range(len(titles))]


def _share_text_room(shares: list[int], room: int) -> list[int]:
    """Text columns' widths: each gets what its share of characters needs if the room allows;
    if not, the narrowest needs are met first and the rest split what is left equally, so a
    short status column is not cut to make a long name a little less cut. Room beyond every
    need goes in proportion to the needs."""
    needs = [ceil(share * _VALUE_CHARACTER_PX) + _CELL_PADDING for share in shares]
    widths = [0] * len(needs)
    left = room
    for done, index in enumerate(sorted(range(len(needs)), key=needs.__getitem__)):
        widths[index] = min(needs[index], left // (len(needs) - done))
        left -= widths[index]
    return [width + left * need // sum(needs) for width, need in zip(widths, needs, strict=True)]


def _text_share(title: str, longest_value: int) -> int:
    """A text column's share of the room: its longest value or its title, whichever is
    longer."""
    return max(len(title), min(longest_value, _TEXT_SHARE_MAX))


def _least_numeric_width(field: VisualField) -> int:
    """What the column's values need: an amount such as "$1,234,567" more than a count."""
    return _AMOUNT_COLUMN_MIN if field.format == "currency" else _NUMERIC_COLUMN_MIN


def _text_column(name: str, title: list[str], width: int, numeric: bool) -> dict[str, Any]:
    return {
        "width": width,
        "height": {"step": TABLE_ROW_HEIGHT},
        "title": {
            "text": title,
            "limit": width,
            "fontSize": 11,
            "anchor": "end" if numeric else "start",
            "color": "#555",
        },
        "mark": {
            "type": "text",
            "align": "right" if numeric else "left",
            "limit": width - _CELL_PADDING,
            "fontSize": 11,
        },
        "encoding": {
            "y": {"field": "_row", "type": "ordinal", "axis": None},
            "text": {"field": name},
            "x": {"value": width if numeric else 0},
        },
    }


def _cell_text(name: str, field: VisualField, column_type: str) -> dict[str, Any]:
    """A calculate transform that formats a table cell as the definition says."""
    value = f"datum.{name}"
    if isinstance(field, Measure) or (field.format and column_type in ("INTEGER", "DECIMAL")):
        text = f"format({value}, {json.dumps(number_format(field))})"
    elif column_type == "DATETIME":
        granularity = field.granularity if isinstance(field, Dimension) else None
        text = f"utcFormat({value}, {json.dumps(_DATE_FORMATS[granularity])})"
    else:
        text = f"'' + {value}"
    return {"calculate": f"isValid({value}) ? {text} : '–'", "as": f"{name}_text"}


def _table(fields: _Fields) -> dict[str, Any]:
    visual = fields.visual
    transforms = fields.dimension_transforms()
    if fields.measures:
        transforms += fields.aggregate_transforms(fields.dims)
    top = fields.top_transforms(DEFAULT_TABLE_LIMIT)
    transforms += top or [{"window": [{"op": "row_number", "as": "_row"}]}]
    names = [*fields.dims, *fields.measures]
    columns = []
    least_widths: list[int | None] = []
    for name, field in zip(names, visual.fields, strict=True):
        column_type = fields.column_type(field)
        transforms.append(_cell_text(name, field, column_type))
        numeric = isinstance(field, Measure) or column_type in ("INTEGER", "DECIMAL")
        least_widths.append(_least_numeric_width(field) if numeric else None)
        columns.append((f"{name}_text", field_label(field), numeric))
    spacing = 8
    # 10: the view's padding; then room for the card's vertical scroll bar.
    available = fields.width - 10 - _SCROLL_BAR - spacing * (len(columns) - 1)
    titles = [title for _, title, _ in columns]
    lengths = [fields.text_lengths.get(field.column) for field in visual.fields]
    shares = (
        [1] * len(titles)  # the values are not known: equal shares
        if None in lengths
        else [_text_share(title, length) for title, length in zip(titles, lengths, strict=True)]
    )
    widths = _column_widths(titles, least_widths, shares, available)
    headers = [
        _header_lines(title, int(width / _CHARACTER_PX))
        for title, width in zip(titles, widths, strict=True)
    ]
    # Every header as many lines high, so that the columns' rows line up.
    lines = max(len(header) for header in headers)
    headers = [header + ["\u00a0"] * (lines - len(header)) for header in headers]
    return {
        "transform": transforms,
        "hconcat": [
            _text_column(name, header, width, numeric)
            for (name, _, numeric), header, width in zip(columns, headers, widths, strict=True)
        ],
        "spacing": spacing,
    }


def _pivot(fields: _Fields) -> dict[str, Any]:
    transforms = [*fields.dimension_transforms(), *fields.aggregate_transforms(fields.dims)]
    formats = {
        name: number_format(field)
        for name, field in zip(fields.measures, fields.visual.measures, strict=True)
    }
    transforms += fields.fold_measures()
    transforms.append(
        {
            "calculate": f"isValid(datum._value) ? format(datum._value, "
            f"{json.dumps(formats)}[datum._measure]) : '–'",
            "as": "_text",
        }
    )
    column_title = field_label(fields.visual.dimensions[1])
    if len(fields.measures) > 1:
        transforms.append({"calculate": "datum.d1_label + ' · ' + datum._series", "as": "d1_label"})
    return {
        # The row labels, however long, come out of the width (rows scroll, so the scroll
        # bar's room too); the height grows with the rows.
        "width": fields.width - _SCROLL_BAR,
        "autosize": {"type": "fit-x", "contains": "padding"},
        "height": {"step": TABLE_ROW_HEIGHT + 4},
        "transform": transforms,
        "encoding": {
            "y": fields.category(0),
            "x": {
                "field": "d1_label",
                "type": "ordinal",
                "title": column_title,
                "axis": {"orient": "top", "labelAngle": 0},
            },
            **({"tooltip": fields.tooltip()} if len(fields.measures) == 1 else {}),
        },
        "layer": [
            {"mark": {"type": "rect", "color": "#f2f6fb", "stroke": "#fff"}},
            {"mark": {"type": "text", "fontSize": 11}, "encoding": {"text": {"field": "_text"}}},
        ],
    }


_BUILDERS = {
    "kpi": _kpi,
    "line": _line,
    "bar": _bar,
    "stacked_bar": _stacked_bar,
    "table": _table,
    "pivot": _pivot,
    "funnel": _funnel,
    "heatmap": _heatmap,
    "scatter": _scatter,
    "donut": _donut,
}
