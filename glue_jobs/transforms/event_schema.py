"""The Spark schema of an event, built from the contract's JSON Schema files.

Validation is the contract validator's job; this schema only says how a valid event is
materialized as typed columns. The envelope's free-form `properties` object becomes one
struct holding the union of every event type's properties (each nullable), so one table
holds every type. A key that two types declare with different types is a contract error.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pyspark.sql.types import (
    ArrayType,
    BooleanType,
    DataType,
    DecimalType,
    DoubleType,
    LongType,
    StringType,
    StructField,
    StructType,
    TimestampType,
)

from contracts.events.loader import ENVELOPE, load_schemas

SCHEMA_FILE_SUFFIX = ".schema.json"
# Money (multipleOf 0.01) as an exact decimal; 18 digits leave room above the OLTP's 12.
MONEY_TYPE = DecimalType(18, 2)

Schema = dict[str, Any]


def _resolve(node: Schema, document: str, documents: Mapping[str, Schema]) -> tuple[Schema, str]:
    """Follow `$ref` (same-file `#/...` or `<name>.schema.json#/...`) to the node it names."""
    while "$ref" in node:
        target_file, _, pointer = node["$ref"].partition("#")
        document = target_file.removesuffix(SCHEMA_FILE_SUFFIX) or document
        node = documents[document]
        for part in filter(None, pointer.split("/")):
            node = node[part]
    return node, document


def _spark_type(node: Schema, document: str, documents: Mapping[str, Schema]) -> DataType:
    node, document = _resolve(node, document, documents)
    if "enum" in node or "const" in node:
        values = node.get("enum", [node.get("const")])
        if not all(isinstance(value, str) for value in values):
            raise ValueError(f"only string enums are supported, got {values!r}")
        return StringType()
    types = node["type"] if isinstance(node["type"], list) else [node["type"]]
    non_null = [name for name in types if name != "null"]
    if len(non_null) != 1:
        raise ValueError(f"a field needs exactly one non-null type, got {types!r}")
    kind = non_null[0]
    if kind == "object":
        return _struct(node, document, documents)
    if kind == "array":
        return ArrayType(_spark_type(node["items"], document, documents))
    if kind == "string":
        return TimestampType() if node.get("format") == "date-time" else StringType()
    if kind == "integer":
        return LongType()
    if kind == "number":
        return MONEY_TYPE if node.get("multipleOf") == 0.01 else DoubleType()
    if kind == "boolean":
        return BooleanType()
    raise ValueError(f"unsupported JSON Schema type {kind!r}")


def _struct(node: Schema, document: str, documents: Mapping[str, Schema]) -> StructType:
    return StructType(
        [
            StructField(name, _spark_type(child, document, documents), nullable=True)
            for name, child in node.get("properties", {}).items()
        ]
    )


def union_of_properties(documents: Mapping[str, Schema]) -> StructType:
    """One struct with every event type's properties; types must agree on shared keys."""
    fields: dict[str, StructField] = {}
    for name in sorted(documents):
        if name == ENVELOPE:
            continue
        for field in _struct(documents[name], name, documents).fields:
            known = fields.setdefault(field.name, field)
            if known.dataType != field.dataType:
                raise ValueError(
                    f"properties.{field.name} is {known.dataType.simpleString()} in one event "
                    f"type and {field.dataType.simpleString()} in {name}"
                )
    return StructType(list(fields.values()))


def spark_event_schema(documents: Mapping[str, Schema] | None = None) -> StructType:
    """The envelope as a Spark struct, with `properties` as the union of all event types.

    `documents` are schemas by name as `contracts.events.loader.load_schemas` gives them
    (the contract's own files when omitted).
    """
    documents = load_schemas() if documents is None else documents
    envelope = _struct(documents[ENVELOPE], ENVELOPE, documents)
    properties = union_of_properties(documents)
    return StructType(
        [
            StructField(field.name, properties, nullable=True)
            if field.name == "properties"
            else field
            for field in envelope.fields
        ]
    )
