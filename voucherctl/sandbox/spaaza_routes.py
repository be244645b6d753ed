"""The Spaaza API emulation: logins, claims, locks, redemptions and a user's vouchers.

Who may call what (errors are listed in spaaza_errors):
- Every request needs `X-Spaaza-API-Version`.
- Admin or user session: `X-Spaaza-Session-User-Id` + `X-Spaaza-Session-Key`; privileged:
  `Authorization: Bearer TOKEN`. `X-Spaaza-MyPrice-App-Hostname` is required with user and
  privileged auth and refused with admin auth.
- Admin auth needs `chain_id` with claim, unclaim and get-user-vouchers; admin and privileged auth
  need one user identifier there; user auth acts for the session's own user.
- Unlocking needs admin or privileged auth; with user auth, lock touches only the user's vouchers.
- /auth/redeem-voucher needs admin or privileged auth and `chain_id` with either; admin auth
  also needs one user identifier (as with claim), privileged auth may name one. `amount`, when
  given, is a positive number of at most two decimals and at most the voucher's voucher_amount.
- Parameters come from the query string or a urlencoded / multipart body; an empty one counts
  as absent.
"""

from __future__ import annotations

import secrets
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

import voucherctl.sandbox.spaaza_vouchers as vouchers
from voucherctl.sandbox.constants import SANDBOX
from voucherctl.sandbox.options import SandboxOptions
from voucherctl.sandbox.routing import Router
from voucherctl.sandbox.spaaza_errors import SpaazaError, error_reply, ok_reply
from voucherctl.sandbox.store import Store
from voucherctl.sandbox.wire import Reply, Request, parse_int, utc_text

PASSCODE_TTL = 600
DEFAULT_LOCK_PERIOD = 300
LOCK_PERIOD_RANGE = range(120, 3601)
CLAIM_IDENTIFIERS = ("voucher_key", "voucher_id", "third_party_id")
LOCK_IDENTIFIERS = ("voucher_key", "voucher_id")
REDEEM_IDENTIFIERS = ("voucher_key", "voucher_id")
CENT = Decimal("0.01")
USER_COLUMNS = {
    "user_id": "id",
    "member_number": "member_number",
    "username": "username",
    "authentication_point_identifier": "auth_point_id",
    "auxiliary_identifier": "aux_id",
}

Handler = Callable[[Request], Reply]
ClaimChange = Callable[[sqlite3.Connection, vouchers.Voucher, int], vouchers.Voucher]


@dataclass(frozen=True)
class Caller:
    """Who is calling: kind is "admin", "user" or "privileged"."""

    kind: str
    user_id: int | None
    chain_id: int


def _number(raw: str, name: str) -> int:
    value = parse_int(raw)
    if value is None:
        raise SpaazaError("invalid_parameter", f"{name} must be an integer")
    return value


def _one_of(req: Request, names: tuple[str, ...], what: str) -> tuple[str, str] | None:
    given = [(name, req.params[name]) for name in names if req.params.get(name)]
    if len(given) > 1:
        raise SpaazaError(
            "conflicting_parameters", f"Identify the {what} with only one of {', '.join(names)}"
        )
    return given[0] if given else None


def _voucher_identifier(req: Request, names: tuple[str, ...]) -> tuple[str, object]:
    given = _one_of(req, names, "voucher")
    if given is None:
        raise SpaazaError(
            "missing_parameter", f"Identify the voucher with one of {', '.join(names)}"
        )
    name, raw = given
    value = raw if name == "voucher_key" else _number(raw, name)
    return vouchers.VOUCHER_COLUMNS[name], value


def _lock_period(raw: str) -> int:
    if not raw:
        return DEFAULT_LOCK_PERIOD
    period = parse_int(raw)
    if period is None or period not in LOCK_PERIOD_RANGE:
        raise SpaazaError(
            "invalid_lock_period", "voucher_lock_period must be an integer from 120 to 3600 seconds"
        )
    return period


def _redeem_amount(raw: str) -> Decimal | None:
    if not raw:
        return None
    try:
        amount = Decimal(raw)
    except InvalidOperation:
        amount = Decimal("NaN")
    if not amount.is_finite() or amount <= 0 or amount != amount.quantize(CENT):
        raise SpaazaError(
            "invalid_amount", "amount must be a positive number with at most two decimals"
        )
    return amount


