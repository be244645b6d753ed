"""``voucherctl claim`` and ``voucherctl unclaim``: a user takes a voucher, or gives it back."""

from collections.abc import Mapping
from typing import Any

from voucherctl.bulk.operation import BulkOptions, Operation
from voucherctl.cli import change, params
from voucherctl.cli.spaaza_voucher import (
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
)
from voucherctl.env import Environment
from voucherctl.spaaza import USER_FIELDS, VOUCHER_FIELDS

COLUMNS = (*VOUCHER_FIELDS, *USER_FIELDS, "chain_id")


def _client(env: Environment, pacer: Any) -> Any:
    from voucherctl import connect

    return connect.spaaza(env, pacer)


def _settle_claim(client: Any, request: Mapping[str, str]) -> dict[str, Any] | None:
    """The voucher, if the user already holds it claimed (an earlier claim did go through)."""
    from voucherctl.spaaza import vouchers_in

    user = params.given(request, USER_FIELDS)
    if not user:
        return None
    query = {**user, **params.given(request, ("chain_id",))}
    for voucher in vouchers_in(client.user_vouchers(query)):
        same = (
            voucher.get("voucher_key") == request.get("voucher_key")
            or str(voucher.get("voucher_id")) == request.get("voucher_id")
            or str(voucher.get("voucher_third_party_id")) == request.get("third_party_id")
        )
        if same and voucher.get("voucher_status") == "claimed":
            return voucher
    return None


CLAIM = Operation(
    command="claim",
    columns=COLUMNS,
    params=params.claim,
    send=lambda client, request: client.claim(request),
    method="POST",
    path="/claim-voucher",
    idempotent=True,
    settle=_settle_claim,
)
UNCLAIM = Operation(
    command="unclaim",
    columns=COLUMNS,
    params=params.claim,
    send=lambda client, request: client.unclaim(request),
    method="POST",
    path="/unclaim-voucher",
    idempotent=True,
)


def _values(**given: str | None) -> dict[str, str | None]:
    return {
        "voucher_key": given["voucher_key"],
        "voucher_id": given["voucher_id"],
        "third_party_id": given["third_party_id"],
        "user_id": given["user_id"],
        "member_number": given["member_number"],
        "username": given["username"],
        "authentication_point_identifier": given["auth_point_id"],
        "auxiliary_identifier": given["aux_id"],
        "chain_id": given["chain_id"],
    }


def _defaults(env: Environment) -> dict[str, str | None]:
    """The chain id of VOUCHERCTL_SPAAZA_CHAIN_ID or the profile, where --chain-id is not given
    (and, in a bulk file, where the chain_id column is not)."""
    from voucherctl import connect

    return {"chain_id": connect.spaaza_chain_id(env, None)}


def claim(
    env: Environment,
    bulk: BulkOptions,
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
    """Claim a voucher offered to a user, so that it can be redeemed.

    Name the voucher with exactly one of --voucher-key, --voucher-id, --third-party-id, and the
    user with at most one user option (admin and privileged sessions need one).

    With --from FILE, every row of a CSV whose columns are the API's parameter names
    (voucher_key, voucher_id, third_party_id, user_id, member_number, username, chain_id, ...).
    """
    values = _values(**{k: v for k, v in locals().items() if k not in ("env", "bulk")})
    change.perform(
        env,
        CLAIM,
        values,
        bulk,
        _client,
        view=VOUCHER_VIEW,
        title="Voucher claimed",
        defaults=_defaults(env),
    )


def unclaim(
    env: Environment,
    bulk: BulkOptions,
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
    """Undo a claim made by mistake: the voucher is offered (generated) again.

    Takes the same options, and the same --from columns, as claim.
    """
    values = _values(**{k: v for k, v in locals().items() if k not in ("env", "bulk")})
    change.perform(
        env,
        UNCLAIM,
        values,
        bulk,
        _client,
        view=VOUCHER_VIEW,
        title="Voucher unclaimed",
        defaults=_defaults(env),
    )
