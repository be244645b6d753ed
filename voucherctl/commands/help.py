"""``voucherctl help [COMMAND ...]``: the same as ``voucherctl COMMAND ... --help``."""

from typing import Annotated

import typer

from voucherctl.core.errors import UsageError
from voucherctl.core.text import escape_control


def help_command(
    ctx: typer.Context,
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
    from typer import _click as click  # typer vendors click; typer is pinned (pyproject.toml)

    root = ctx.find_root().command  # the whole app: 'help' is run with every command in it
    path = list(words or [])
    context = root.make_context("voucherctl", [], resilient_parsing=True)
    command: click.Command = root
    for word in path:
        lookup = getattr(command, "get_command", None)  # a group's; a command has none
        found = lookup(context, word) if lookup is not None else None
        if found is None:
            raise UsageError(
                f"no command {escape_control(' '.join(path))!r}; 'voucherctl --help' lists them"
            )
        command = found
        context = command.make_context(word, [], parent=context, resilient_parsing=True)
    typer.echo(command.get_help(context))
