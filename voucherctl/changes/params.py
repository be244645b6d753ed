"""Arguments to request parameters: one validator per command, for options and CSV rows alike.

A single command reads its values from options; a bulk run from CSV columns named as the API
names its parameters. Both go through the same functions here, which speak of the value by the
name the user gave it (``--group`` or ``voucherGroupId``) when it is wrong.
"""

import re
from collections.abc import Mapping

from voucherctl.api.spaaza.fields import USER_FIELDS, VOUCHER_FIELDS
from voucherctl.changes import validate
from voucherctl.core.errors import UsageError

Values = Mapping[str, str | None]

OPTION_NAMES = {
    "userId": "--user",
    "voucherGroupId": "--group",
    "voucher_key": "--voucher-key",
    "voucher_id": "--voucher-id",
    "third_party_id": "--third-party-id",
    "user_id": "--user-id",
    "member_number": "--member-number",
    "username": "--username",
    "authentication_point_identifier": "--auth-point-id",
    "auxiliary_identifier": "--aux-id",
    "chain_id": "--chain-id",
    "retailer_basket_code": "--basket-code",
    "voucher_locking_code": "--locking-code",
    "voucher_lock_period": "--period",
    "amount": "--amount",
}

MIN_LOCK_PERIOD, MAX_LOCK_PERIOD = 120, 3600
_MONEY = re.compile(r"[0-9]+(\.[0-9]{1,2})?")  # digits, no sign, no exponent


def given(values: Values, fields: tuple[str, ...]) -> dict[str, str]:
    """The fields of ``values`` that were given (None and blank count as not given)."""
    return {name: str(values[name]) for name in fields if values.get(name) not in (None, "")}


def _choices(fields: tuple[str, ...], names: Mapping[str, str]) -> str:
    listed = [names[field] for field in fields]
    return ", ".join(listed[:-1]) + " or " + listed[-1]


def handout(values: Values, names: Mapping[str, str] = OPTION_NAMES) -> dict[str, str]:
    """``userId`` and ``voucherGroupId`` for ``POST /api/2/voucher_handout``."""
    params = {}
    for field in ("userId", "voucherGroupId"):
        value = values.get(field)
        if not value:
            raise UsageError(f"{names[field]} is required")
        params[field] = validate.numeric_id(value, names[field])
    return params


def voucher(
    values: Values, names: Mapping[str, str] = OPTION_NAMES, *, third_party: bool = True
) -> dict[str, str]:
    """Exactly one voucher identifier."""
    fields = VOUCHER_FIELDS if third_party else VOUCHER_FIELDS[:2]
    found = given(values, VOUCHER_FIELDS)
    if len(found) != 1 or not set(found) <= set(fields):
        raise UsageError(f"name the voucher with exactly one of {_choices(fields, names)}")
    [(field, value)] = found.items()
    if field == "voucher_key":
        return {field: validate.token(value, names[field])}
    return {field: validate.numeric_id(value, names[field])}


def user(
    values: Values, names: Mapping[str, str] = OPTION_NAMES, *, required: bool = False
) -> dict[str, str]:
    """At most one user identifier (exactly one when ``required``)."""
    found = given(values, USER_FIELDS)
    choices = _choices(USER_FIELDS, names)
    if len(found) > 1:
        raise UsageError(f"name the user with at most one of {choices}")
    if required and not found:
        raise UsageError(f"name the user with one of {choices}")
    params = {}
    for field, value in found.items():
        if field == "user_id":
            params[field] = validate.numeric_id(value, names[field])
        elif field == "username":
            params[field] = validate.email(value, names[field])
        else:
            params[field] = validate.text(value, names[field])
    return params


def chain(values: Values, names: Mapping[str, str] = OPTION_NAMES) -> dict[str, str]:
    """``chain_id`` when given."""
    value = values.get("chain_id")
    return {"chain_id": validate.numeric_id(value, names["chain_id"])} if value else {}


def claim(values: Values, names: Mapping[str, str] = OPTION_NAMES) -> dict[str, str]:
    """Parameters of claim-voucher and unclaim-voucher."""
    return {**voucher(values, names), **user(values, names), **chain(values, names)}


