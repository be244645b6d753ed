"""The SPiD (Schibsted account) API v2 emulation: OAuth token exchange and the voucher calls.

Every /api/2 answer is an "SPP Container". Answers and their texts:

- missing, unknown or expired access token: 403 "Access token rejected" (the same for all three,
  as the docs list it; sent as `Authorization: Bearer` or an `oauth_token` parameter). Tokens
  live in the state file, so every server over it accepts them; one that `reset_state` dropped
  may stay accepted for up to a second by a server that saw it just before.
- unknown path: 404 "No such endpoint"; known path, wrong method: 405 "Method not allowed"
- GET /api/2/voucher/{code}: 404 "Voucher not found"
- POST /api/2/voucher_handout: 404 "Missing required userId and/or voucherGroupId parameters",
  404 "User not found", 404 "Voucher group not found, or handouts not enabled"; none left is
  HTTP 200 with data {"success": false} and error {"code": 409, "description":
  "No vouchers available in voucher group N"}
- GET /api/2/vouchers/group/{id}, POST /api/2/vouchers/generate/{id}: 404 "Voucher group not found"
- POST /api/2/vouchers/handout/{id}: 404 as for voucher_handout; 409 when fewer than `amount`
  vouchers are unused (nothing is handed out then)
- `amount` not an integer from 1 to 1000: 400
- rate limited: 420 "Request Ratelimit exceeded"; injected failures: 500 / 503

Collections (`vouchers/groups`, generate, batch handout) carry a JSON list in `data`. Dates are
UTC. The container's `request` counts this server's one-minute window; without a rate limit its
`limit` and `remaining` are 0. POST /oauth/token answers flat OAuth JSON, and its errors come
flat as SPiD sends them: 401 invalid_client, 400 invalid_request / unsupported_grant_type.
"""

from __future__ import annotations

import base64
import binascii
import secrets
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus

from voucherctl.sandbox.constants import SANDBOX
from voucherctl.sandbox.faults import Quota
from voucherctl.sandbox.options import SandboxOptions
from voucherctl.sandbox.routing import Router
from voucherctl.sandbox.seed import SERIES, spid_code_sql
from voucherctl.sandbox.store import Store
from voucherctl.sandbox.wire import Reply, Request, parse_int, utc_text

MAX_AMOUNT = 1000
TOKEN_RECHECK_SECONDS = 1.0
MAX_CACHED_TOKENS = 1000
NONE_LEFT_CODE = 409
TOKEN_REJECTED = "Access token rejected"
GROUP_NOT_FOUND = "Voucher group not found"
NO_HANDOUT_GROUP = "Voucher group not found, or handouts not enabled"

# Wire field -> SQL, in the docs' field order; the SQL already gives numbers as strings.
_GROUP_COLUMNS = {
    "clientId": "client_id",
    "createdBy": "created_by",
    "discountId": "discount_id",
    "title": "title",
    "voucherGroupId": "CAST(id AS TEXT)",
    "productId": "product_id",
    "created": "created",
    "unique": "is_unique",
    "updated": "updated",
    "limit": "voucher_limit",
    "type": "type",
    "campaignId": "campaign_id",
    "description": "description",
}
_GROUP_SELECT = f"SELECT {', '.join(_GROUP_COLUMNS.values())} FROM spid_group"
_VOUCHER_COLUMNS = {
    "status": "CAST(status AS TEXT)",
    "userId": "CAST(user_id AS TEXT)",
    "createdBy": "created_by",
    "handoutBy": "handout_by",
    "count": "count",
    "handoutTime": "handout_time",
    "voucherGroupId": "CAST(group_id AS TEXT)",
    "voucherId": "CAST(id AS TEXT)",
    "created": "created",
    "voucherCode": "code",
    "updated": "updated",
}
_VOUCHER_VALUES = ", ".join(_VOUCHER_COLUMNS.values())

