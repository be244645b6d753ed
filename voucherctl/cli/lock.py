"""``voucherctl lock`` and ``voucherctl unlock``: hold a voucher for one basket transaction."""

from typing import Annotated, Any

import typer

from voucherctl.bulk.operation import BulkOptions, Operation
from voucherctl.cli import change, params
from voucherctl.cli.spaaza_voucher import VOUCHER_VIEW, VoucherId, VoucherKey
from voucherctl.env import Environment


def _client(env: Environment, pacer: Any) -> Any:
    from voucherctl import connect

    return connect.spaaza(env, pacer)


LOCK = Operation(
    command="lock",
    columns=(
        "voucher_key",
        "voucher_id",
        "retailer_basket_code",
        "voucher_locking_code",
        "voucher_lock_period",
    ),
    params=params.lock,
    send=lambda client, request: client.lock(request),
    method="PUT",
    path="/lock-voucher",
    idempotent=True,  # locking again with the same codes only renews the lock
)
UNLOCK = Operation(
    command="unlock",
    columns=("voucher_key", "voucher_id"),
    params=params.unlock,
    send=lambda client, request: client.unlock(request),
    method="PUT",
    path="/unlock-voucher",
    idempotent=True,
)


def lock(
    env: Environment,
    bulk: BulkOptions,
    voucher_key: VoucherKey = None,
    voucher_id: VoucherId = None,
    basket_code: Annotated[
        str | None,
        typer.Option(
            "--basket-code",
            metavar="S",
            help="Only a basket transaction with this retailer basket code may redeem it.",
        ),
    ] = None,
    locking_code: Annotated[
        str | None,
        typer.Option(
            "--locking-code",
            metavar="S",
            help="Only a basket transaction with this voucher locking code may redeem it.",
        ),
    ] = None,
    period: Annotated[
        str | None,
        typer.Option(
            "--period",
            metavar="SECONDS",
            help="How long the lock holds, 120..3600 seconds.",
            show_default="300, the server's default",
        ),
    ] = None,
) -> None:
    """Lock a voucher for a basket transaction, for --period seconds.

    Name the voucher with --voucher-key or --voucher-id. Left out, --period is not sent and
    Spaaza locks for 300 seconds.

    With --from FILE, every row of a CSV with the columns voucher_key or voucher_id, and
    optionally retailer_basket_code, voucher_locking_code, voucher_lock_period.
    """
    values = {
        "voucher_key": voucher_key,
        "voucher_id": voucher_id,
        "retailer_basket_code": basket_code,
        "voucher_locking_code": locking_code,
        "voucher_lock_period": period,
    }
    change.perform(env, LOCK, values, bulk, _client, view=VOUCHER_VIEW, title="Voucher locked")


def unlock(
    env: Environment,
    bulk: BulkOptions,
    voucher_key: VoucherKey = None,
    voucher_id: VoucherId = None,
) -> None:
    """Drop a voucher's lock, including one tied to a basket code (admin or privileged auth).

    With --from FILE, every row of a CSV with the column voucher_key or voucher_id.
    """
    values = {"voucher_key": voucher_key, "voucher_id": voucher_id}
    change.perform(env, UNLOCK, values, bulk, _client, view=VOUCHER_VIEW, title="Voucher unlocked")
