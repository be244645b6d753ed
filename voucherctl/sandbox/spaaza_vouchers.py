"""Spaaza vouchers: how they look on the wire and how their state may change.

Every function here runs inside the caller's write transaction and raises SpaazaError when the
change is not allowed, which rolls the transaction back.
"""

from __future__ import annotations

import secrets
import sqlite3
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from voucherctl.sandbox.spaaza_errors import SpaazaError
from voucherctl.sandbox.wire import utc_text

# Key order as in the docs' claim-voucher and lock-voucher samples. The lock answer adds
# voucher_locked, which the lock sample leaves out but every other voucher answer carries.
CLAIM_KEYS = (
    "voucher_key",
    "voucher_id",
    "voucher_status",
    "voucher_locked",
    "campaign_id",
    "campaign_type",
    "campaign_title",
    "voucher_expiry_datetime_utc",
    "voucher_expiry_seconds_remaining",
    "voucher_currency_id",
    "voucher_currency_symbol",
    "voucher_amount_original",
    "voucher_amount_redeemed",
    "voucher_amount",
    "voucher_text",
    "voucher_third_party_id",
    "user_id",
    "user_entity_card",
)
LOCK_KEYS = (
    "voucher_key",
    "voucher_id",
    "voucher_status",
    "voucher_locked",
    "campaign_id",
    "campaign_title",
    "voucher_expiry_datetime_utc",
    "voucher_expiry_seconds_remaining",
    "voucher_currency_id",
    "voucher_amount",
    "voucher_amount_redeemed",
    "voucher_text",
    "voucher_locked_until",
    "voucher_locking_code",
    "voucher_retailer_basket_code_exclusive",
    "user_id",
    "user_entity_card",
)
ALL_KEYS = (
    *CLAIM_KEYS[:-2],
    "voucher_locked_until",
    "voucher_locking_code",
    "voucher_retailer_basket_code_exclusive",
    "user_id",
    "user_entity_card",
)
# Fields the docs' get-user-vouchers and redeem-voucher samples show that the sandbox keeps no
# fact for: answered null (the docs' own samples show each of them null for some voucher).
UNKEPT = (
    "voucher_title",
    "voucher_description",
    "voucher_notes",
    "voucher_honour_code",
    "voucher_image_url",
    "redeeming_basket",
    "voucher_created_datetime",
    "voucher_redeemed_datetime",
    "campaign_image_filename",
    "campaign_image_url",
    "campaign_image_link",
    "campaign_image_dimension_x",
    "campaign_image_dimension_y",
    "task",
    "parent_voucher",
)
# get-user-vouchers: every key, and the docs' sample's; redeem-voucher: its sample's keys.
LISTED_KEYS = (*ALL_KEYS, "voucher_type", *UNKEPT[:6])
REDEEM_KEYS = (
    *CLAIM_KEYS,
    "voucher_type",
    *UNKEPT,
    "generating_return_transaction",
    "voucher_discount_ratio",
)

_SELECT = (
    "SELECT v.id, v.key, v.third_party_id, v.status, v.campaign_id, c.type, c.title, v.expiry,"
    " v.currency_id, v.currency_symbol, v.amount_original, v.amount_redeemed, v.amount, v.text,"
    " v.user_id, u.card_type, u.card_code, v.locked_until, v.locking_code, v.basket_code"
    " FROM spaaza_voucher v JOIN spaaza_campaign c ON c.id = v.campaign_id"
    " LEFT JOIN spaaza_user u ON u.id = v.user_id"
)
VOUCHER_COLUMNS = {"voucher_key": "key", "voucher_id": "id", "third_party_id": "third_party_id"}


