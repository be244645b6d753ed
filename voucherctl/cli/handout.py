"""``voucherctl handout``: give users vouchers from a SPiD voucher group, one or a file of them."""

from collections.abc import Mapping
from typing import Annotated, Any

import typer

from voucherctl import output
from voucherctl.bulk.operation import BulkOptions, Operation
from voucherctl.cli import change, params
from voucherctl.env import Environment

HANDOUT_VIEW = [
    output.Column("Handed out", lambda r: r.get("success")),
    output.field("User", "userId"),
    output.field("Voucher group", "voucherGroupId"),
]


def _send(client: Any, request: Mapping[str, str]) -> dict[str, Any]:
    return client.handout(request["userId"], request["voucherGroupId"])  # type: ignore[no-any-return]


def _client(env: Environment, pacer: Any) -> Any:
    from voucherctl import connect

    return connect.spid(env, pacer)


OPERATION = Operation(
    command="handout",
    columns=("userId", "voucherGroupId"),
    params=params.handout,
    send=_send,
    method="POST",
    path="/api/2/voucher_handout",
)


def handout(
    env: Environment,
    bulk: BulkOptions,
    user: Annotated[str | None, typer.Option("--user", metavar="ID", help="SPiD user id.")] = None,
    group: Annotated[
        str | None,
        typer.Option("--group", metavar="ID", help="Voucher group to hand out from."),
    ] = None,
) -> None:
    """Give a user one voucher from a voucher group.

    SPiD answers only whether it worked, not which voucher code the user got. A handout is
    never resent once it may have reached the server: a timeout or a 5xx exits 7 (outcome
    unknown), so check with the user before trying again.

    With --from FILE, every row of a CSV with the columns userId and voucherGroupId (--group or
    --user fill a column the file lacks), at most once each, recorded in a journal.
    """
    values = {"userId": user, "voucherGroupId": group}
    change.perform(
        env, OPERATION, values, bulk, _client, view=HANDOUT_VIEW, title="Voucher handed out"
    )
