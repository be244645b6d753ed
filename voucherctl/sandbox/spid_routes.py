"""The SPiD (Schibsted account) API v2 emulation: OAuth token exchange and the voucher calls.

Every /api/2 answer is an "SPP Container" (spid_container), signed when the server has a sign
secret. Answers and their texts:

- no access token at all: 403 "Access token rejected", as the docs list it for every endpoint
  that needs one (sent as `Authorization: Bearer` or an `oauth_token` parameter); an unknown or
  expired one: 401 with the flat OAuth error `invalid_token`, not a container, as SPiD's docs
  answer it (spid_tokens.oauth_error)
- a path may end in `.json`, the docs' suffix for the JSON format: the same answer as without it
- unknown path: 404 "No such endpoint"; known path, wrong method: 405 "Method not allowed"
- GET /api/2/voucher/{code}: 404 "Voucher not found"
- POST /api/2/voucher_handout: 404 "Missing required userId and/or voucherGroupId parameters",
  404 "User not found", 404 "Voucher group not found, or handouts not enabled"; none left is
  HTTP 200 with data {"success": false} and error {"code": 409, "description":
  "No vouchers available in voucher group N"}
- GET /api/2/vouchers/groups: 400 for a bad `limit` or `offset`, 404 "No voucher groups found"
  for an empty page (spid_records)
- GET /api/2/vouchers/group/{id}, POST /api/2/vouchers/generate/{id}: 404 "Voucher group not found"
- POST /api/2/vouchers/generate/{id}: data {"success": true} and nothing else (SPiD's docs: the
  vouchers are not returned); 404 for a shared group (`unique` "0") and for more vouchers than
  the group's `limit` allows, with the numbers (nothing is generated then)
- POST /api/2/vouchers/handout/{id}: the vouchers in SPiD's documented fields (`voucherId`,
  `voucherGroupId`, `voucherCode`, `type`, `createdBy`, `created`); 404 as for voucher_handout,
  and 404 with the numbers when fewer than `amount` vouchers are unused (none handed out then)
- `amount`: 1 when not sent; not an integer from 1 to 1000: 400
- over the quota or the rate limit: 420 "Request Ratelimit exceeded"; injected failures: 500 / 503

Collections (`vouchers/groups`, batch handout) carry a JSON list in `data`. Dates are
UTC. The container's `request` is what the server passes in (the quota; see server.App). POST
/oauth/token answers flat OAuth JSON, and its errors come flat as SPiD sends them: 401
invalid_client_id (the docs' name), 400 invalid_request / unsupported_grant_type.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable

from voucherctl.sandbox.faults import Quota
from voucherctl.sandbox.options import SandboxOptions
from voucherctl.sandbox.routing import Router
from voucherctl.sandbox.seed import SERIES, spid_code_sql
from voucherctl.sandbox.spid_container import Answer, container, failure
from voucherctl.sandbox.spid_records import (
    GROUP_SELECT,
    VOUCHER_VALUES,
    group_json,
    search_groups,
    vouchers_json,
)
from voucherctl.sandbox.spid_tokens import SpidTokens, TokenState, oauth_error, presented_token
from voucherctl.sandbox.store import Store
from voucherctl.sandbox.wire import Reply, Request, parse_int, utc_text

MAX_AMOUNT = 1000
# What POST /vouchers/handout/{id} shows of each voucher (its sample answer in SPiD's docs).
HANDED_OUT_FIELDS = ("voucherId", "voucherGroupId", "voucherCode", "type", "createdBy", "created")
NONE_LEFT_CODE = 409
TOKEN_REJECTED = "Access token rejected"
TOKEN_EXPIRED = "The access token has expired"
TOKEN_UNKNOWN = "The access token is not valid"
JSON_SUFFIX = ".json"
GROUP_NOT_FOUND = "Voucher group not found"
NO_HANDOUT_GROUP = "Voucher group not found, or handouts not enabled"
SHARED_GROUP = "its vouchers share one code (unique 0), so none can be generated"

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

Handler = Callable[[Request, tuple[str, ...]], Answer]


def _amount(req: Request) -> int | None:
    """`amount`: 1 when not sent, as SPiD's default; None when not an integer from 1 to 1000."""
    raw = req.params.get("amount")
    if raw is None or raw == "":
        return 1
    amount = parse_int(raw)
    return amount if amount is not None and 1 <= amount <= MAX_AMOUNT else None


def _beyond_limit(conn: sqlite3.Connection, group_id: int, limit: str | None, amount: int) -> str:
    """Why `amount` more vouchers would pass the group's `limit` ("" when they would not)."""
    allowed = parse_int(limit) if limit else None
    if allowed is None:
        return ""
    held = conn.execute("SELECT count(*) FROM spid_voucher WHERE group_id = ?", (group_id,))
    count = int(held.fetchone()[0])
    if count + amount <= allowed:
        return ""
    return (
        f"Voucher group {group_id} allows {allowed} vouchers and has {count}: {amount} more "
        "would pass its limit; none generated"
    )


def _token_refusal(state: TokenState) -> Reply | None:
    """A token SPiD does not take: 401 and the flat OAuth error, not a container."""
    if state is TokenState.EXPIRED:
        return oauth_error(401, "invalid_token", TOKEN_EXPIRED)
    if state is TokenState.UNKNOWN:
        return oauth_error(401, "invalid_token", TOKEN_UNKNOWN)
    return None


