"""The APIs' own sample answers (tests/fixtures/docs) and a comparison of shapes.

A shape is the keys and JSON value types of an answer, recursively. An answer has the shape of a
sample when every key the sample has is there, with a value of the same JSON type: objects
compared key by key, lists item by item against the sample's first item. Extra keys are
allowed (the sandbox may say more than a sample shows). A null on either side matches any type:
the docs show the same field null in one sample and filled in another.
"""

import json
from pathlib import Path
from typing import Any

DOCS = Path(__file__).parent / "fixtures" / "docs"
INDEX: dict[str, dict[str, str]] = json.loads((DOCS / "index.json").read_text(encoding="utf-8"))


def sample(name: str) -> Any:
    """The sample payload stored as ``name`` (a file in tests/fixtures/docs)."""
    assert name in INDEX, f"{name} is not in tests/fixtures/docs/index.json"
    return json.loads((DOCS / name).read_text(encoding="utf-8"))


def origin(name: str) -> str:
    """``docs``, ``assembled`` or ``assumed``: how the sample was come by (index.json)."""
    return INDEX[name]["origin"]


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def shape_differences(
    answer: Any, documented: Any, path: str = "$", skip: frozenset[str] = frozenset()
) -> list[str]:
    """Where ``answer`` does not have the shape of ``documented``; ``skip``: paths not compared."""
    if path in skip:
        return []
    kind, expected = _kind(answer), _kind(documented)
    if "null" in (kind, expected):
        return []
    if kind != expected:
        return [f"{path}: {kind}, the docs have {expected}"]
    if expected == "object":
        found: list[str] = []
        for key, value in documented.items():
            if f"{path}.{key}" in skip:
                continue
            if key not in answer:
                found.append(f"{path}.{key}: missing")
            else:
                found += shape_differences(answer[key], value, f"{path}.{key}", skip)
        return found
    if expected == "array" and documented:
        found = []
        for n, item in enumerate(answer):
            found += shape_differences(item, documented[0], f"{path}[{n}]", skip)
        return found
    return []
