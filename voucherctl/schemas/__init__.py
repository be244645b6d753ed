"""The published JSON Schemas (draft 2020-12) of what each command prints with ``-o json``.

The ``*.json`` files beside this module are the source of truth: ``voucherctl schema NAME``
prints them as they are, and ``docs/schemas/`` holds copies written by
``python -m voucherctl.reference`` (a test fails when a copy differs).
docs/contract.md#schemas says which output each name describes.
"""

from importlib import resources


def names() -> list[str]:
    """Every published schema's name: commands (``auth-status`` for ``auth status``), ``row``,
    ``dry-run``, ``dry-run-row`` and ``error``."""
    folder = resources.files(__name__)
    return sorted(
        item.name[: -len(".json")] for item in folder.iterdir() if item.name.endswith(".json")
    )


def text(name: str) -> str | None:
    """The schema's file as published, or None when there is no schema of that name."""
    if name not in names():
        return None
    return resources.files(__name__).joinpath(f"{name}.json").read_text(encoding="utf-8")
