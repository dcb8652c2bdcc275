"""Render the event reference (docs/events.md) from the schema files.

The reference is generated, never edited, so it cannot drift from the contract; a unit test
fails when the committed file differs from what the schemas produce. Regenerate with
`python -m contracts.events.docs`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from contracts.events.loader import ENVELOPE, event_types, load_schemas, schema_version
from contracts.events.validator import MAX_EVENT_BYTES
from contracts.generated_docs import write_page

DOCS_PATH = Path(__file__).resolve().parents[2] / "docs" / "events.md"
_TABLE_HEADER = ["| Field | Type | Required | Description |", "|---|---|---|---|"]


def render_markdown() -> str:
    """The whole of docs/events.md."""
    schemas = load_schemas()
    envelope = schemas[ENVELOPE]
    lines = [
        "<!-- Generated from contracts/events/schemas by `python -m contracts.events.docs`."
        " Edit the schemas, not this file. -->",
        "",
        "# Events (ecommerce.events.v1)",
        "",
        envelope["description"],
        "",
        f"Producers write `schema_version` `{schema_version()}`. A serialized event is a JSON"
        f" object of at most {MAX_EVENT_BYTES} bytes of UTF-8. Every object in an event takes"
        " only the fields listed for it.",
        "",
        "Code checks events with `contracts.events.validate_event(event)` or"
        " `parse_event(raw)`; a rejected event gets one reason per problem, as `path: message`,"
        " e.g. `properties.quantity: -1 is less than the minimum of 1`. A number past the"
        " range of a double (`1e400`) is valid JSON, but no consumer reads it back: the event"
        " is rejected with a reason that names the number as sent, e.g. `user_id: 1e400 is"
        " too large for a number (beyond the range of a double)`.",
        "",
        "## Envelope",
        "",
        *_field_table(envelope, ENVELOPE, schemas),
        "",
        "Rules across fields:",
        "",
        *(f"- {rule['description']}" for rule in envelope["allOf"] if "description" in rule),
        "",
        "## Event types",
        "",
        *(f"- [{name}](#{name}): {schemas[name]['description']}" for name in event_types()),
    ]
    for name in event_types():
        lines += ["", *_event_type_section(name, schemas)]
    return "\n".join(lines) + "\n"


def _event_type_section(name: str, schemas: dict[str, dict[str, Any]]) -> list[str]:
    schema = schemas[name]
    example = json.dumps(schema["examples"][0], indent=2, ensure_ascii=False)
    return [
        f"## {name}",
        "",
        schema["description"],
        "",
        "Fields of `properties`:",
        "",
        *_field_table(schema, name, schemas),
        "",
        "Example:",
        "",
        "```json",
        example,
        "```",
    ]


def _field_table(schema: dict[str, Any], document: str, schemas: dict[str, Any]) -> list[str]:
    rows = [
        f"| `{name}` | {_cell(_type_text(field))} | {'yes' if required else 'no'} "
        f"| {_cell(field.get('description', ''))} |"
        for name, field, required in _fields(schema, document, schemas, prefix="")
    ]
    return [*_TABLE_HEADER, *rows]


def _fields(
    schema: dict[str, Any], document: str, schemas: dict[str, Any], prefix: str
) -> Iterator[tuple[str, dict[str, Any], bool]]:
    """(dotted name, resolved field schema, required) for every field, nested ones included:
    context.device.type, items[].quantity."""
    required = set(schema.get("required", []))
    for key, raw_field in schema.get("properties", {}).items():
        field = _resolved(raw_field, document, schemas)
        name = f"{prefix}{key}"
        yield name, field, key in required
        if "properties" in field:
            yield from _fields(field, document, schemas, prefix=f"{name}.")
        elif "properties" in field.get("items", {}):
            yield from _fields(field["items"], document, schemas, prefix=f"{name}[].")


def _resolved(schema: dict[str, Any], document: str, schemas: dict[str, Any]) -> dict[str, Any]:
    """The schema with its $ref followed; keywords beside the $ref (a description, a tighter
    minimum) win over the referenced ones."""
    ref = schema.get("$ref")
    if ref is None:
        return schema
    file_name, _, pointer = ref.partition("#")
    target_document = file_name.removesuffix(".schema.json") if file_name else document
    target: Any = schemas[target_document]
    for token in filter(None, pointer.split("/")):
        target = target[token.replace("~1", "/").replace("~0", "~")]
    local = {key: value for key, value in schema.items() if key != "$ref"}
    return {**_resolved(target, target_document, schemas), **local}


def _type_text(field: dict[str, Any]) -> str:
    if "enum" in field:
        return "one of " + ", ".join(f"`{value}`" for value in field["enum"])
    types = field["type"] if isinstance(field["type"], list) else [field["type"]]
    if field.get("items", {}).get("type") == "object":
        types = ["array of objects" if kind == "array" else kind for kind in types]
    rules = []
    if "format" in field:
        rules.append(field["format"])
    if "pattern" in field:
        rules.append(f"matching `{field['pattern']}`")
    # A referenced definition can bring a minimum that a local exclusiveMinimum tightens.
    minimum, exclusive = field.get("minimum"), field.get("exclusiveMinimum")
    if exclusive is not None and (minimum is None or exclusive >= minimum):
        rules.append(f"> {exclusive}")
    elif minimum is not None:
        rules.append(f"≥ {minimum}")
    if "multipleOf" in field:
        rules.append(f"multiple of {field['multipleOf']}")
    for low_key, high_key, unit in (
        ("minLength", "maxLength", "characters"),
        ("minItems", "maxItems", "items"),
    ):
        low, high = field.get(low_key), field.get(high_key)
        if low is not None and high is not None:
            rules.append(f"{low}..{high} {unit}")
        elif low is not None:
            rules.append(f"at least {low} {unit}")
        elif high is not None:
            rules.append(f"at most {high} {unit}")
    return ", ".join([" or ".join(types), *rules])


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def main(argv: list[str] | None = None) -> None:
    """Write the rendered reference to docs/events.md (or --output)."""
    write_page(render_markdown, DOCS_PATH, __doc__.splitlines()[0], argv)


if __name__ == "__main__":
    main()
