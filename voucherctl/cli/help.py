"""``voucherctl help [COMMAND ...]``: the same as ``voucherctl COMMAND ... --help``."""

from typing import Annotated

import typer

from voucherctl.errors import UsageError
from voucherctl.text import escape_control


def help_command(
    words: Annotated[
        list[str] | None,
        typer.Argument(metavar="[COMMAND]...", help="A command, e.g. 'show' or 'auth login'."),
    ] = None,
) -> None:
    """Show a command's help: 'voucherctl help auth login' is 'voucherctl auth login --help'.

    Examples:

    \b
      voucherctl help
      voucherctl help vouchers
      voucherctl help auth login
    """
    from typer.main import get_command

    from voucherctl.cli.app import build_app

    root = get_command(build_app())
    path = list(words or [])
    ctx = root.make_context("voucherctl", [], resilient_parsing=True)
    command = root
    for word in path:
        found = getattr(command, "get_command", lambda _ctx, _name: None)(ctx, word)
        if found is None:
            raise UsageError(
                f"no command {escape_control(' '.join(path))!r}; 'voucherctl --help' lists them"
            )
        command = found
        ctx = command.make_context(word, [], parent=ctx, resilient_parsing=True)
    typer.echo(command.get_help(ctx))
