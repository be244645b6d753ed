"""The shapes of the API objects voucherctl reads and prints, checked where they come in.

A server that answers the right envelope with a wrong-shaped object (a voucher code that is a
number, a list of vouchers that is a string) must not pass for a success whose output then
breaks its published schema (docs/contract.md#schemas). The clients check each object they hand
on against the ``$defs`` of the published schema that describes it, so the schema files stay
the one account of a shape. Only what those schemas use is understood: ``type``,
``properties``, ``required``, ``items`` and local ``$ref``; anything else is not checked.
"""

import json
from functools import cache
from typing import Any

from voucherctl.schemas import text as schema_text

_TYPES: dict[str, Any] = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
}


@cache
def _defs(schema: str) -> dict[str, Any]:
    published = schema_text(schema)
    assert published is not None, f"no published schema {schema!r}"
    defs: dict[str, Any] = json.loads(published)["$defs"]
    return defs


def problem(value: Any, schema: str, definition: str, where: str = "") -> str | None:
    """What is wrong with ``value`` as the ``definition`` of the published ``schema``, in a few
    words ("voucherCode is an integer, not string"), or None when nothing is."""
    defs = _defs(schema)
    return _problem(value, defs[definition], defs, where or definition)


def declared(schema: str, definition: str) -> list[str]:
    """The fields the ``definition`` of the published ``schema`` declares, in its order: the
    columns ``-o csv`` always has (docs/contract.md#csv-columns)."""
    return list(_defs(schema)[definition].get("properties", {}))


def list_problem(value: Any, schema: str, definition: str, where: str) -> str | None:
    """What is wrong with ``value`` as a list of ``definition`` objects, or None."""
    if not isinstance(value, list):
        return f"{where} is {describe(value)}, not array"
    for index, item in enumerate(value):
        found = problem(item, schema, definition, f"{where}[{index}]")
        if found:
            return found
    return None


def _problem(value: Any, rule: dict[str, Any], defs: dict[str, Any], where: str) -> str | None:
    ref = rule.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        rule = defs[ref.removeprefix("#/$defs/")]
    allowed = rule.get("type")
    allowed = [allowed] if isinstance(allowed, str) else allowed
    if allowed and not any(_TYPES[name](value) for name in allowed):
        return f"{where} is {describe(value)}, not {' or '.join(allowed)}"
    if isinstance(value, dict):
        for name in rule.get("required", []):
            if name not in value:
                return f"{where} has no {name}"
        for name, inner in rule.get("properties", {}).items():
            if name in value:
                found = _problem(value[name], inner, defs, name)
                if found:
                    return found
    if isinstance(value, list) and isinstance(rule.get("items"), dict):
        for index, item in enumerate(value):
            found = _problem(item, rule["items"], defs, f"{where}[{index}]")
            if found:
                return found
    return None


def describe(value: Any) -> str:
    """The JSON type of ``value``, in words: "an integer", "a string", "null"."""
    for name in ("null", "boolean", "integer", "number", "string", "array", "object"):
        if _TYPES[name](value):
            return {"integer": "an integer", "array": "an array", "object": "an object"}.get(
                name, "null" if name == "null" else f"a {name}"
            )
    return type(value).__name__
