"""SPiD's voucher groups and vouchers as the API shows them, and the voucher-group search.

GET /api/2/vouchers/groups pages as SPiD's endpoints do (schibsted/spid-tech-docs,
resources/articles/endpoints.md, "Pagination"): `limit` (default and at most 1000) and
`offset` (default 0), oldest group first; anything else in them answers 400. The filters are
SPiD's for this endpoint: `title` (exact match), `campaignId`, `type` and `productId`; an empty
one counts as absent. A page with no group on it answers 404 "No voucher groups found", as
SPiD's searches do when they find nothing, so a client paging on reaches the end either with a
short page or with that 404.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from voucherctl.sandbox.spid_container import Answer, failure
from voucherctl.sandbox.wire import parse_int

MAX_PAGE = 1000
NO_GROUPS_FOUND = "No voucher groups found"

# Wire field -> SQL, in the docs' field order; the SQL already gives numbers as strings.
GROUP_COLUMNS = {
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
GROUP_SELECT = f"SELECT {', '.join(GROUP_COLUMNS.values())} FROM spid_group"
VOUCHER_COLUMNS = {
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
VOUCHER_VALUES = ", ".join(VOUCHER_COLUMNS.values())
# Search parameter -> column; each compares as the text SPiD sends.
GROUP_FILTERS = {
    "title": "title",
    "campaignId": "campaign_id",
    "type": "type",
    "productId": "product_id",
}


def group_json(row: tuple[Any, ...]) -> dict[str, object]:
    """One GROUP_SELECT row as SPiD shows a voucher group."""
    return dict(zip(GROUP_COLUMNS, row, strict=True))


def vouchers_json(
    conn: sqlite3.Connection, rows: list[tuple[Any, ...]], group_id: int
) -> list[dict[str, object]]:
    """Vouchers of one group, oldest first, each with the group embedded as SPiD does."""
    group = group_json(conn.execute(f"{GROUP_SELECT} WHERE id = ?", (group_id,)).fetchone())
    vouchers = [dict(zip(VOUCHER_COLUMNS, row, strict=True)) for row in rows]
    vouchers.sort(key=lambda voucher: int(voucher["voucherId"]))
    return [{"group": group, **voucher, "type": group["type"]} for voucher in vouchers]


def _page_number(params: dict[str, str], name: str, default: int) -> int | None:
    """A paging parameter: absent or empty gives the default, anything not a number None."""
    raw = params.get(name, "")
    return parse_int(raw) if raw else default


def search_groups(conn: sqlite3.Connection, params: dict[str, str]) -> Answer:
    """One page of the voucher groups that match every filter given."""
    limit = _page_number(params, "limit", MAX_PAGE)
    if limit is None or not 1 <= limit <= MAX_PAGE:
        return failure(400, f"limit must be an integer from 1 to {MAX_PAGE}")
    offset = _page_number(params, "offset", 0)
    if offset is None:
        return failure(400, "offset must be an integer, 0 or more")
    given = [(column, params[name]) for name, column in GROUP_FILTERS.items() if params.get(name)]
    where = " AND ".join(f"{column} = ?" for column, _ in given) or "1"
    rows = conn.execute(
        f"{GROUP_SELECT} WHERE {where} ORDER BY id LIMIT ? OFFSET ?",
        (*(value for _, value in given), limit, offset),
    ).fetchall()
    if not rows:
        return failure(404, NO_GROUPS_FOUND)
    return Answer(200, "collection", "VoucherGroup", [group_json(row) for row in rows])
