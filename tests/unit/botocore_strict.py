"""Offline validation of request parameters against botocore's service model, stricter than
botocore's own: ParamValidator checks required and unknown keys and types but skips enums,
length and value bounds and patterns, which a deployed definition fails on. `problems` walks
the shape itself for those; `validate` runs both."""

from __future__ import annotations

import re
from functools import cache
from typing import Any

import botocore.session
from botocore.model import ListShape, MapShape, Shape, StructureShape
from botocore.validate import ParamValidator

# Java-style regex pieces the QuickSight model uses that Python's `re` spells differently.
_JAVA_TO_PYTHON = (
    (r"\p{L}\p{M}\p{N}", r"\w"),
    (r"\z", r"\Z"),
)


@cache
def input_shape(service: str, operation: str) -> StructureShape:
    model = botocore.session.get_session().get_service_model(service)
    return model.operation_model(operation).input_shape


@cache
def _pattern(java_pattern: str) -> re.Pattern[str]:
    python_pattern = java_pattern
    for java, python in _JAVA_TO_PYTHON:
        python_pattern = python_pattern.replace(java, python)
    return re.compile(python_pattern)


def problems(value: Any, shape: Shape, path: str = "") -> list[str]:
    """Every enum, min/max and pattern violation (and the structural ones botocore also sees)
    under `value`, each as `path: what`."""
    found: list[str] = []
    meta = shape.metadata
    if isinstance(shape, StructureShape):
        if not isinstance(value, dict):
            return [f"{path}: expected an object for {shape.name}"]
        for key in sorted(set(shape.required_members) - set(value)):
            found.append(f"{path}.{key}: required by {shape.name}")
        for key, item in value.items():
            if key not in shape.members:
                found.append(f"{path}.{key}: not a member of {shape.name}")
            else:
                found += problems(item, shape.members[key], f"{path}.{key}")
        if meta.get("union") and len(value) != 1:
            found.append(f"{path}: {shape.name} is a union, set exactly one of its members")
        return found
    if isinstance(shape, ListShape):
        if not isinstance(value, list):
            return [f"{path}: expected a list for {shape.name}"]
        found += _bounds(len(value), meta, path, "items")
        for index, item in enumerate(value):
            found += problems(item, shape.member, f"{path}[{index}]")
        return found
    if isinstance(shape, MapShape):
        if not isinstance(value, dict):
            return [f"{path}: expected a map for {shape.name}"]
        found += _bounds(len(value), meta, path, "entries")
        for key, item in value.items():
            found += problems(key, shape.key, f"{path}<{key}>")
            found += problems(item, shape.value, f"{path}[{key}]")
        return found
    if shape.type_name == "string":
        if not isinstance(value, str):
            return [f"{path}: expected a string for {shape.name}"]
        if shape.enum and value not in shape.enum:
            found.append(f"{path}: {value!r} is not one of {shape.name} {shape.enum}")
        found += _bounds(len(value), meta, path, "characters")
        if "pattern" in meta and not _pattern(meta["pattern"]).fullmatch(value):
            found.append(f"{path}: {value!r} does not match {shape.name} {meta['pattern']!r}")
        return found
    if shape.type_name in {"integer", "long", "double", "float"}:
        if isinstance(value, bool) or not isinstance(value, int | float):
            return [f"{path}: expected a number for {shape.name}"]
        return _bounds(value, meta, path, "")
    if shape.type_name == "boolean" and not isinstance(value, bool):
        return [f"{path}: expected a boolean for {shape.name}"]
    return found


def _bounds(size: float, meta: dict[str, Any], path: str, unit: str) -> list[str]:
    found = []
    if "min" in meta and size < meta["min"]:
        found.append(f"{path}: {size} {unit} is below the minimum {meta['min']}".replace("  ", " "))
    if "max" in meta and size > meta["max"]:
        found.append(f"{path}: {size} {unit} is above the maximum {meta['max']}".replace("  ", " "))
    return found


def validate(service: str, operation: str, params: dict[str, Any]) -> list[str]:
    """botocore's own report (types, required, unknown keys) plus the strict walk's findings."""
    shape = input_shape(service, operation)
    report = ParamValidator().validate(params, shape)
    found = [report.generate_report()] if report.has_errors() else []
    return found + problems(params, shape)
