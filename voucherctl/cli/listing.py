"""What the commands that list the ledger (``audit``, ``runs``) share: ``--limit``, a
screenful by default on a terminal, and a title that says when the list was cut
(docs/contract.md#output)."""

import shutil
from typing import Any

import typer

from voucherctl.core.errors import UsageError
from voucherctl.ui.environment import Environment


def limit_option(what: str) -> Any:
    """The ``--limit N`` option of a list of ``what``."""
    return typer.Option(
        "--limit",
        metavar="N",
        help=f"The newest N {what}.",
        show_default="a screenful on a terminal, else all",
    )


def checked_limit(env: Environment, limit: int | None) -> int | None:
    """``limit`` checked (1 or more), else a screenful on a terminal, else everything."""
    if limit is not None and limit < 1:
        raise UsageError(f"--limit must be 1 or more, not {limit}")
    if limit is None and env.output_format() == "table":
        return max(shutil.get_terminal_size().lines - 8, 10)
    return limit


def counted(title: str, shown: int, total: int) -> str:
    """A list's title, saying "showing N of M" when the list was cut."""
    if shown < total:
        return f"{title} (showing {shown} of {total}; --limit N for more)"
    return title
