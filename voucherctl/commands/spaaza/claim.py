"""``voucherctl claim`` and ``voucherctl unclaim``: a user takes a voucher, or gives it back.

Both take the same options and the same ``--from`` columns, so one function declares them and
makes both commands (:func:`_claim_command`).
"""

from collections.abc import Callable, Mapping
from typing import Any

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
    ThirdPartyId,
    UserId,
    Username,
    VoucherId,
    VoucherKey,
    held_by_user,
    require_admin_parameters,
    user_values,
)

COLUMNS = (*VOUCHER_FIELDS, *USER_FIELDS, "chain_id")


def _settle_claim(client: SpaazaClient, request: Mapping[str, str]) -> dict[str, Any] | None:
    """The voucher, if the user holds it claimed (an earlier claim did go through)."""
    return held_by_user(client, request, "claimed")


def _settle_unclaim(client: SpaazaClient, request: Mapping[str, str]) -> dict[str, Any] | None:
    """The voucher, if it is offered to the user again (an earlier unclaim did go through)."""
    return held_by_user(client, request, "generated")


CLAIM: Operation[SpaazaClient] = Operation(
    command="claim",
    columns=COLUMNS,
    params=params.claim,
    client_for=clients.spaaza,
    call=SpaazaClient.claim,
    method="POST",
    preferred=VOUCHER_FIELDS,
    path="/claim-voucher",
    check=lambda client, request: require_admin_parameters(client, request, "claim"),
    settle=_settle_claim,
    recorded=voucher_named,
)
UNCLAIM: Operation[SpaazaClient] = Operation(
    command="unclaim",
    columns=COLUMNS,
    params=params.claim,
    client_for=clients.spaaza,
    call=SpaazaClient.unclaim,
    method="POST",
    preferred=VOUCHER_FIELDS,
    path="/unclaim-voucher",
    check=lambda client, request: require_admin_parameters(client, request, "unclaim"),
    settle=_settle_unclaim,
    recorded=voucher_named,
)


def _claim_command(operation: Operation[SpaazaClient], title: str) -> Callable[..., None]:
    """The command that runs ``operation``, with the options claim and unclaim share."""

    def command(
        ctx: typer.Context,
        voucher_key: VoucherKey = None,
        voucher_id: VoucherId = None,
        third_party_id: ThirdPartyId = None,
        user_id: UserId = None,
        member_number: MemberNumber = None,
        username: Username = None,
        auth_point_id: AuthPointId = None,
        aux_id: AuxId = None,
        chain_id: ChainId = None,
    ) -> None:
        env = environment(ctx)
        values = {
            "voucher_key": voucher_key,
            "voucher_id": voucher_id,
            "third_party_id": third_party_id,
            **user_values(user_id, member_number, username, auth_point_id, aux_id),
            "chain_id": chain_id,
        }
        # The chain id of VOUCHERCTL_SPAAZA_CHAIN_ID or the profile stands in where --chain-id
        # is not given (and, in a bulk file, where a row's chain_id is empty).
        defaults = {"chain_id": clients.spaaza_chain_id(env, None)}
        change.perform(
            env, operation, values, bulk(ctx), view=VOUCHER_VIEW, title=title, defaults=defaults
        )

    return command


claim = _claim_command(CLAIM, "Voucher claimed")
claim.__doc__ = """Claim a voucher offered to a user, so that it can be redeemed.

    Name the voucher with exactly one of --voucher-key, --voucher-id, --third-party-id, and the
    user with at most one user option (admin and privileged sessions need one).

    With --from FILE, every row of a CSV whose columns are the API's parameter names
    (voucher_key, voucher_id, third_party_id, user_id, member_number, username, chain_id, ...).

    Examples:

    \b
      voucherctl claim --voucher-id 35735 --user-id 1107604 --sandbox
      voucherctl claim --from claims.csv --chain-id 3
    """

unclaim = _claim_command(UNCLAIM, "Voucher unclaimed")
unclaim.__doc__ = """Undo a claim made by mistake: the voucher is offered (generated) again.

    Takes the same options, and the same --from columns, as claim.

    Example:

    \b
      voucherctl unclaim --voucher-id 35735 --user-id 1107604 --sandbox
    """
