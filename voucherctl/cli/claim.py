"""``voucherctl claim`` and ``voucherctl unclaim``: a user takes a voucher, or gives it back."""

from voucherctl import output
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
    chain_params,
    user_params,
    voucher_params,
)
from voucherctl.env import Environment


def _params(
    env: Environment,
    voucher: tuple[str | None, str | None, str | None],
    user: tuple[str | None, ...],
    chain_id: str | None,
) -> dict[str, str]:
    from voucherctl import connect

    params = voucher_params(*voucher)
    params.update(user_params(*user))
    params.update(chain_params(connect.spaaza_chain_id(env, chain_id)))
    return params


def claim(
    env: Environment,
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
    """
    params = _params(
        env,
        (voucher_key, voucher_id, third_party_id),
        (user_id, member_number, username, auth_point_id, aux_id),
        chain_id,
    )
    from voucherctl import connect

    result = connect.spaaza(env).claim(params)
    output.print_record(env, result, VOUCHER_VIEW, title="Voucher claimed")


def unclaim(
    env: Environment,
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
    """Undo a claim made by mistake: the voucher is offered (generated) again."""
    params = _params(
        env,
        (voucher_key, voucher_id, third_party_id),
        (user_id, member_number, username, auth_point_id, aux_id),
        chain_id,
    )
    from voucherctl import connect

    result = connect.spaaza(env).unclaim(params)
    output.print_record(env, result, VOUCHER_VIEW, title="Voucher unclaimed")
