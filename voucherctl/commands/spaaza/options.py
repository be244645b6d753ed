"""What the Spaaza commands share: their voucher and user options, and how a voucher looks."""

import calendar
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Annotated, Any

import typer

from voucherctl.api.spaaza.fields import USER_FIELDS
from voucherctl.core.errors import UsageError
from voucherctl.ui import output

if TYPE_CHECKING:
    from voucherctl.api.spaaza.client import SpaazaClient

VoucherKey = Annotated[
    str | None, typer.Option("--voucher-key", metavar="KEY", help="The voucher's key.")
]
VoucherId = Annotated[
    str | None, typer.Option("--voucher-id", metavar="N", help="The voucher's numeric id.")
]
ThirdPartyId = Annotated[
    str | None, typer.Option("--third-party-id", metavar="N", help="The voucher's third-party id.")
]
UserId = Annotated[  # --user: the same option (docs/contract.md#names-and-aliases)
    str | None, typer.Option("--user-id", "--user", metavar="N", help="The user's Spaaza id.")
]
MemberNumber = Annotated[
    str | None, typer.Option("--member-number", metavar="S", help="The user's member number.")
]
Username = Annotated[
    str | None, typer.Option("--username", metavar="EMAIL", help="The user's email address.")
]
AuthPointId = Annotated[
    str | None,
    typer.Option(
        "--auth-point-id", metavar="S", help="The user's id in a third-party login system."
    ),
]
AuxId = Annotated[
    str | None, typer.Option("--aux-id", metavar="S", help="The user's auxiliary identifier.")
]
ChainId = Annotated[
    str | None,
    typer.Option(
        "--chain-id",
        metavar="N",
        help="Retailer chain, needed with admin sessions; else VOUCHERCTL_SPAAZA_CHAIN_ID, "
        "else the profile's.",
    ),
]


def user_values(
    user_id: str | None,
    member_number: str | None,
    username: str | None,
    auth_point_id: str | None,
    aux_id: str | None,
) -> dict[str, str | None]:
    """The user options by the names Spaaza gives its parameters."""
    return {
        "user_id": user_id,
        "member_number": member_number,
        "username": username,
        "authentication_point_identifier": auth_point_id,
        "auxiliary_identifier": aux_id,
    }


def held_by_user(
    client: "SpaazaClient", request: Mapping[str, str], status: str
) -> dict[str, Any] | None:
    """The voucher a request names, if the user holds it with ``status``: how a change whose
    attempt got no answer is settled (claimed, generated again, redeemed)."""
    from voucherctl.api.spaaza.client import same_voucher, vouchers_in
    from voucherctl.changes.params import given

    user = given(request, USER_FIELDS)
    if not user:
        return None
    query = {**user, **given(request, ("chain_id",))}
    for voucher in vouchers_in(client.user_vouchers(query)):
        if same_voucher(voucher, request) and voucher.get("voucher_status") == status:
            return voucher
    return None


def require_admin_parameters(
    client: "SpaazaClient", request: Mapping[str, str], command: str
) -> None:
    """With an admin session (a session, no app hostname), Spaaza needs the user and the chain:
    missing, it is a usage error before anything is sent (docs/contract.md#commands)."""
    credentials = client.credentials
    admin = credentials is not None and not credentials.token and not client.app_hostname
    if not admin:
        return
    if not any(request.get(field) for field in USER_FIELDS):
        raise UsageError(
            f"{command} with an admin session needs the user: give one of --user-id, "
            "--member-number, --username, --auth-point-id, --aux-id (in a file: a user_id, "
            "member_number, ... column); nothing was sent"
        )
    if not request.get("chain_id"):
        raise UsageError(
            f"{command} with an admin session needs a chain id: give --chain-id, or set "
            "VOUCHERCTL_SPAAZA_CHAIN_ID or the profile's chain_id; nothing was sent"
        )


# Spaaza's currency ids, as its claim-voucher sample pairs them with symbols; lock answers
# carry the id alone.
CURRENCY_SYMBOLS = {2: "€"}


