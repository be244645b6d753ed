"""SPiD's voucher groups and vouchers as the API shows them."""

from __future__ import annotations

import sqlite3
from typing import Any

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


def list_groups(conn: sqlite3.Connection, title: str) -> list[dict[str, object]]:
    """Every voucher group whose title holds `title`, ignoring case; all for an empty one."""
    # instr(title, '') is 1, so an empty filter keeps every group.
    rows = conn.execute(
        f"{GROUP_SELECT} WHERE instr(lower(title), lower(?)) ORDER BY id", (title,)
    ).fetchall()
    return [group_json(row) for row in rows]