@dataclass(frozen=True)
class Voucher:
    """One voucher row with its campaign and its user's card."""

    id: int
    key: str
    third_party_id: int | None
    status: str
    campaign_id: int
    campaign_type: str
    campaign_title: str
    expiry: str
    currency_id: int
    currency_symbol: str
    amount_original: float | None
    amount_redeemed: float | None
    amount: float | None
    text: str | None
    user_id: int | None
    card_type: str | None
    card_code: str | None
    locked_until: int | None
    locking_code: str | None
    basket_code: str | None

    def locked(self, now: float) -> bool:
        """Locked right now: a lock whose time has passed counts as no lock."""
        return self.locked_until is not None and self.locked_until > now

    def as_json(self, keys: tuple[str, ...], result_type: str | None = None) -> dict[str, object]:
        """The voucher as Spaaza shows it, keeping `keys` in their order."""
        now = time.time()
        locked = self.locked(now)
        expiry = datetime.fromisoformat(self.expiry).replace(tzinfo=UTC).timestamp()
        card = None if self.card_type is None else {"type": self.card_type, "code": self.card_code}
        every: dict[str, object] = {
            "voucher_key": self.key,
            "voucher_id": self.id,
            "voucher_status": self.status,
            "voucher_locked": locked,
            "campaign_id": self.campaign_id,
            "campaign_type": self.campaign_type,
            "campaign_title": self.campaign_title,
            "voucher_expiry_datetime_utc": self.expiry,
            "voucher_expiry_seconds_remaining": max(0, int(expiry - now)),
            "voucher_currency_id": self.currency_id,
            "voucher_currency_symbol": self.currency_symbol,
            "voucher_amount_original": self.amount_original,
            "voucher_amount_redeemed": self.amount_redeemed,
            "voucher_amount": self.amount,
            "voucher_text": self.text,
            "voucher_third_party_id": self.third_party_id,
            "voucher_locked_until": utc_text(self.locked_until or 0) if locked else None,
            "voucher_locking_code": self.locking_code if locked else None,
            "voucher_retailer_basket_code_exclusive": self.basket_code if locked else None,
            "user_id": self.user_id,
            "user_entity_card": card,
            "voucher_type": "basket",
            "generating_return_transaction": [],
            "voucher_discount_ratio": 0,
            **dict.fromkeys(UNKEPT),
        }
        shaped = {key: every[key] for key in keys}
        if result_type is not None:
            shaped["result_type"] = result_type
        return shaped


def find(conn: sqlite3.Connection, column: str, value: object, chain_id: int) -> Voucher:
    """The voucher whose `column` ("key", "id" or "third_party_id") is `value`, in a chain."""
    row = conn.execute(
        f"{_SELECT} WHERE v.{column} = ? AND v.chain_id = ?", (value, chain_id)
    ).fetchone()
    if row is None:
        raise SpaazaError("voucher_not_found", "Voucher not found")
    return Voucher(*row)


def of_user(conn: sqlite3.Connection, user_id: int) -> list[Voucher]:
    """Every voucher offered to a user, oldest first."""
    rows = conn.execute(f"{_SELECT} WHERE v.user_id = ? ORDER BY v.id", (user_id,)).fetchall()
    return [Voucher(*row) for row in rows]


def _reload(conn: sqlite3.Connection, voucher: Voucher) -> Voucher:
    return Voucher(*conn.execute(f"{_SELECT} WHERE v.id = ?", (voucher.id,)).fetchone())


def _require_owner(voucher: Voucher, user_id: int) -> None:
    if voucher.user_id != user_id:
        raise SpaazaError("voucher_not_found", f"User {user_id} has no such voucher")


def _refuse_redeemed(voucher: Voucher) -> None:
    if voucher.status == "redeemed":
        raise SpaazaError("voucher_already_redeemed", "Voucher has already been redeemed")


def claim(conn: sqlite3.Connection, voucher: Voucher, user_id: int) -> Voucher:
    """generated -> claimed, for the user the voucher was offered to."""
    _require_owner(voucher, user_id)
    _refuse_redeemed(voucher)
    if voucher.status == "claimed":
        raise SpaazaError("voucher_already_claimed", "Voucher has already been claimed")
    conn.execute("UPDATE spaaza_voucher SET status = 'claimed' WHERE id = ?", (voucher.id,))
    return _reload(conn, voucher)


