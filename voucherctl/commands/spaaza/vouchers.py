"""``voucherctl vouchers USER``: what a Spaaza user holds, for support."""

import typer

from voucherctl.changes import params
from voucherctl.cli.command import environment
from voucherctl.commands.spaaza.options import (
    VOUCHER_COLUMNS,
    AuthPointId,
    AuxId,
    ChainId,
    MemberNumber,
    UserId,
    Username,
    require_admin_parameters,
    user_values,
)
from voucherctl.ui import output


def vouchers(
    ctx: typer.Context,
    user_id: UserId = None,
    member_number: MemberNumber = None,
    username: Username = None,
    auth_point_id: AuthPointId = None,
    aux_id: AuxId = None,
    chain_id: ChainId = None,
) -> None:
    """List a user's vouchers: status, amount, lock and expiry.

    Name the user with one of --user-id, --member-number, --username, --auth-point-id, --aux-id.
    Prints a list of voucher objects as Spaaza gives them (basket, honour and variable-price
    vouchers alike); its -o csv is accepted back by the bulk commands.

    Examples:

    \b
      voucherctl vouchers --user-id 1107604 --sandbox
      voucherctl vouchers --user-id 1107604 -o csv | voucherctl unlock --from -
    """
    env = environment(ctx)
    from voucherctl.api.spaaza.client import vouchers_in
    from voucherctl.cli import clients

    values = {
        **user_values(user_id, member_number, username, auth_point_id, aux_id),
        "chain_id": clients.spaaza_chain_id(env, chain_id),
    }
    query = {**params.user(values, required=True), **params.chain(values)}
    client = clients.spaaza(env)
    require_admin_parameters(client, query, "vouchers")
    results = client.user_vouchers(query)
    output.print_list(env, vouchers_in(results), VOUCHER_COLUMNS, title="Vouchers")
