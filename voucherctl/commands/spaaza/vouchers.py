"""``voucherctl vouchers USER``: what a Spaaza user holds, for support."""

from typing import TYPE_CHECKING, Any

import typer

from voucherctl.api import shapes
from voucherctl.changes import params
from voucherctl.cli.command import environment
from voucherctl.commands.spaaza.options import (
    VOUCHER_COLUMNS,
    VOUCHER_VIEW,
    AuthPointId,
    AuxId,
    ChainId,
    MemberNumber,
    ThirdPartyId,
    UserId,
    Username,
    VoucherId,
    VoucherKey,
    require_admin_parameters,
    user_values,
)
from voucherctl.core.errors import NotFoundError
from voucherctl.core.text import escape_control
from voucherctl.ui import output

if TYPE_CHECKING:
    from voucherctl.ui.environment import Environment


def vouchers(
    ctx: typer.Context,
    user_id: UserId = None,
    member_number: MemberNumber = None,
    username: Username = None,
    auth_point_id: AuthPointId = None,
    aux_id: AuxId = None,
    chain_id: ChainId = None,
    voucher_id: VoucherId = None,
    voucher_key: VoucherKey = None,
    third_party_id: ThirdPartyId = None,
) -> None:
    """List a user's vouchers: status, amount, lock (until when, held by which basket, with
    which locking code) and expiry; or look one of them up.

    Name the user with one of --user-id, --member-number, --username, --auth-point-id, --aux-id.
    Prints a list of voucher objects as Spaaza gives them (basket, honour and variable-price
    vouchers alike); its -o csv is accepted back by the bulk commands. --voucher-id,
    --voucher-key or --third-party-id narrows the list to that voucher (Spaaza has no
    documented call that reads one voucher by itself), shown whole on a terminal; not held by
    the user, it is exit 3.

    Examples:

    \b
      voucherctl vouchers --user-id 1107604 --sandbox
      voucherctl vouchers --user-id 1107604 --voucher-id 35735 --sandbox
      voucherctl vouchers --user-id 1107604 -o csv | voucherctl unlock --from -
    """
    env = environment(ctx)
    from voucherctl.api.spaaza.client import same_voucher, vouchers_in
    from voucherctl.cli import clients

    values = {
        **user_values(user_id, member_number, username, auth_point_id, aux_id),
        "chain_id": clients.spaaza_chain_id(env, chain_id),
    }
    query = {**params.user(values, required=True), **params.chain(values)}
    narrowed = {"voucher_id": voucher_id, "voucher_key": voucher_key}
    wanted = _wanted({**narrowed, "third_party_id": third_party_id})
    client = clients.spaaza(env)
    require_admin_parameters(client, query, "vouchers")
    found = vouchers_in(client.user_vouchers(query))
    if not wanted:
        _print_list(env, found)
        return
    found = [voucher for voucher in found if same_voucher(voucher, wanted)]
    if not found:
        [(name, value)] = wanted.items()
        raise NotFoundError(
            f"the user holds no voucher with {params.OPTION_NAMES[name]} "
            f"{escape_control(value)}; 'voucherctl vouchers' without it lists what they hold"
        )
    if env.output_format() == "table" and env.options.query is None:
        for voucher in found:
            output.print_record(
                env, voucher, VOUCHER_VIEW, title=f"Voucher {voucher.get('voucher_id')}"
            )
    else:
        _print_list(env, found)


def _wanted(values: dict[str, Any]) -> dict[str, str]:
    """The one voucher identifier given to narrow the list, if any."""
    if not params.given(values, ("voucher_key", "voucher_id", "third_party_id")):
        return {}
    return params.voucher(values)


def _print_list(env: "Environment", found: list[dict[str, Any]]) -> None:
    """The vouchers as a list; -o csv has every column schema vouchers declares, always."""
    declared = shapes.declared("vouchers", "voucher")
    output.print_list(env, found, VOUCHER_COLUMNS, title="Vouchers", csv_declared=declared)