def unclaim(conn: sqlite3.Connection, voucher: Voucher, user_id: int) -> Voucher:
    """claimed -> generated; a locked voucher stays claimed until its lock ends."""
    _require_owner(voucher, user_id)
    _refuse_redeemed(voucher)
    if voucher.status != "claimed":
        raise SpaazaError("voucher_not_claimed", "Voucher is not claimed")
    if voucher.locked(time.time()):
        raise SpaazaError("voucher_locked", "Voucher is locked; unlock it first")
    conn.execute("UPDATE spaaza_voucher SET status = 'generated' WHERE id = ?", (voucher.id,))
    return _reload(conn, voucher)


def lock(
    conn: sqlite3.Connection,
    voucher: Voucher,
    period: int,
    locking_code: str | None,
    basket_code: str | None,
) -> Voucher:
    """Lock for `period` seconds; the same locking code refreshes a lock, another is refused."""
    _refuse_redeemed(voucher)
    now = time.time()
    if voucher.locked(now) and voucher.locking_code != locking_code:
        raise SpaazaError(
            "voucher_locked",
            "Voucher is locked with another voucher_locking_code"
            f" until {utc_text(voucher.locked_until or 0)}",
        )
    conn.execute(
        "UPDATE spaaza_voucher SET locked_until = ?, locking_code = ?, basket_code = ?"
        " WHERE id = ?",
        (int(now) + period, locking_code, basket_code, voucher.id),
    )
    return _reload(conn, voucher)


def unlock(conn: sqlite3.Connection, voucher: Voucher) -> Voucher:
    """Drop any lock, a basket code's included; unlocking an unlocked voucher is fine."""
    conn.execute(
        "UPDATE spaaza_voucher SET locked_until = NULL, locking_code = NULL, basket_code = NULL"
        " WHERE id = ?",
        (voucher.id,),
    )
    return _reload(conn, voucher)


def _money(value: Decimal) -> int | float:
    """An amount as Spaaza writes it: a whole number as an integer, else a number of cents."""
    value = value.quantize(Decimal("0.01"))
    return int(value) if value == value.to_integral_value() else float(value)


def redeem(
    conn: sqlite3.Connection, voucher: Voucher, amount: Decimal | None
) -> tuple[Voucher, Voucher | None]:
    """claimed -> redeemed, for `amount` or the whole voucher_amount.

    A partial redemption redeems the voucher for `amount` and regenerates the rest as a new
    voucher, claimed by the same user in the same campaign; that voucher comes back second.
    The voucher's lock, if any, ends: the till that locked it has redeemed it.
    """
    _refuse_redeemed(voucher)
    if voucher.status != "claimed":
        raise SpaazaError("voucher_not_claimed", "Only a claimed voucher can be redeemed")
    balance = Decimal(str(voucher.amount or 0))
    spent = balance if amount is None else amount
    if spent > balance:
        raise SpaazaError(
            "redeem_amount_exceeds_voucher_amount",
            f"amount {spent} is more than the voucher's voucher_amount {balance}",
        )
    redeemed = Decimal(str(voucher.amount_redeemed or 0)) + spent
    conn.execute(
        "UPDATE spaaza_voucher SET status = 'redeemed', amount = 0, amount_redeemed = ?,"
        " locked_until = NULL, locking_code = NULL, basket_code = NULL WHERE id = ?",
        (_money(redeemed), voucher.id),
    )
    regenerated = None
    if spent < balance:
        rest = _money(balance - spent)
        row = conn.execute(
            "INSERT INTO spaaza_voucher (id, key, campaign_id, chain_id, user_id, status,"
            " currency_id, currency_symbol, amount_original, amount, amount_redeemed, text,"
            " expiry) SELECT (SELECT max(id) + 1 FROM spaaza_voucher), ?, campaign_id, chain_id,"
            " user_id, 'claimed', currency_id, currency_symbol, ?, ?, 0, text, expiry"
            " FROM spaaza_voucher WHERE id = ? RETURNING id",
            (secrets.token_hex(32), rest, rest, voucher.id),
        ).fetchone()
        regenerated = Voucher(*conn.execute(f"{_SELECT} WHERE v.id = ?", row).fetchone())
    return _reload(conn, voucher), regenerated
