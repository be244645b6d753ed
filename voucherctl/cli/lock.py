"""``voucherctl lock`` and ``voucherctl unlock``: hold a voucher for one basket transaction."""

from typing import Annotated

import typer

from voucherctl import output
from voucherctl.cli import validate
from voucherctl.cli.spaaza_voucher import VOUCHER_VIEW, VoucherId, VoucherKey, voucher_params
from voucherctl.env import Environment
from voucherctl.errors import UsageError
from voucherctl.output import escape_control

MIN_LOCK_PERIOD, MAX_LOCK_PERIOD = 120, 3600


def lock(
    env: Environment,
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
    """
    params = voucher_params(voucher_key, voucher_id, third_party_allowed=False)
    if basket_code is not None:
        params["retailer_basket_code"] = validate.token(basket_code, "--basket-code")
    if locking_code is not None:
        params["voucher_locking_code"] = validate.token(locking_code, "--locking-code")
    if period is not None:
        params["voucher_lock_period"] = lock_period(period)
    from voucherctl import connect

    result = connect.spaaza(env).lock(params)
    output.print_record(env, result, VOUCHER_VIEW, title="Voucher locked")


def lock_period(value: str) -> str:
    """A whole number of seconds within Spaaza's bounds, else a usage error."""
    text = value.strip()
    if not (text.isascii() and text.isdigit() and len(text) <= 5) or not (
        MIN_LOCK_PERIOD <= int(text) <= MAX_LOCK_PERIOD
    ):
        raise UsageError(
            f"--period must be a whole number of seconds from {MIN_LOCK_PERIOD} to "
            f"{MAX_LOCK_PERIOD}, not {escape_control(value)!r}"
        )
    return str(int(text))


def unlock(
    env: Environment,
    voucher_key: VoucherKey = None,
    voucher_id: VoucherId = None,
) -> None:
    """Drop a voucher's lock, including one tied to a basket code (admin or privileged auth)."""
    params = voucher_params(voucher_key, voucher_id, third_party_allowed=False)
    from voucherctl import connect

    result = connect.spaaza(env).unlock(params)
    output.print_record(env, result, VOUCHER_VIEW, title="Voucher unlocked")
