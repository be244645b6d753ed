"""``voucherctl handout``: give users vouchers from a SPiD voucher group, one or a file of them."""

from collections.abc import Mapping
from typing import Annotated, Any

import typer

from voucherctl.api.spid.client import SpidClient
from voucherctl.changes import params
from voucherctl.changes.operation import Operation
from voucherctl.cli import change, clients
from voucherctl.cli.command import bulk, environment
from voucherctl.cli.names import GROUP_NAMES, USER_NAMES
from voucherctl.ui import output

HANDOUT_VIEW = [
    output.Column("Handed out", lambda r: r.get("success")),
    output.id_field("User", "userId"),
    output.id_field("Voucher group", "voucherGroupId"),
]


def _hand_out(client: SpidClient, request: Mapping[str, str]) -> dict[str, Any]:
    return client.handout(request["userId"], request["voucherGroupId"])


HANDOUT: Operation[SpidClient] = Operation(
    command="handout",
    columns=("userId", "voucherGroupId"),
    params=params.handout,
    client_for=clients.spid,
    call=_hand_out,
    method="POST",
    path="/api/2/voucher_handout",
)


def handout(
    ctx: typer.Context,
    user: Annotated[
        str | None, typer.Option(*USER_NAMES, metavar="ID", help="SPiD user id.")
    ] = None,
    group: Annotated[
        str | None,
        typer.Option(*GROUP_NAMES, metavar="ID", help="Voucher group to hand out from."),
    ] = None,
) -> None:
    """Give a user one voucher from a voucher group.

    SPiD answers only whether it worked, not which voucher code the user got. A handout is
    never resent once it may have reached the server: a timeout or a 5xx exits 7 (outcome
    unknown), so check with the user before trying again.

    With --from FILE, every row of a CSV with the columns userId and voucherGroupId (--group or
    --user fill a column the file lacks), at most once each, recorded in the ledger.

    Examples:

    \b
      voucherctl handout --user 42 --group 47 --sandbox
      voucherctl handout --from users.csv --group 47 --dry-run
      voucherctl handout --from users.csv --group 47 --run monthly-2026-11
    """
    values = {"userId": user, "voucherGroupId": group}
    change.perform(
        environment(ctx), HANDOUT, values, bulk(ctx), view=HANDOUT_VIEW, title="Voucher handed out"
    )
