"""What the Spaaza commands share: how a voucher and a user are named, and how a voucher looks."""

import calendar
import time
from typing import Annotated, Any

import typer

from voucherctl import output
from voucherctl.cli import validate
from voucherctl.errors import UsageError

VoucherKey = Annotated[
    str | None, typer.Option("--voucher-key", metavar="KEY", help="The voucher's key.")
]
VoucherId = Annotated[
    str | None, typer.Option("--voucher-id", metavar="N", help="The voucher's numeric id.")
]
ThirdPartyId = Annotated[
    str | None,
    typer.Option("--third-party-id", metavar="N", help="The voucher's third-party id."),
]
UserId = Annotated[str | None, typer.Option("--user-id", metavar="N", help="The user's Spaaza id.")]
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
        help="Retailer chain (needed with admin sessions) [env: VOUCHERCTL_SPAAZA_CHAIN_ID].",
        show_default="the profile's chain id",
    ),
]


def voucher_params(
    key: str | None,
    voucher_id: str | None,
    third_party_id: str | None = None,
    *,
    third_party_allowed: bool = True,
) -> dict[str, str]:
    """Exactly one voucher identifier, under the API's parameter name."""
    candidates = {"voucher_key": key, "voucher_id": voucher_id, "third_party_id": third_party_id}
    given = {name: value for name, value in candidates.items() if value is not None}
    choices = (
        "--voucher-key, --voucher-id or --third-party-id"
        if third_party_allowed
        else "--voucher-key or --voucher-id"
    )
    if len(given) != 1:
        raise UsageError(f"name the voucher with exactly one of {choices}")
    [(name, value)] = given.items()
    if name == "voucher_key":
        return {name: validate.token(value, "--voucher-key")}
    return {name: validate.numeric_id(value, "--" + name.replace("_", "-"))}


def user_params(
    user_id: str | None = None,
    member_number: str | None = None,
    username: str | None = None,
    auth_point_id: str | None = None,
    aux_id: str | None = None,
    *,
    required: bool = False,
) -> dict[str, str]:
    """At most one user identifier (exactly one when ``required``), under the API's name."""
    candidates = {
        "user_id": user_id,
        "member_number": member_number,
        "username": username,
        "authentication_point_identifier": auth_point_id,
        "auxiliary_identifier": aux_id,
    }
    given = {name: value for name, value in candidates.items() if value is not None}
    choices = "--user-id, --member-number, --username, --auth-point-id or --aux-id"
    if len(given) > 1:
        raise UsageError(f"name the user with at most one of {choices}")
    if required and not given:
        raise UsageError(f"name the user with one of {choices}")
    params = {}
    for name, value in given.items():
        if name == "user_id":
            params[name] = validate.numeric_id(value, "--user-id")
        elif name == "username":
            params[name] = validate.email(value, "--username")
        else:
            params[name] = validate.text(value, _OPTION_OF[name])
    return params


_OPTION_OF = {
    "member_number": "--member-number",
    "authentication_point_identifier": "--auth-point-id",
    "auxiliary_identifier": "--aux-id",
}


def chain_params(chain_id: str | None) -> dict[str, str]:
    return {"chain_id": validate.numeric_id(chain_id, "--chain-id")} if chain_id else {}


def _amount(voucher: dict[str, Any]) -> str:
    amount = voucher.get("voucher_amount")
    if amount is None:
        return ""
    symbol = voucher.get("voucher_currency_symbol") or ""
    return f"{symbol}{amount}"


def _lock(voucher: dict[str, Any]) -> str:
    until = voucher.get("voucher_locked_until")
    locked = voucher.get("voucher_locked")
    if not until:
        return "locked" if locked else "not locked"
    return f"until {until} UTC ({relative(until)})"


def _campaign(voucher: dict[str, Any]) -> str:
    title, number = voucher.get("campaign_title"), voucher.get("campaign_id")
    if title and number is not None:
        return f"{title} ({number})"
    return str(title or number or "")


def _expiry(voucher: dict[str, Any]) -> str:
    expiry = voucher.get("voucher_expiry_datetime_utc")
    return f"{expiry} UTC" if expiry else ""


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


VOUCHER_VIEW = [
    output.field("Voucher id", "voucher_id"),
    output.field("Voucher key", "voucher_key"),
    output.field("Status", "voucher_status"),
    output.Column("Lock", _lock),
    output.field("Locking code", "voucher_locking_code"),
    output.field("Basket code", "voucher_retailer_basket_code_exclusive"),
    output.Column("Amount", _amount),
    output.field("Redeemed", "voucher_amount_redeemed"),
    output.Column("Expires", _expiry),
    output.Column("Campaign", _campaign),
    output.field("User", "user_id"),
    output.field("Text", "voucher_text"),
]

VOUCHER_COLUMNS = [
    output.field("Id", "voucher_id"),
    output.field("Status", "voucher_status"),
    output.Column("Amount", _amount),
    output.Column("Lock", lambda v: "locked" if v.get("voucher_locked") else ""),
    output.Column("Expires", _expiry),
    output.Column("Campaign", _campaign),
    output.field("Key", "voucher_key"),
]