def lock(values: Values, names: Mapping[str, str] = OPTION_NAMES) -> dict[str, str]:
    """Parameters of lock-voucher: voucher, optional codes and period."""
    params = voucher(values, names, third_party=False)
    for field in ("retailer_basket_code", "voucher_locking_code"):
        if values.get(field) is not None:
            params[field] = validate.token(str(values[field]), names[field])
    period = values.get("voucher_lock_period")
    if period is not None:
        params["voucher_lock_period"] = lock_period(period, names["voucher_lock_period"])
    return params


def unlock(values: Values, names: Mapping[str, str] = OPTION_NAMES) -> dict[str, str]:
    """Parameters of unlock-voucher."""
    return voucher(values, names, third_party=False)


def redeem(values: Values, names: Mapping[str, str] = OPTION_NAMES) -> dict[str, str]:
    """Parameters of redeem-voucher: the voucher by key or id, the user, the chain (mandatory),
    and an optional amount for a partial redemption."""
    params = {**voucher(values, names, third_party=False), **user(values, names)}
    chain_id = chain(values, names)
    if not chain_id:
        raise UsageError(
            f"{names['chain_id']} is required: redeem needs the retailer chain (or set "
            "VOUCHERCTL_SPAAZA_CHAIN_ID or the profile's chain_id)"
        )
    params.update(chain_id)
    # An option given empty (--amount "$UNSET") is an error, not "the whole voucher"; a blank
    # cell of a bulk file never gets here (blank cells are not given).
    if values.get("amount") is not None:
        params["amount"] = money(str(values["amount"]), names["amount"])
    return params


# A voucher group named by its argument, for the commands that act on a whole group.
GROUP_NAMES = {**OPTION_NAMES, "voucherGroupId": "GROUP"}


def group_amount(values: Values, names: Mapping[str, str] = GROUP_NAMES) -> dict[str, str]:
    """``voucherGroupId`` (sent in the path) and ``amount`` of generate and codes."""
    group = values.get("voucherGroupId")
    if not group:
        raise UsageError(f"{names['voucherGroupId']} is required")
    amount = values.get("amount")
    return {
        "voucherGroupId": validate.numeric_id(group, names["voucherGroupId"]),
        "amount": count(amount or "", names["amount"]),
    }


def count(value: str, name: str) -> str:
    """A whole number, 1 or more, without sign, decimals or exponent (``3``, not ``3.0``)."""
    text = value.strip()
    if not (text.isascii() and text.isdigit() and len(text) <= 9) or int(text) < 1:
        raise UsageError(f"{name} must be a whole number, 1 or more, not {value!r}")
    return str(int(text))


def money(value: str, name: str) -> str:
    """A positive amount with at most two decimals, as the user wrote it (``2.5``, ``10``)."""
    text = value.strip()
    if not _MONEY.fullmatch(text) or not text.strip("0.") or len(text) > 16:
        raise UsageError(
            f"{name} must be a positive amount with at most two decimals, e.g. 2.50, not {value!r}"
        )
    return text


def lock_period(value: str, name: str) -> str:
    """A whole number of seconds within Spaaza's bounds."""
    text = value.strip()
    if not (text.isascii() and text.isdigit() and len(text) <= 5) or not (
        MIN_LOCK_PERIOD <= int(text) <= MAX_LOCK_PERIOD
    ):
        raise UsageError(
            f"{name} must be a whole number of seconds from {MIN_LOCK_PERIOD} to "
            f"{MAX_LOCK_PERIOD}, not {value!r}"
        )
    return str(int(text))


_NUMERIC = {"userId", "voucherGroupId", "voucher_id", "third_party_id", "user_id", "chain_id"}
_WORDS = {"voucher_key", "retailer_basket_code", "voucher_locking_code"}


def field(name: str, value: str, names: Mapping[str, str] = OPTION_NAMES) -> str:
    """One value checked on its own, e.g. an option that fills a column of a bulk file."""
    label = names[name]
    if name in _NUMERIC:
        return validate.numeric_id(value, label)
    if name in _WORDS:
        return validate.token(value, label)
    if name == "username":
        return validate.email(value, label)
    if name == "voucher_lock_period":
        return lock_period(value, label)
    if name == "amount":
        return money(value, label)
    return validate.text(value, label)
