"""``voucherctl generate``: make new unused vouchers, each with its own code, in a SPiD group."""

from collections.abc import Mapping
from typing import Annotated, Any

import typer

from voucherctl.api.spid.client import SpidClient
from voucherctl.api.spid.codes import GENERATE_PATH
from voucherctl.changes import params
from voucherctl.changes.operation import BulkOptions, Operation
from voucherctl.cli import change, clients
from voucherctl.cli.command import environment
from voucherctl.cli.names import GroupArgument, GroupOption, one_group
from voucherctl.ui import output

GENERATE_VIEW = [
    output.Column("Generated", lambda r: r.get("success")),
    output.id_field("Voucher group", "voucherGroupId"),
    output.field("Amount", "amount"),
]


def _generate(client: SpidClient, request: Mapping[str, str]) -> dict[str, Any]:
    from voucherctl.api.spid.codes import generate

    return generate(client, request["voucherGroupId"], request["amount"])


def _sent_as(request: Mapping[str, str]) -> tuple[str, dict[str, str]]:
    return GENERATE_PATH.format(request["voucherGroupId"]), {"amount": request["amount"]}


GENERATE: Operation[SpidClient] = Operation(
    command="generate",
    columns=("voucherGroupId", "amount"),
    params=lambda values, _: params.group_amount(values),
    client_for=clients.spid,
    call=_generate,
    method="POST",
    path=GENERATE_PATH.format("{voucherGroupId}"),
    sent_as=_sent_as,
)

DryRun = Annotated[
    bool, typer.Option("--dry-run", help="Check the arguments and show the request; send nothing.")
]


def generate(
    ctx: typer.Context,
    amount: Annotated[
        str,
        typer.Option("--amount", metavar="N", help="How many vouchers to make: 1 or more."),
    ],
    group: GroupArgument = None,
    group_option: GroupOption = None,
    dry_run: DryRun = False,
) -> None:
    """Make N new unused vouchers, each with a unique code, in a voucher group.

    SPiD answers only whether it worked; 'voucherctl codes' takes codes out afterwards. A shared
    group (one code for all) or more vouchers than the group's limit allows is refused (exit 5).
    A timeout or a 5xx exits 7: the vouchers may or may not have been made, so look at the group
    before trying again.

    Examples:

    \b
      voucherctl generate 48 --amount 3 --sandbox
      voucherctl generate 48 --amount 500 --dry-run
      voucherctl generate --group 48 --amount 3    # as handout takes it
    """
    values = {"voucherGroupId": one_group(group, group_option), "amount": amount}
    change.perform(
        environment(ctx),
        GENERATE,
        values,
        BulkOptions(dry_run=dry_run),
        view=GENERATE_VIEW,
        title="Vouchers generated",
    )
