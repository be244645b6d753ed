"""``voucherctl lock`` and ``voucherctl unlock``: hold a voucher for one basket transaction."""

from typing import Annotated

import typer

from voucherctl.api.spaaza.client import SpaazaClient
from voucherctl.api.spaaza.fields import VOUCHER_FIELDS, voucher_named
from voucherctl.changes import params
from voucherctl.changes.operation import Operation
from voucherctl.cli import change, clients
from voucherctl.cli.command import bulk, environment
from voucherctl.commands.spaaza.options import VOUCHER_VIEW, VoucherId, VoucherKey

LOCK: Operation[SpaazaClient] = Operation(
    command="lock",
    columns=(
        "voucher_key",
        "voucher_id",
        "retailer_basket_code",
        "voucher_locking_code",
        "voucher_lock_period",
    ),
    params=params.lock,
    client_for=clients.spaaza,
    call=SpaazaClient.lock,
    method="PUT",
    preferred=VOUCHER_FIELDS[:2],
    path="/lock-voucher",
    recorded=voucher_named,
)
UNLOCK: Operation[SpaazaClient] = Operation(
    command="unlock",
    columns=("voucher_key", "voucher_id"),
    params=params.unlock,
    client_for=clients.spaaza,
    call=SpaazaClient.unlock,
    method="PUT",
    preferred=VOUCHER_FIELDS[:2],
    path="/unlock-voucher",
    recorded=voucher_named,
)

BasketCode = Annotated[
    str | None,
    typer.Option(
        "--basket-code",
        metavar="S",
        help="Only a basket transaction with this retailer basket code may redeem it.",
    ),
]
LockingCode = Annotated[
    str | None,
    typer.Option(
        "--locking-code",
        metavar="S",
        help="Only a basket transaction with this voucher locking code may redeem it.",
    ),
]
Period = Annotated[
    str | None,
    typer.Option(
        "--period",
        metavar="SECONDS",
        help="How long the lock holds, 120..3600 seconds.",
        show_default="300, the server's default",
    ),
]


def lock(
    ctx: typer.Context,
    voucher_key: VoucherKey = None,
    voucher_id: VoucherId = None,
    basket_code: BasketCode = None,
    locking_code: LockingCode = None,
    period: Period = None,
) -> None:
    """Lock a voucher for a basket transaction, for --period seconds.

    Name the voucher with --voucher-key or --voucher-id. Left out, --period is not sent and
    Spaaza locks for 300 seconds.

    With --from FILE, every row of a CSV with the columns voucher_key or voucher_id, and
    optionally retailer_basket_code, voucher_locking_code, voucher_lock_period.

    Example:

    \b
      voucherctl lock --voucher-id 35735 --locking-code till-7 --period 600 --sandbox
    """
    values = {
        "voucher_key": voucher_key,
        "voucher_id": voucher_id,
        "retailer_basket_code": basket_code,
        "voucher_locking_code": locking_code,
        "voucher_lock_period": period,
    }
    change.perform(
        environment(ctx), LOCK, values, bulk(ctx), view=VOUCHER_VIEW, title="Voucher locked"
    )


def unlock(
    ctx: typer.Context,
    voucher_key: VoucherKey = None,
    voucher_id: VoucherId = None,
) -> None:
    """Drop a voucher's lock, including one tied to a basket code (admin or privileged auth).

    With --from FILE, every row of a CSV with the column voucher_key or voucher_id.

    Examples:

    \b
      voucherctl unlock --voucher-id 35735 --sandbox
      voucherctl vouchers --user-id 1107604 -o csv | voucherctl unlock --from -
    """
    values = {"voucher_key": voucher_key, "voucher_id": voucher_id}
    change.perform(
        environment(ctx), UNLOCK, values, bulk(ctx), view=VOUCHER_VIEW, title="Voucher unlocked"
    )