# User, group and voucher in one statement: under load every statement run inside the write lock
# also waits to get the GIL back, so the hot path runs as few as it can. When nothing is taken,
# the reason is looked up afterwards.
_HANDOUT = (
    "UPDATE spid_voucher SET status = 1, user_id = ?1, handout_by = '0', handout_time = ?2,"
    " updated = ?2 WHERE id = (SELECT id FROM spid_voucher WHERE group_id = ?3 AND status = 0"
    " AND EXISTS (SELECT 1 FROM spid_user WHERE id = ?1)"
    " AND EXISTS (SELECT 1 FROM spid_group WHERE id = ?3 AND handouts_enabled)"
    " ORDER BY id LIMIT 1) RETURNING id"
)


@dataclass(frozen=True)
class Answer:
    """A container's variable part; the SPiD API wraps it with the request quota."""

    status: int
    kind: str
    object_name: str
    data: object
    error: str | None = None
    error_code: int | None = None


Handler = Callable[[Request, tuple[str, ...]], Answer | Reply]


def failure(status: int, description: str) -> Answer:
    """An error container's content."""
    return Answer(status, "error", "Error", None, description)


def container(answer: Answer, quota: Quota) -> dict[str, object]:
    """The full SPP Container for an answer."""
    error = None
    if answer.error is not None:
        error = {
            "code": answer.error_code or answer.status,
            "type": "ApiException",
            "description": answer.error,
        }
    return {
        "name": "SPP Container",
        "version": "0.2",
        "api": 2,
        "object": answer.object_name,
        "type": answer.kind,
        "code": answer.status,
        "request": quota.as_request_field(),
        "debug": None,
        "meta": None,
        "error": error,
        "data": answer.data,
    }


def _vouchers_json(
    conn: sqlite3.Connection, rows: list[tuple[Any, ...]], group_id: int
) -> list[dict[str, object]]:
    """Vouchers of one group, oldest first, each with the group embedded as SPiD does."""
    group = dict(
        zip(
            _GROUP_COLUMNS,
            conn.execute(f"{_GROUP_SELECT} WHERE id = ?", (group_id,)).fetchone(),
            strict=True,
        )
    )
    vouchers = [dict(zip(_VOUCHER_COLUMNS, row, strict=True)) for row in rows]
    vouchers.sort(key=lambda voucher: int(voucher["voucherId"]))
    return [{"group": group, **voucher, "type": group["type"]} for voucher in vouchers]


def _amount(req: Request) -> int | None:
    amount = parse_int(req.params.get("amount"))
    return amount if amount is not None and 1 <= amount <= MAX_AMOUNT else None


def _oauth_error(status: int, error: str, description: str) -> Reply:
    return Reply(
        status,
        {
            "error": error,
            "error_code": status,
            "type": "OAuthException",
            "error_description": description,
        },
    )


def _client_credentials(req: Request) -> tuple[str, str]:
    scheme, _, encoded = req.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return "", ""
        client_id, _, secret = decoded.partition(":")
        # RFC 6749 2.3.1: both halves are form-urlencoded before they are joined.
        return unquote_plus(client_id), unquote_plus(secret)
    return req.params.get("client_id", ""), req.params.get("client_secret", "")


