"""Read and cross-check every dashboard definition, failing on the first file that is wrong.

The shapes are the model's; what only the whole set can say is checked here: that a visual's
dataset and columns exist, that ids are unique, that a filter names a declared parameter and
a dataset its dashboard shows, and that QuickSight's limits hold. Every error names the file
and the path of the bad key (`sheets[1].visuals[0].dataset`), so a broken definition stops
the local build and the synth before anything is deployed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from contracts.warehouse.queries import QUERIES_DIR, AnalystQueryError, load_queries
from quicksight_templates.model import (
    MAX_SHEETS_PER_DASHBOARD,
    MAX_VISUALS_PER_SHEET,
    ColumnRef,
    Dashboard,
    Dataset,
    DatasetCatalog,
    Sheet,
    Visual,
)

TEMPLATES_DIR = Path(__file__).resolve().parent
CATALOG_FILE = "datasets.yaml"
DATASETS_SQL_DIR = "datasets"
DASHBOARDS_DIR = "dashboards"
_NUMERIC = ("INTEGER", "DECIMAL")
_FILTER_TYPES = {"date_range": "DATETIME", "string": "STRING"}
M = TypeVar("M", bound=BaseModel)


class DefinitionError(ValueError):
    """A definition is wrong; the message is `file: key.path: what is wrong`."""

    def __init__(self, file: Path, path: str, message: str) -> None:
        self.file, self.path = file, path
        super().__init__(f"{file}: {path}: {message}" if path else f"{file}: {message}")


@dataclass(frozen=True)
class Definitions:
    """Every dataset (with its SQL) and every dashboard, in file order."""

    datasets: dict[str, Dataset]
    sql: dict[str, str]
    dashboards: dict[str, Dashboard]

    def datasets_of(self, dashboard: Dashboard) -> list[Dataset]:
        return [self.datasets[dataset_id] for dataset_id in dashboard.dataset_ids]


def load_definitions(root: Path = TEMPLATES_DIR, queries_dir: Path = QUERIES_DIR) -> Definitions:
    """The catalog and every dashboard under root, checked; DefinitionError when wrong."""
    catalog_file = root / CATALOG_FILE
    catalog = _parse(catalog_file, DatasetCatalog)
    datasets = _check_catalog(catalog_file, catalog)
    sql = _read_sql(catalog_file, catalog, root / DATASETS_SQL_DIR, queries_dir)
    dashboards: dict[int, Dashboard] = {}
    files = sorted((root / DASHBOARDS_DIR).glob("*.yaml"))
    if not files:
        raise DefinitionError(root / DASHBOARDS_DIR, "", "no dashboard definitions (*.yaml)")
    for file in files:
        dashboard = _parse(file, Dashboard)
        if dashboard.id != file.stem:
            raise DefinitionError(file, "id", f"{dashboard.id!r} differs from the file name")
        if dashboard.position in dashboards:
            other = dashboards[dashboard.position].id
            raise DefinitionError(file, "position", f"{dashboard.position} is {other!r}'s too")
        _check_dashboard(file, dashboard, datasets)
        dashboards[dashboard.position] = dashboard
    ordered = {dashboards[key].id: dashboards[key] for key in sorted(dashboards)}
    return Definitions(datasets, sql, ordered)


def _parse(file: Path, model: type[M]) -> M:
    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8"))
    except OSError as error:
        raise DefinitionError(file, "", f"cannot read: {error.strerror}") from error
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark else ""
        problem = getattr(error, "problem", None) or "not valid YAML"
        raise DefinitionError(file, "", f"{where}{problem}") from error
    try:
        return model.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        more = error.error_count() - 1
        suffix = f" (and {more} more)" if more else ""
        message = first["msg"].removeprefix("Value error, ")
        raise DefinitionError(file, _key_path(first["loc"]), message + suffix) from error


def _key_path(location: Sequence[Any]) -> str:
    path = ""
    for part in location:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path


def _duplicates(values: Iterable[str]) -> list[str]:
    return sorted(value for value, count in Counter(values).items() if count > 1)


def _check_catalog(file: Path, catalog: DatasetCatalog) -> dict[str, Dataset]:
    seen: dict[str, int] = {}
    for index, dataset in enumerate(catalog.datasets):
        if dataset.id in seen:
            raise DefinitionError(file, f"datasets[{index}].id", f"duplicate id {dataset.id!r}")
        seen[dataset.id] = index
        twice = _duplicates(column.name for column in dataset.columns)
        if twice:
            raise DefinitionError(
                file, f"datasets[{index}].columns", f"duplicate column {twice[0]!r}"
            )
    return {dataset.id: dataset for dataset in catalog.datasets}


def _read_sql(
    file: Path, catalog: DatasetCatalog, sql_dir: Path, queries_dir: Path
) -> dict[str, str]:
    try:
        analyst = {query.name: query.sql for query in load_queries(queries_dir)}
    except AnalystQueryError as error:
        raise DefinitionError(queries_dir, "", str(error)) from error
    sql = {}
    for index, dataset in enumerate(catalog.datasets):
        if dataset.analyst_query is not None:
            if dataset.analyst_query not in analyst:
                raise DefinitionError(
                    file,
                    f"datasets[{index}].analyst_query",
                    f"unknown analysts' query {dataset.analyst_query!r} "
                    f"(files in {queries_dir.name}/)",
                )
            text = analyst[dataset.analyst_query]
        else:
            path = sql_dir / str(dataset.sql_file)
            if path.resolve().parent != sql_dir.resolve() or not path.is_file():
                raise DefinitionError(
                    file,
                    f"datasets[{index}].sql_file",
                    f"no file {dataset.sql_file!r} in {sql_dir}",
                )
            text = path.read_text(encoding="utf-8").strip()
        sql[dataset.id] = text.rstrip().rstrip(";")
    return sql


def _check_dashboard(file: Path, dashboard: Dashboard, datasets: dict[str, Dataset]) -> None:
    if len(dashboard.sheets) > MAX_SHEETS_PER_DASHBOARD:
        raise DefinitionError(
            file,
            "sheets",
            f"{len(dashboard.sheets)} sheets; QuickSight allows {MAX_SHEETS_PER_DASHBOARD}",
        )
    _unique(file, "sheets", [sheet.id for sheet in dashboard.sheets], "id")
    _unique(file, "parameters", [item.name for item in dashboard.parameters], "name")
    _unique(file, "filters", [item.id for item in dashboard.filters], "id")
    visual_ids: set[str] = set()
    for sheet_index, sheet in enumerate(dashboard.sheets):
        at = f"sheets[{sheet_index}]"
        if len(sheet.visuals) > MAX_VISUALS_PER_SHEET:
            raise DefinitionError(
                file,
                f"{at}.visuals",
                f"{len(sheet.visuals)} visuals; QuickSight allows {MAX_VISUALS_PER_SHEET} a sheet",
            )
        for index, visual in enumerate(sheet.visuals):
            if visual.id in visual_ids:
                raise DefinitionError(
                    file, f"{at}.visuals[{index}].id", f"duplicate visual id {visual.id!r}"
                )
            visual_ids.add(visual.id)
            _check_visual(file, f"{at}.visuals[{index}]", visual, datasets)
        _check_overlaps(file, at, sheet)
    used = set(dashboard.dataset_ids)
    for index, parameter in enumerate(dashboard.parameters):
        if parameter.values_from is not None:
            _check_column_ref(
                file, f"parameters[{index}].values_from", parameter.values_from, datasets
            )
        if not any(item.parameter == parameter.name for item in dashboard.filters):
            raise DefinitionError(
                file, f"parameters[{index}].name", f"{parameter.name!r} is used by no filter"
            )
    kinds = {parameter.name: parameter.kind for parameter in dashboard.parameters}
    visuals = {visual.id: visual for visual in dashboard.visuals}
    for index, item in enumerate(dashboard.filters):
        at = f"filters[{index}]"
        if item.parameter not in kinds:
            raise DefinitionError(file, f"{at}.parameter", f"unknown parameter {item.parameter!r}")
        if item.dataset not in used:
            known = "unknown" if item.dataset not in datasets else "no visual of the dashboard uses"
            raise DefinitionError(file, f"{at}.dataset", f"{known} dataset {item.dataset!r}")
        column = _check_column_ref(
            file, at, ColumnRef(dataset=item.dataset, column=item.column), datasets
        )
        expected = _FILTER_TYPES[kinds[item.parameter]]
        if column.type != expected:
            raise DefinitionError(
                file,
                f"{at}.column",
                f"a {kinds[item.parameter]} parameter filters a {expected} column, "
                f"{item.column!r} is {column.type}",
            )
        for visual_index, visual_id in enumerate(item.visuals or []):
            if visual_id not in visuals:
                raise DefinitionError(
                    file, f"{at}.visuals[{visual_index}]", f"unknown visual {visual_id!r}"
                )
            if visuals[visual_id].dataset != item.dataset:
                raise DefinitionError(
                    file,
                    f"{at}.visuals[{visual_index}]",
                    f"visual {visual_id!r} shows {visuals[visual_id].dataset!r}, "
                    f"not {item.dataset!r}",
                )


def _unique(file: Path, list_key: str, values: list[str], key: str) -> None:
    seen: set[str] = set()
    for index, value in enumerate(values):
        if value in seen:
            raise DefinitionError(file, f"{list_key}[{index}].{key}", f"duplicate {key} {value!r}")
        seen.add(value)


def _check_column_ref(file: Path, at: str, ref: ColumnRef, datasets: dict[str, Dataset]):
    dataset = datasets.get(ref.dataset)
    if dataset is None:
        raise DefinitionError(file, f"{at}.dataset", f"unknown dataset {ref.dataset!r}")
    column = dataset.column(ref.column)
    if column is None:
        raise DefinitionError(
            file, f"{at}.column", f"dataset {ref.dataset!r} has no column {ref.column!r}"
        )
    return column


def _check_visual(file: Path, at: str, visual: Visual, datasets: dict[str, Dataset]) -> None:
    dataset = datasets.get(visual.dataset)
    if dataset is None:
        raise DefinitionError(file, f"{at}.dataset", f"unknown dataset {visual.dataset!r}")
    roles = [("dimensions", field) for field in visual.dimensions]
    roles += [("measures", field) for field in visual.measures]
    counters: Counter[str] = Counter()
    for role, field in roles:
        key = f"{at}.{role}[{counters[role]}]"
        counters[role] += 1
        column = dataset.column(field.column)
        if column is None:
            raise DefinitionError(
                file, f"{key}.column", f"dataset {dataset.id!r} has no column {field.column!r}"
            )
        granularity = getattr(field, "granularity", None)
        if granularity is not None and column.type != "DATETIME":
            raise DefinitionError(
                file, f"{key}.granularity", f"{field.column!r} is {column.type}, not DATETIME"
            )
        aggregation = getattr(field, "aggregation", None)
        if aggregation in ("SUM", "AVERAGE", "RATIO") and column.type not in _NUMERIC:
            raise DefinitionError(
                file, f"{key}.aggregation", f"{aggregation} of {column.type} {field.column!r}"
            )
        denominator = getattr(field, "denominator", None)
        if denominator is not None:
            other = dataset.column(denominator)
            if other is None or other.type not in _NUMERIC:
                raise DefinitionError(
                    file,
                    f"{key}.denominator",
                    f"dataset {dataset.id!r} has no numeric column {denominator!r}",
                )
    if visual.type == "kpi" and visual.dimensions:
        trend = visual.dimensions[0]
        if trend.granularity is None:
            raise DefinitionError(
                file,
                f"{at}.dimensions[0].granularity",
                "a kpi's trend dimension needs a granularity (the period it compares)",
            )


def _check_overlaps(file: Path, at: str, sheet: Sheet) -> None:
    taken: dict[tuple[int, int], str] = {}
    for index, visual in enumerate(sheet.visuals):
        box = visual.layout
        for row in range(box.row, box.row + box.height):
            for column in range(box.column, box.column + box.width):
                other = taken.setdefault((row, column), visual.id)
                if other != visual.id:
                    raise DefinitionError(
                        file,
                        f"{at}.visuals[{index}].layout",
                        f"overlaps visual {other!r} at row {row}, column {column}",
                    )
