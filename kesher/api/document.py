"""The OpenAPI document told the input rule (kesher/core/input.py): every free-text string a request sends
is declared with the pattern the rule holds it to, and a decimal written as a string with its digits."""

from __future__ import annotations

from typing import Any

# Parameters (query, path, headers) are one line: no control character at all. Bodies may hold tab,
# newline and carriage return.
LINE_PATTERN = "^[^\\u0000-\\u001f]*$"
TEXT_PATTERN = "^[^\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f]*$"
DECIMAL_PATTERN = "^-?[0-9]+(\\.[0-9]+)?$"


def _is_free_string(schema: dict[str, Any]) -> bool:
    return schema.get("type") == "string" and not ({"pattern", "format", "enum", "const"} & schema.keys())


def _is_decimal(schema: dict[str, Any]) -> bool:
    branches = schema.get("anyOf") or []
    types = sorted(branch.get("type", "") for branch in branches if isinstance(branch, dict))
    return types == ["number", "string"]


def _mark(schema: Any, pattern: str, components: dict[str, Any], seen: set[str]) -> None:
    """Adds the pattern to every free string in the schema, following references into components."""
    if isinstance(schema, list):
        for item in schema:
            _mark(item, pattern, components, seen)
        return
    if not isinstance(schema, dict):
        return
    reference = schema.get("$ref")
    if isinstance(reference, str) and reference.startswith("#/components/schemas/"):
        name = reference.rsplit("/", 1)[1]
        if name not in seen:
            seen.add(name)
            _mark(components.get(name), pattern, components, seen)
        return
    if _is_decimal(schema):
        for branch in schema["anyOf"]:
            if branch.get("type") == "string" and "pattern" not in branch:
                branch["pattern"] = DECIMAL_PATTERN
        return
    if _is_free_string(schema):
        schema["pattern"] = pattern
    for key in ("properties", "patternProperties", "$defs"):
        for child in (schema.get(key) or {}).values():
            _mark(child, pattern, components, seen)
    for key in ("items", "additionalProperties", "anyOf", "oneOf", "allOf", "not", "prefixItems"):
        if key in schema:
            _mark(schema[key], pattern, components, seen)


def document_with_input_rule(document: dict[str, Any]) -> dict[str, Any]:
    """Marks the request side only: answers are what the server wrote, checked against their own shapes."""
    components = document.get("components", {}).get("schemas", {})
    request_components: set[str] = set()
    for path_item in document.get("paths", {}).values():
        for operation in path_item.values():
            if not isinstance(operation, dict):
                continue
            for parameter in operation.get("parameters", []):
                _mark(parameter.get("schema"), LINE_PATTERN, components, set())
            for media in (operation.get("requestBody") or {}).get("content", {}).values():
                _mark(media.get("schema"), TEXT_PATTERN, components, request_components)
    return document
