"""``voucherctl redeem``: redeem a claimed voucher for a user, as a till would (support, when the
till failed)."""

from collections.abc import Mapping
from typing import Annotated, Any

import typer

from voucherctl.api.spaaza.client import SpaazaClient
from voucherctl.api.spaaza.fields import USER_FIELDS, VOUCHER_FIELDS, voucher_named
from voucherctl.changes import params
from voucherctl.changes.operation import Operation
from voucherctl.cli import change, clients
from voucherctl.cli.command import bulk, environment
from voucherctl.commands.spaaza.options import (
    VOUCHER_VIEW,
    AuthPointId,
    AuxId,
    ChainId,
    MemberNumber,
    UserId,
    Username,
    VoucherId,
    VoucherKey,
    held_by_user,
    require_admin_parameters,
    user_values,
)
from voucherctl.ui import output

COLUMNS = (*VOUCHER_FIELDS[:2], *USER_FIELDS, "chain_id", "amount")


def _settle_redeem(client: SpaazaClient, request: Mapping[str, str]) -> dict[str, Any] | None:
    """The voucher, if the user's vouchers show it redeemed (an earlier attempt went through)."""
    return held_by_user(client, request, "redeemed")


REDEEM: Operation[SpaazaClient] = Operation(
    command="redeem",
    columns=COLUMNS,
    params=params.redeem,
    client_for=clients.spaaza,
    call=SpaazaClient.redeem,
    method="POST",
    path="/auth/redeem-voucher",
    settle=_settle_redeem,
    preferred=VOUCHER_FIELDS[:2],
    check=lambda client, request: require_admin_parameters(client, request, "redeem"),
    recorded=voucher_named,
)

REDEEM_VIEW = [
    *VOUCHER_VIEW,
    output.Column(
        "Rest on",
        lambda r: _regenerated(r.get("regenerated_voucher")),
        words=True,
    ),
]


def _regenerated(voucher: Any) -> str:
    """A partial redemption's rest: a new voucher claimed by the same user."""
    if not isinstance(voucher, dict):
        return ""
    symbol = voucher.get("voucher_currency_symbol") or ""
    return f"{symbol}{voucher.get('voucher_amount')} (voucher {voucher.get('voucher_id')})"


Amount = Annotated[
    str | None,
    typer.Option(
        "--amount",
        metavar="X",
        help="Redeem only this much (e.g. 2.50); the rest stays on a new voucher.",
        show_default="the whole voucher",
    ),
]


def redeem(
    ctx: typer.Context,
    voucher_key: VoucherKey = None,
    voucher_id: VoucherId = None,
    user_id: UserId = None,
    member_number: MemberNumber = None,
    username: Username = None,
    auth_point_id: AuthPointId = None,
    aux_id: AuxId = None,
    chain_id: ChainId = None,
    amount: Amount = None,
) -> None:
    """Redeem a claimed voucher, wholly or for --amount (admin or privileged auth).

    Name the voucher with --voucher-key or --voucher-id; a chain id is mandatory (--chain-id,
    else VOUCHERCTL_SPAAZA_CHAIN_ID or the profile's), and an admin session needs the user.
    After a partial redemption the rest is left on a new voucher, shown in the answer.

    With --from FILE, every row of a CSV with the columns voucher_key or voucher_id, a user
    column, chain_id and amount; at most once each, recorded in the ledger.

    Examples:

    \b
      voucherctl redeem --voucher-id 35735 --user-id 1107604 --sandbox
      voucherctl redeem --voucher-id 35735 --user-id 1107604 --amount 2.50 --sandbox
    """
    env = environment(ctx)
    values = {
        "voucher_key": voucher_key,
        "voucher_id": voucher_id,
        **user_values(user_id, member_number, username, auth_point_id, aux_id),
        "chain_id": chain_id,
        "amount": amount,
    }
    defaults = {"chain_id": clients.spaaza_chain_id(env, None)}
    change.perform(
        env,
        REDEEM,
        values,
        bulk(ctx),
        view=REDEEM_VIEW,
        title="Voucher redeemed",
        defaults=defaults,
    )
