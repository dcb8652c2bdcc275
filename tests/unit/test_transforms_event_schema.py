"""The Spark schema built from JSON Schema documents: a tiny hand-written contract, then the
real one."""

from __future__ import annotations

import pytest
from pyspark.sql.types import (
    ArrayType,
    DecimalType,
    DoubleType,
    LongType,
    StringType,
    StructField,
    StructType,
    TimestampType,
)

from glue_jobs.transforms.event_schema import spark_event_schema


def field(name: str, data_type) -> StructField:
    return StructField(name, data_type, nullable=True)


TINY_CONTRACT = {
    "envelope": {
        "type": "object",
        "properties": {
            "event_id": {"$ref": "#/$defs/uuid"},
            "event_type": {"enum": ["a_happened", "b_happened"]},
            "occurred_at": {"type": "string", "format": "date-time"},
            "user_id": {"type": ["integer", "null"]},
            "context": {
                "type": "object",
                "properties": {"page": {"type": ["object", "null"], "properties": {
                    "path": {"type": "string"}}}},
            },
            "properties": {"type": "object"},
        },
        "$defs": {
            "uuid": {"type": "string", "format": "uuid"},
            "money": {"type": "number", "multipleOf": 0.01},
        },
    },
    "a_happened": {
        "type": "object",
        "properties": {
            "amount": {"$ref": "envelope.schema.json#/$defs/money"},
            "lines": {"type": "array", "items": {"type": "object", "properties": {
                "qty": {"type": "integer"}, "weight": {"type": "number"}}}},
        },
    },
    "b_happened": {
        "type": "object",
        "properties": {"amount": {"$ref": "envelope.schema.json#/$defs/money"},
                       "note": {"const": "x"}},
    },
}  # fmt: skip


def test_tiny_contract_maps_types_refs_and_union_of_properties() -> None:
    expected = StructType([
        field("event_id", StringType()),  # $ref to a string (format uuid stays a string)
        field("event_type", StringType()),  # enum of strings
        field("occurred_at", TimestampType()),  # format date-time
        field("user_id", LongType()),  # ["integer", "null"]
        field("context", StructType([field("page", StructType([field("path", StringType())]))])),
        # union over a_happened then b_happened; amount is declared by both with one type
        field("properties", StructType([
            field("amount", DecimalType(18, 2)),  # number with multipleOf 0.01 = money
            field("lines", ArrayType(StructType([
                field("qty", LongType()), field("weight", DoubleType())]))),
            field("note", StringType()),  # const
        ])),
    ])  # fmt: skip
    assert spark_event_schema(TINY_CONTRACT) == expected


def test_conflicting_property_types_are_a_contract_error() -> None:
    conflicting = {
        **TINY_CONTRACT,
        "b_happened": {"type": "object", "properties": {"amount": {"type": "string"}}},
    }
    with pytest.raises(ValueError, match=r"properties\.amount is decimal\(18,2\).*string"):
        spark_event_schema(conflicting)


def test_real_contract_fields_the_marts_read() -> None:
    schema = spark_event_schema()
    properties = schema["properties"].dataType
    item = StructType([
        field("product_id", LongType()), field("quantity", LongType()),
        field("unit_price", DecimalType(18, 2)), field("line_total", DecimalType(18, 2)),
    ])  # fmt: skip
    assert schema.fieldNames() == [
        "event_id", "event_type", "schema_version", "occurred_at", "user_id",
        "anonymous_id", "session_id", "context", "properties",
    ]  # fmt: skip
    assert schema["occurred_at"].dataType == TimestampType()
    assert properties["items"].dataType == ArrayType(item)
    assert properties["cart_id"].dataType == StringType()
    assert properties["total"].dataType == DecimalType(18, 2)
    assert properties["order_id"].dataType == LongType()
    assert schema["context"].dataType["device"].dataType.fieldNames() == ["type", "os", "browser"]