def _amount(voucher: dict[str, Any], key: str = "voucher_amount") -> str:
    amount = voucher.get(key)
    if amount is None:
        return ""
    symbol = voucher.get("voucher_currency_symbol")
    currency = voucher.get("voucher_currency_id")
    if not symbol and isinstance(currency, int):
        symbol = CURRENCY_SYMBOLS.get(currency)
        if symbol is None:
            return f"{amount} (currency {currency})"
    return f"{symbol or ''}{amount}"


def _lock(voucher: dict[str, Any]) -> str:
    until = voucher.get("voucher_locked_until")
    if not until:
        return "locked" if voucher.get("voucher_locked") else "not locked"
    return f"until {until} ({relative(until)})"  # UTC: said once, above the view


def _campaign(voucher: dict[str, Any]) -> str:
    title, number = voucher.get("campaign_title"), voucher.get("campaign_id")
    if title and number is not None:
        return f"{title} ({number})"
    return str(title or number or "")


def _expiry(voucher: dict[str, Any]) -> str:
    expiry = voucher.get("voucher_expiry_datetime_utc")
    return str(expiry) if expiry else ""  # UTC: said once, above the view


def relative(utc: str, *, now: float | None = None) -> str:
    """A Spaaza UTC time as "in 5 minutes" or "3 minutes ago"."""
    try:
        moment = calendar.timegm(time.strptime(utc.strip(), "%Y-%m-%d %H:%M:%S"))
    except ValueError:
        return "time unreadable"
    seconds = moment - (time.time() if now is None else now)
    span = abs(seconds)
    if span < 90:
        amount, unit = round(span), "second"
    elif span < 90 * 60:
        amount, unit = round(span / 60), "minute"
    elif span < 36 * 3600:
        amount, unit = round(span / 3600), "hour"
    else:
        amount, unit = round(span / 86400), "day"
    words = f"{amount} {unit}{'' if amount == 1 else 's'}"
    return f"in {words}" if seconds >= 0 else f"{words} ago"


def _locked_until(voucher: dict[str, Any]) -> str:
    """A list's lock cell: until when (UTC, said above the table), or "locked" without one."""
    if not voucher.get("voucher_locked"):
        return ""
    return str(voucher.get("voucher_locked_until") or "locked")


VOUCHER_VIEW = [
    output.id_field("Voucher id", "voucher_id"),
    output.identifier("Voucher key", "voucher_key"),
    output.field("Status", "voucher_status"),
    output.Column("Lock", _lock, zone="UTC"),
    output.identifier("Locking code", "voucher_locking_code"),
    output.identifier("Basket code", "voucher_retailer_basket_code_exclusive"),
    output.Column("Amount", _amount),
    output.Column("Redeemed", lambda v: _amount(v, "voucher_amount_redeemed")),
    output.Column("Expires", _expiry, no_wrap=True, zone="UTC"),
    output.Column("Campaign", _campaign),
    output.id_field("User", "user_id"),
    output.field("Text", "voucher_text"),
]

# The lock's holder (the basket code the lock is exclusive to), its code and its end are
# columns of their own: support asks "who holds voucher 35735, and until when?".
VOUCHER_COLUMNS = [  # a narrow terminal leaves out Key, Campaign, Expires, ... in that order
    output.id_field("Id", "voucher_id"),
    output.field("Status", "voucher_status"),
    output.Column("Amount", _amount, no_wrap=True),
    output.Column("Locked until", _locked_until, no_wrap=True, zone="UTC"),
    output.identifier("Basket code", "voucher_retailer_basket_code_exclusive", drop=2),
    output.identifier("Locking code", "voucher_locking_code", drop=3),
    output.time_field("Expires", "voucher_expiry_datetime_utc", "UTC", drop=5),
    output.Column("Campaign", _campaign, drop=6),
    output.identifier("Key", "voucher_key", drop=7),  # the id names it as well
]