class SpidApi:
    """Routes and answers SPiD requests against the store."""

    def __init__(self, store: Store, options: SandboxOptions) -> None:
        self._store = store
        self._options = options
        self._tokens: dict[str, tuple[float, float]] = {}  # token: (expires_at, checked_at)
        self.router: Router[Handler] = Router()
        self.router.add("/oauth/token", {"POST": self.token})
        self.router.add("/api/2/voucher/{}", {"GET": self.show_voucher})
        self.router.add("/api/2/voucher_handout", {"POST": self.handout})
        self.router.add("/api/2/vouchers/groups", {"GET": self.groups})
        self.router.add("/api/2/vouchers/group/{}", {"GET": self.group})
        self.router.add("/api/2/vouchers/generate/{}", {"POST": self.generate})
        self.router.add("/api/2/vouchers/handout/{}", {"POST": self.handout_batch})

    def handle(self, req: Request, quota: Quota) -> Reply:
        """Answer one SPiD request; faults and rate limits were decided by the caller."""
        match = self.router.match(req.path)
        if match is None:
            answer: Answer | Reply = failure(404, "No such endpoint")
        elif req.method not in match.methods:
            body = container(failure(405, "Method not allowed"), quota)
            return Reply(405, body, (("Allow", match.allow),))
        elif req.path.startswith("/api/2/") and not self._token_accepted(req):
            answer = failure(403, TOKEN_REJECTED)
        else:
            answer = match.methods[req.method](req, match.args)
        if isinstance(answer, Reply):
            return answer
        return Reply(answer.status, container(answer, quota))

    def _token_accepted(self, req: Request) -> bool:
        scheme, _, token = req.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer":
            token = req.params.get("oauth_token", "")
        token, now = token.strip(), time.time()
        # A token seen in the file within the last second is taken on trust: the lookup is a
        # sixth of a handout's cost. The price: a token dropped by a reset in another process
        # stays good here for up to TOKEN_RECHECK_SECONDS.
        expires_at, checked_at = self._tokens.get(token, (0.0, 0.0))
        if now < expires_at and now - checked_at < TOKEN_RECHECK_SECONDS:
            return True
        with self._store.read() as conn:
            row = conn.execute("SELECT expires_at FROM spid_token WHERE token = ?", (token,))
            found = row.fetchone()
        if found is None or found[0] <= now:
            self._tokens.pop(token, None)
            return False
        if len(self._tokens) >= MAX_CACHED_TOKENS:
            self._tokens.clear()
        self._tokens[token] = (found[0], now)
        return True

    def token(self, req: Request, _: tuple[str, ...]) -> Reply:
        """POST /oauth/token with the client_credentials grant."""
        client_id, secret = _client_credentials(req)
        if (client_id, secret) != (SANDBOX.spid_client_id, SANDBOX.spid_client_secret):
            return _oauth_error(401, "invalid_client", "Unknown client or wrong client secret")
        grant = req.params.get("grant_type", "")
        if not grant:
            return _oauth_error(400, "invalid_request", "Missing grant_type")
        if grant != "client_credentials":
            return _oauth_error(
                400,
                "unsupported_grant_type",
                f"Unsupported grant_type {grant!r}; use client_credentials",
            )
        token, now, ttl = secrets.token_hex(20), time.time(), self._options.token_ttl
        with self._store.write() as conn:
            conn.execute("DELETE FROM spid_token WHERE expires_at < ?", (now,))
            conn.execute(
                "INSERT INTO spid_token (token, client_id, expires_at) VALUES (?, ?, ?)",
                (token, client_id, now + ttl),
            )
        return Reply(
            200,
            {
                "access_token": token,
                "expires_in": ttl,
                "token_type": "Bearer",
                "scope": None,
                "server_time": int(now),
                "user_id": False,
                "is_admin": False,
            },
        )

    def show_voucher(self, _: Request, args: tuple[str, ...]) -> Answer:
        """GET /api/2/voucher/{voucherCode}."""
        with self._store.read() as conn:
            row = conn.execute(
                f"SELECT {_VOUCHER_VALUES} FROM spid_voucher WHERE code = ?", (args[0],)
            ).fetchone()
            if row is None:
                return failure(404, "Voucher not found")
            (voucher,) = _vouchers_json(conn, [row], int(row[6]))
        return Answer(200, "element", "Voucher", voucher)

    def handout(self, req: Request, _: tuple[str, ...]) -> Answer:
        """POST /api/2/voucher_handout: give one unused voucher of a group to a user."""
        raw_user, raw_group = req.params.get("userId"), req.params.get("voucherGroupId")
        if not raw_user or not raw_group:
            return failure(404, "Missing required userId and/or voucherGroupId parameters")
        user_id, group_id = parse_int(raw_user), parse_int(raw_group)
        now = utc_text(time.time())
        with self._store.write() as conn:
            taken = conn.execute(_HANDOUT, (user_id, now, group_id)).fetchone()
        if taken is not None:
            return Answer(200, "element", "Voucher", {"success": True})
        with self._store.read() as conn:
            user = conn.execute("SELECT 1 FROM spid_user WHERE id = ?", (user_id,)).fetchone()
            enabled = conn.execute(
                "SELECT handouts_enabled FROM spid_group WHERE id = ?", (group_id,)
            ).fetchone()
        if user is None:
            return failure(404, "User not found")
        if enabled is None or not enabled[0]:
            return failure(404, NO_HANDOUT_GROUP)
        description = f"No vouchers available in voucher group {group_id}"
        return Answer(200, "element", "Voucher", {"success": False}, description, NONE_LEFT_CODE)

    def groups(self, req: Request, _: tuple[str, ...]) -> Answer:
        """GET /api/2/vouchers/groups, optionally filtered by a `title` substring."""
        title = req.params.get("title", "")
        with self._store.read() as conn:
            # instr(title, '') is 1, so an empty filter keeps every group.
            rows = conn.execute(
                f"{_GROUP_SELECT} WHERE instr(lower(title), lower(?)) ORDER BY id", (title,)
            ).fetchall()
        groups = [dict(zip(_GROUP_COLUMNS, row, strict=True)) for row in rows]
        return Answer(200, "collection", "VoucherGroup", groups)

    def group(self, _: Request, args: tuple[str, ...]) -> Answer:
        """GET /api/2/vouchers/group/{voucherGroupId}."""
        with self._store.read() as conn:
            row = conn.execute(f"{_GROUP_SELECT} WHERE id = ?", (parse_int(args[0]),)).fetchone()
        if row is None:
            return failure(404, GROUP_NOT_FOUND)
        return Answer(200, "element", "VoucherGroup", dict(zip(_GROUP_COLUMNS, row, strict=True)))

    def generate(self, req: Request, args: tuple[str, ...]) -> Answer:
        """POST /api/2/vouchers/generate/{voucherGroupId}: create `amount` unused vouchers."""
        amount, group_id = _amount(req), parse_int(args[0])
        if amount is None:
            return failure(400, f"amount must be an integer from 1 to {MAX_AMOUNT}")
        if group_id is None:
            return failure(404, GROUP_NOT_FOUND)
        now = utc_text(time.time())
        with self._store.write() as conn:
            if (
                conn.execute("SELECT 1 FROM spid_group WHERE id = ?", (group_id,)).fetchone()
                is None
            ):
                return failure(404, GROUP_NOT_FOUND)
            first = conn.execute("SELECT coalesce(max(id), 0) + 1 FROM spid_voucher").fetchone()[0]
            rows = conn.execute(
                f"{SERIES} INSERT INTO spid_voucher (id, code, group_id, status, created_by,"
                f" created, updated) SELECT n, {spid_code_sql('n', str(group_id))}, ?, 0, '0',"
                f" ?, ? FROM series RETURNING {_VOUCHER_VALUES}",
                (first, first + amount - 1, group_id, now, now),
            ).fetchall()
            data = _vouchers_json(conn, rows, group_id)
        return Answer(200, "collection", "Voucher", data)

    def handout_batch(self, req: Request, args: tuple[str, ...]) -> Answer:
        """POST /api/2/vouchers/handout/{voucherGroupId}: hand out `amount` vouchers, no user."""
        amount, group_id = _amount(req), parse_int(args[0])
        if amount is None:
            return failure(400, f"amount must be an integer from 1 to {MAX_AMOUNT}")
        if group_id is None:
            return failure(404, NO_HANDOUT_GROUP)
        now = utc_text(time.time())
        with self._store.write() as conn:
            enabled = conn.execute(
                "SELECT handouts_enabled FROM spid_group WHERE id = ?", (group_id,)
            ).fetchone()
            if enabled is None or not enabled[0]:
                return failure(404, NO_HANDOUT_GROUP)
            unused = conn.execute(
                "SELECT count(*) FROM spid_voucher WHERE group_id = ? AND status = 0", (group_id,)
            ).fetchone()[0]
            if unused < amount:
                text = (
                    f"Only {unused} vouchers available in voucher group {group_id}; none handed out"
                )
                return failure(409, text)
            rows = conn.execute(
                "UPDATE spid_voucher SET status = 1, handout_by = '0', handout_time = ?,"
                " updated = ? WHERE id IN (SELECT id FROM spid_voucher WHERE group_id = ?"
                f" AND status = 0 ORDER BY id LIMIT ?) RETURNING {_VOUCHER_VALUES}",
                (now, now, group_id, amount),
            ).fetchall()
            data = _vouchers_json(conn, rows, group_id)
        return Answer(200, "collection", "Voucher", data)
