"""How every change command runs: one item from options, or many rows with ``--from``.

The command module describes its change as an :class:`Operation`; this module validates the
options, sends one request or hands the rows to the bulk runner, and prints the outcome.
"""

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import typer

from voucherctl import output
from voucherctl.bulk.operation import BulkOptions, Operation
from voucherctl.cli import params
from voucherctl.env import Environment

if TYPE_CHECKING:
    from voucherctl.http import Pacer

ClientFactory = Callable[[Environment, "Pacer | None"], Any]


def perform(
    env: Environment,
    operation: Operation,
    values: Mapping[str, str | None],
    bulk: BulkOptions,
    client: ClientFactory,
    *,
    view: Sequence[output.Column],
    title: str,
) -> None:
    """Run ``operation`` on the values of the options, or on every row of ``--from``."""
    if bulk.source is not None:
        _perform_bulk(env, operation, values, bulk, client)
        return
    request = operation.params(values, params.OPTION_NAMES)
    if bulk.dry_run:
        record = {"method": operation.method, "path": operation.path, "form": request}
        output.print_record(env, record, DRY_RUN_VIEW, title="Dry run: nothing was sent")
        return
    result = operation.send(client(env, None), request)
    output.print_record(env, result, view, title=title)


DRY_RUN_VIEW = [
    output.Column("Would send", lambda r: f"{r['method']} {r['path']}"),
    output.Column("Form", lambda r: "&".join(f"{k}={v}" for k, v in r["form"].items())),
]


def _perform_bulk(
    env: Environment,
    operation: Operation,
    values: Mapping[str, str | None],
    bulk: BulkOptions,
    client: ClientFactory,
) -> None:
    from voucherctl.bulk.runner import Target, run

    # Options given with --from fill the columns the file lacks, checked as options.
    fills = {name: params.field(name, value) for name, value in values.items() if value is not None}

    def connect(pacer: "Pacer") -> Target:
        api = client(env, pacer)
        return Target(api, api.base_url)

    code = run(env, operation, fills, bulk, connect)
    if code:
        raise typer.Exit(int(code))