class SpaazaApi:
    """Routes and answers Spaaza requests against the store."""

    def __init__(self, store: Store, options: SandboxOptions) -> None:
        self._store = store
        self._options = options
        self.router: Router[Handler] = Router()
        self.router.add("/auth/login", {"POST": self.login})
        self.router.add("/auth/session", {"POST": self.session})
        self.router.add("/claim-voucher", {"POST": self.claim, "PUT": self.claim})
        self.router.add("/unclaim-voucher", {"POST": self.unclaim, "PUT": self.unclaim})
        self.router.add("/lock-voucher", {"PUT": self.lock})
        self.router.add("/unlock-voucher", {"PUT": self.unlock, "POST": self.unlock})
        self.router.add("/get-user-vouchers", {"GET": self.user_vouchers})
        self.router.add("/auth/redeem-voucher", {"POST": self.redeem, "PUT": self.redeem})

    def handle(self, req: Request) -> Reply:
        """Answer one Spaaza request; faults and rate limits were decided by the caller."""
        match = self.router.match(req.path)
        if match is None:
            return error_reply("unknown_endpoint", f"No endpoint {req.path}")
        if req.method not in match.methods:
            return error_reply(
                "method_not_allowed",
                f"{req.path} accepts {match.allow}",
                headers=(("Allow", match.allow),),
            )
        try:
            if not req.headers.get("x-spaaza-api-version"):
                raise SpaazaError("api_version_required", "Send an X-Spaaza-API-Version header")
            return match.methods[req.method](req)
        except SpaazaError as exc:
            return exc.reply()

    def _caller(self, req: Request) -> Caller:
        scheme, _, token = req.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer":
            if token.strip() != SANDBOX.spaaza_privileged_token:
                raise SpaazaError("no_valid_session", "Privileged token not accepted")
            caller = Caller("privileged", None, SANDBOX.spaaza_chain_id)
        else:
            caller = self._session_caller(req)
        hostname = req.headers.get("x-spaaza-myprice-app-hostname", "").strip().lower()
        if caller.kind == "admin":
            if hostname:
                raise SpaazaError(
                    "app_hostname_not_allowed_with_admin_auth",
                    "Do not send X-Spaaza-MyPrice-App-Hostname with admin auth",
                )
        elif hostname != SANDBOX.spaaza_app_hostname:
            raise SpaazaError(
                "no_myprice_app",
                (
                    f"No MyPrice app with hostname {hostname!r}"
                    if hostname
                    else "User and privileged auth need an X-Spaaza-MyPrice-App-Hostname header"
                ),
            )
        return caller

    def _session_caller(self, req: Request) -> Caller:
        raw_user = req.headers.get("x-spaaza-session-user-id", "").strip()
        key = req.headers.get("x-spaaza-session-key", "").strip()
        if not raw_user or not key:
            text = "Send X-Spaaza-Session-User-Id and X-Spaaza-Session-Key, or a bearer token"
            raise SpaazaError("no_valid_session", text)
        with self._store.read() as conn:
            row = conn.execute(
                "SELECT s.user_id, s.expires_at, u.is_admin, u.chain_id FROM spaaza_session s"
                " JOIN spaaza_user u ON u.id = s.user_id WHERE s.key = ?",
                (key,),
            ).fetchone()
        if row is None or str(row[0]) != raw_user or (row[1] is not None and row[1] <= time.time()):
            raise SpaazaError("no_valid_session", "Session unknown or expired; log in again")
        return Caller("admin" if row[2] else "user", row[0], row[3])

    def _chain(self, req: Request, caller: Caller) -> int:
        raw = req.params.get("chain_id", "")
        if not raw:
            if caller.kind == "admin":
                raise SpaazaError("chain_id_required", "chain_id is mandatory with admin auth")
            return caller.chain_id
        chain_id = _number(raw, "chain_id")
        if chain_id != caller.chain_id:
            raise SpaazaError("permission_denied_or_non_existent", f"No access to chain {chain_id}")
        return chain_id

    def _user(self, req: Request, caller: Caller, chain_id: int) -> int:
        given = _one_of(req, tuple(USER_COLUMNS), "user")
        if given is None:
            if caller.user_id is not None and caller.kind == "user":
                return caller.user_id
            raise SpaazaError(
                "missing_parameter", f"Name the user with one of {', '.join(USER_COLUMNS)}"
            )
        name, raw = given
        value: object = raw
        if name == "user_id":
            value = _number(raw, name)
        elif name == "username":
            value = raw.strip().lower()
        with self._store.read() as conn:
            row = conn.execute(
                f"SELECT id FROM spaaza_user WHERE {USER_COLUMNS[name]} = ? AND chain_id = ?"
                " AND is_admin = 0",
                (value, chain_id),
            ).fetchone()
        if row is None:
            raise SpaazaError("user_not_found", f"No user with {name} {raw!r}")
        if caller.kind == "user" and row[0] != caller.user_id:
            raise SpaazaError(
                "permission_denied_or_non_existent", "A user session may act only for its own user"
            )
        user_id: int = row[0]
        return user_id

    def login(self, req: Request) -> Reply:
        """POST /auth/login: a session, or for two-factor admins a passcode key."""
        username = req.params.get("username", "").strip().lower()
        password = req.params.get("password", "")
        if not username or not password:
            raise SpaazaError("missing_parameter", "username and password are required")
        with self._store.read() as conn:
            row = conn.execute(
                "SELECT id, password, is_admin FROM spaaza_user WHERE username = ?", (username,)
            ).fetchone()
        if row is None or row[1] is None or row[1] != password:
            raise SpaazaError("invalid_login", "Wrong username or password")
        if not row[2]:
            return ok_reply({"result_type": "login", "session_info": self._new_session(row[0])})
        # Two-factor login (API 1.5.8 and later): no session yet, only the key an emailed
        # passcode goes with, at the top of results as Spaaza's Postman collection reads it.
        passcode_key, expires = secrets.token_hex(16), time.time() + PASSCODE_TTL
        with self._store.write() as conn:
            conn.execute(
                "INSERT INTO spaaza_passcode (key, user_id, expires_at) VALUES (?, ?, ?)",
                (passcode_key, row[0], expires),
            )
        return ok_reply(
            {
                "result_type": "login",
                "session_passcode_key": passcode_key,
                "session_passcode_expiry_date": utc_text(expires),
            }
        )

    def session(self, req: Request) -> Reply:
        """POST /auth/session: trade the emailed passcode and its key for a session."""
        passcode = req.params.get("session_passcode", "").strip()
        passcode_key = req.params.get("session_passcode_key", "").strip()
        if not passcode or not passcode_key:
            raise SpaazaError(
                "missing_parameter", "session_passcode and session_passcode_key are required"
            )
        with self._store.write() as conn:
            row = conn.execute(
                "SELECT user_id, expires_at FROM spaaza_passcode WHERE key = ?", (passcode_key,)
            ).fetchone()
            if row is None or row[1] <= time.time() or passcode != SANDBOX.spaaza_admin_passcode:
                raise SpaazaError(
                    "invalid_session_passcode",
                    "Wrong passcode, or the passcode key is unknown or expired",
                )
            conn.execute("DELETE FROM spaaza_passcode WHERE key = ?", (passcode_key,))
        return ok_reply({"result_type": "session", "session_info": self._new_session(row[0])})

    def _new_session(self, user_id: int) -> dict[str, object]:
        key, now = secrets.token_hex(32), time.time()
        expires = now + self._options.token_ttl
        with self._store.write() as conn:
            conn.execute("DELETE FROM spaaza_session WHERE expires_at < ?", (now,))
            conn.execute(
                "INSERT INTO spaaza_session (key, user_id, expires_at) VALUES (?, ?, ?)",
                (key, user_id, expires),
            )
            username = conn.execute(
                "SELECT username FROM spaaza_user WHERE id = ?", (user_id,)
            ).fetchone()[0]
        return {  # the fields of the docs' login sample
            "session_key": key,
            "session_key_validity": str(max(1, self._options.token_ttl // 3600)),
            "session_auth_method": "password",
            "session_user_id": user_id,
            "session_username": username,
            "session_expires_date": utc_text(expires),
        }

    def claim(self, req: Request) -> Reply:
        """POST|PUT /claim-voucher: generated -> claimed."""
        return self._change_claim(req, vouchers.claim, "claim-voucher")

    def unclaim(self, req: Request) -> Reply:
        """POST|PUT /unclaim-voucher: claimed -> generated."""
        return self._change_claim(req, vouchers.unclaim, "unclaim-voucher")

    def _change_claim(self, req: Request, change: ClaimChange, result_type: str) -> Reply:
        caller = self._caller(req)
        chain_id = self._chain(req, caller)
        column, value = _voucher_identifier(req, CLAIM_IDENTIFIERS)
        user_id = self._user(req, caller, chain_id)
        with self._store.write() as conn:
            voucher = change(conn, vouchers.find(conn, column, value, chain_id), user_id)
        return ok_reply(voucher.as_json(vouchers.CLAIM_KEYS, result_type))

    def lock(self, req: Request) -> Reply:
        """PUT /lock-voucher: lock for voucher_lock_period seconds (default 300)."""
        caller = self._caller(req)
        column, value = _voucher_identifier(req, LOCK_IDENTIFIERS)
        period = _lock_period(req.params.get("voucher_lock_period", ""))
        locking_code = req.params.get("voucher_locking_code") or None
        basket_code = req.params.get("retailer_basket_code") or None
        with self._store.write() as conn:
            voucher = vouchers.find(conn, column, value, caller.chain_id)
            if caller.kind == "user" and voucher.user_id != caller.user_id:
                raise SpaazaError("voucher_not_found", "Voucher not found")
            voucher = vouchers.lock(conn, voucher, period, locking_code, basket_code)
        return ok_reply(voucher.as_json(vouchers.LOCK_KEYS, "lock-voucher"))

    def unlock(self, req: Request) -> Reply:
        """PUT|POST /unlock-voucher: drop a lock; admin or privileged auth only."""
        caller = self._caller(req)
        if caller.kind == "user":
            raise SpaazaError(
                "permission_denied_or_non_existent",
                "Unlocking needs admin or privileged authentication",
            )
        column, value = _voucher_identifier(req, LOCK_IDENTIFIERS)
        with self._store.write() as conn:
            voucher = vouchers.unlock(conn, vouchers.find(conn, column, value, caller.chain_id))
        return ok_reply(voucher.as_json(vouchers.ALL_KEYS, "unlock-voucher"))

    def user_vouchers(self, req: Request) -> Reply:
        """GET /get-user-vouchers: every voucher offered to one user, in the docs' three lists.
        The sandbox's vouchers are all basket vouchers; the other two lists stay empty."""
        caller = self._caller(req)
        user_id = self._user(req, caller, self._chain(req, caller))
        with self._store.read() as conn:
            found = vouchers.of_user(conn, user_id)
        basket = [voucher.as_json(vouchers.LISTED_KEYS) for voucher in found]
        return ok_reply(
            {"basket_vouchers": basket, "honour_vouchers": [], "var_price_vouchers": []}
        )

    def redeem(self, req: Request) -> Reply:
        """POST|PUT /auth/redeem-voucher: claimed -> redeemed, wholly or for `amount`."""
        caller = self._caller(req)
        if caller.kind == "user":
            raise SpaazaError(
                "permission_denied_or_non_existent",
                "Redeeming needs admin or privileged authentication",
            )
        if not req.params.get("chain_id"):
            raise SpaazaError("chain_id_required", "chain_id is mandatory with redeem-voucher")
        chain_id = self._chain(req, caller)
        column, value = _voucher_identifier(req, REDEEM_IDENTIFIERS)
        amount = _redeem_amount(req.params.get("amount", ""))
        named = caller.kind == "admin" or any(req.params.get(name) for name in USER_COLUMNS)
        user_id = self._user(req, caller, chain_id) if named else None
        with self._store.write() as conn:
            voucher = vouchers.find(conn, column, value, chain_id)
            if user_id is not None and voucher.user_id != user_id:
                raise SpaazaError("voucher_not_found", f"User {user_id} has no such voucher")
            voucher, regenerated = vouchers.redeem(conn, voucher, amount)
        results = voucher.as_json(vouchers.REDEEM_KEYS, "redeem-voucher")
        if regenerated is not None:
            results["regenerated_voucher"] = regenerated.as_json(vouchers.REDEEM_KEYS)
        return ok_reply(results)
