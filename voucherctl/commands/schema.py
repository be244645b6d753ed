"""``voucherctl schema NAME``: the published JSON Schema of a command's ``-o json`` output."""

from typing import Annotated

import typer

from voucherctl import schemas
from voucherctl.cli.command import environment
from voucherctl.core.errors import UsageError
from voucherctl.core.text import escape_control


def schema(
    ctx: typer.Context,
    name: Annotated[
        list[str],
        typer.Argument(
            help="A command (auth status or auth-status, ...), row (a bulk row), dry-run, "
            "dry-run-row or error.",
            show_default=False,
        ),
    ],
) -> None:
    """Print the JSON Schema (draft 2020-12) of what NAME prints with -o json.

    Every command that prints JSON has one, and so do a bulk run's row (row), a dry run's
    output (dry-run, dry-run-row) and the error object on stderr (error). The same files are
    in docs/schemas/ of the source. SPiD's objects are camelCase and Spaaza's snake_case, as
    the APIs send them; where an API may add fields, the schema allows them.

    Examples:

    \b
      voucherctl schema groups
      voucherctl schema auth status
      voucherctl schema row > row.schema.json
    """
    env = environment(ctx)
    wanted = "-".join(word.strip().lower() for word in name)
    published = schemas.text(wanted)
    if published is None:
        raise UsageError(
            f"no schema named {escape_control(' '.join(name))!r}; one of: "
            f"{', '.join(schemas.names())}"
        )
    env.stdout.write(published)
    env.stdout.flush()
