"""One naming scheme for users and groups, the older spellings kept as aliases.

``--user`` and ``--user-id`` are the same option wherever either is accepted, and so are
``--group`` and ``--group-id``; a command that takes its group as an argument (``generate 48``)
also takes it as ``--group 48`` (docs/contract.md#names-and-aliases).
"""

from typing import Annotated

import typer

from voucherctl.core.errors import UsageError
from voucherctl.core.text import escape_control

USER_NAMES = ("--user", "--user-id")
GROUP_NAMES = ("--group", "--group-id")

GroupOption = Annotated[
    str | None,
    typer.Option(*GROUP_NAMES, metavar="ID", help="The voucher group, as GROUP is given."),
]
GroupArgument = Annotated[
    str | None, typer.Argument(metavar="GROUP", help="Voucher group id (or --group ID).")
]


def one_group(argument: str | None, option: str | None, name: str = "GROUP") -> str:
    """The group given as the argument or as ``--group``: one of them, or both the same."""
    if argument is not None and option is not None and argument != option:
        raise UsageError(
            f"{name} {escape_control(argument)!r} and --group {escape_control(option)!r} "
            "differ: give the group once"
        )
    chosen = argument if argument is not None else option
    if chosen is None:
        raise UsageError(f"give the voucher group: {name} or --group ID")
    return chosen