class SpidApi:
    """Routes and answers SPiD requests against the store."""

    def __init__(self, store: Store, options: SandboxOptions) -> None:
        self._store = store
        self._sign_secret = options.sign_secret
        self.tokens = SpidTokens(store, options.token_ttl)
        self.router: Router[Handler] = Router()
        self.router.add("/api/2/voucher/{}", {"GET": self.show_voucher})
        self.router.add("/api/2/voucher_handout", {"POST": self.handout})
        self.router.add("/api/2/vouchers/groups", {"GET": self.groups})
        self.router.add("/api/2/vouchers/group/{}", {"GET": self.group})
        self.router.add("/api/2/vouchers/generate/{}", {"POST": self.generate})
        self.router.add("/api/2/vouchers/handout/{}", {"POST": self.handout_batch})

    def handle(self, req: Request, quota: Quota) -> Reply:
        """Answer one SPiD request; quotas, faults and rate limits were decided by the caller."""
        if req.path == "/oauth/token":
            if req.method != "POST":
                return self.reply(failure(405, "Method not allowed"), quota, (("Allow", "POST"),))
            return self.tokens.exchange(req)
        path = req.path.removesuffix(JSON_SUFFIX)
        match = self.router.match(path)
        if match is None:
            return self.reply(failure(404, "No such endpoint"), quota)
        if req.method not in match.methods:
            return self.reply(failure(405, "Method not allowed"), quota, (("Allow", match.allow),))
        token = presented_token(req)
        if not token:
            return self.reply(failure(403, TOKEN_REJECTED), quota)
        refused = _token_refusal(self.tokens.check(token))
        return refused or self.reply(match.methods[req.method](req, match.args), quota)

    def reply(
        self, answer: Answer, quota: Quota, headers: tuple[tuple[str, str], ...] = ()
    ) -> Reply:
        """An answer in its container, signed when this server signs."""
        return Reply(answer.status, container(answer, quota, self._sign_secret), headers)

    def show_voucher(self, _: Request, args: tuple[str, ...]) -> Answer:
        """GET /api/2/voucher/{voucherCode}."""
        with self._store.read() as conn:
            row = conn.execute(
                f"SELECT {VOUCHER_VALUES} FROM spid_voucher WHERE code = ?", (args[0],)
            ).fetchone()
            if row is None:
                return failure(404, "Voucher not found")
            (voucher,) = vouchers_json(conn, [row], int(row[6]))
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
        """GET /api/2/vouchers/groups: one page of a search (spid_records.search_groups)."""
        with self._store.read() as conn:
            return search_groups(conn, req.params)

    def group(self, _: Request, args: tuple[str, ...]) -> Answer:
        """GET /api/2/vouchers/group/{voucherGroupId}, with the docs' counts: every voucher the
        group has (`generatedVouchers`) and the unused ones (`availableVouchers`)."""
        with self._store.read() as conn:
            row = conn.execute(f"{GROUP_SELECT} WHERE id = ?", (parse_int(args[0]),)).fetchone()
            if row is None:
                return failure(404, GROUP_NOT_FOUND)
            generated, available = conn.execute(
                "SELECT count(*), count(*) FILTER (WHERE status = 0) FROM spid_voucher"
                " WHERE group_id = ?",
                (parse_int(args[0]),),
            ).fetchone()
        counts = {"generatedVouchers": generated, "availableVouchers": available}
        return Answer(200, "element", "VoucherGroup", {**group_json(row), **counts})

    def generate(self, req: Request, args: tuple[str, ...]) -> Answer:
        """POST /api/2/vouchers/generate/{voucherGroupId}: create `amount` unused vouchers,
        answering only that it worked."""
        amount, group_id = _amount(req), parse_int(args[0])
        if amount is None:
            return failure(400, f"amount must be an integer from 1 to {MAX_AMOUNT}")
        if group_id is None:
            return failure(404, GROUP_NOT_FOUND)
        now = utc_text(time.time())
        with self._store.write() as conn:
            group = conn.execute(
                "SELECT is_unique, voucher_limit FROM spid_group WHERE id = ?", (group_id,)
            ).fetchone()
            if group is None:
                return failure(404, GROUP_NOT_FOUND)
            if group[0] != "1":
                return failure(404, f"Voucher group {group_id} is shared: {SHARED_GROUP}")
            beyond = _beyond_limit(conn, group_id, group[1], amount)
            if beyond:
                return failure(404, beyond)
            first = conn.execute("SELECT coalesce(max(id), 0) + 1 FROM spid_voucher").fetchone()[0]
            conn.execute(
                f"{SERIES} INSERT INTO spid_voucher (id, code, group_id, status, created_by,"
                f" created, updated) SELECT n, {spid_code_sql('n', str(group_id))}, ?, 0, '0',"
                " ?, ? FROM series",
                (first, first + amount - 1, group_id, now, now),
            )
        return Answer(200, "element", "Voucher", {"success": True})

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
                    f"Only {unused} vouchers available in voucher group {group_id}, {amount} "
                    "asked for; none handed out"
                )
                return failure(404, text)
            rows = conn.execute(
                "UPDATE spid_voucher SET status = 1, handout_by = '0', handout_time = ?,"
                " updated = ? WHERE id IN (SELECT id FROM spid_voucher WHERE group_id = ?"
                f" AND status = 0 ORDER BY id LIMIT ?) RETURNING {VOUCHER_VALUES}",
                (now, now, group_id, amount),
            ).fetchall()
            data = [_handed_out(voucher) for voucher in vouchers_json(conn, rows, group_id)]
        return Answer(200, "collection", "Voucher", data)


def _handed_out(voucher: dict[str, object]) -> dict[str, object]:
    """A voucher as the batch handout shows it: only the fields SPiD's docs list for it."""
    return {key: voucher[key] for key in HANDED_OUT_FIELDS}
