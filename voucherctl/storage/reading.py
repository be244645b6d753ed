"""What ``audit`` and ``runs`` show of the ledger (docs/contract.md#audit and #runs).

A change shows once, with the outcome written onto it last; one still ``sent`` shows as in
flight while its process runs, and as ``unknown`` once it is gone.
"""

import json
from dataclasses import dataclass
from typing import Any

from voucherctl.storage.engines import Transaction
from voucherctl.storage.ledger import SENT, UNKNOWN, Ledger


@dataclass(frozen=True)
class Filter:
    """Which changes to show; every field given must match."""

    since: str | None = None  # UTC, as the ledger writes times
    until: str | None = None
    command: str | None = None
    user: str | None = None  # also changes on vouchers this user's changes named
    voucher: str | None = None
    group: str | None = None
    profile: str | None = None
    host: str | None = None

    def sql(self) -> tuple[str, list[Any]]:
        conditions, params = ["1 = 1"], []
        for column, op, value in (
            ("c.time", ">=", self.since),
            ("c.time", "<=", self.until),
            ("c.command", "=", self.command),
            ("c.profile", "=", self.profile),
            ("c.host", "=", self.host),
        ):
            if value is not None:
                conditions.append(f"{column} {op} ?")
                params.append(value)
        for kind, value in (("voucher", self.voucher), ("group", self.group)):
            if value is not None:
                conditions.append(f"c.id IN ({_NAMED})")
                params += [kind, value]
        if self.user is not None:
            conditions.append(
                f"(c.id IN ({_NAMED}) OR c.id IN (SELECT s.change_id FROM subjects s "
                "WHERE s.kind = 'voucher' AND s.value IN (SELECT v.value FROM subjects u "
                "JOIN subjects v ON v.change_id = u.change_id AND v.kind = 'voucher' "
                "WHERE u.kind = 'user' AND u.value = ?)))"
            )
            params += ["user", self.user, self.user]
        return " AND ".join(conditions), params


_NAMED = "SELECT change_id FROM subjects WHERE kind = ? AND value = ?"
_CHANGE = (
    "SELECT c.id, c.time, c.os_user, c.machine, c.profile, c.host, c.command, c.identifiers, "
    "c.outcome, c.exit_code, c.error, c.session, r.name, c.line, c.settled FROM changes c "
    "LEFT JOIN runs r ON r.id = c.run_id"
)


def audit(ledger: Ledger, where: Filter, *, limit: int | None) -> tuple[list[dict[str, Any]], int]:
    """The changes that match, newest first, at most ``limit``; and how many match in all."""
    condition, params = where.sql()
    with ledger.engine.transaction() as tx:
        rows = tx.all(
            f"{_CHANGE} WHERE {condition} ORDER BY c.time DESC, c.id DESC"
            + (" LIMIT ?" if limit else ""),
            [*params, limit] if limit else params,
        )
        total = len(rows)
        if limit and total >= limit:
            found = tx.one(f"SELECT count(*) FROM changes c WHERE {condition}", params)
            total = int(found[0]) if found else total
    return [_change(ledger, row) for row in rows], total


def _change(ledger: Ledger, row: tuple[Any, ...]) -> dict[str, Any]:
    (id_, time, user, machine, profile, host, command, ids, outcome, code, error, session) = row[
        :12
    ]
    error_object = json.loads(error) if error else None
    if outcome == SENT and not ledger.alive(session):
        outcome = UNKNOWN
        error_object = {
            "message": "sent, and no outcome was recorded (its process ended)",
            "exit_code": 7,
            "http_status": None,
            "api_error": None,
        }
    return {
        "time": time,
        "change": str(id_),
        "user": user,
        "machine": machine,
        "profile": profile,
        "host": host,
        "command": command,
        "identifiers": json.loads(ids) if ids else {},
        "outcome": outcome,
        "exit_code": code,
        "error": error_object,
        "run": row[12],
        "line": row[13],
    }


_RUNS = (
    "SELECT id, name, command, host, machine, os_user, profile, started, last_started, ended, "
    "finished, holder, named FROM runs"
)


def runs(
    ledger: Ledger, *, command: str | None, live: bool, limit: int | None
) -> tuple[list[dict[str, Any]], int]:
    """The runs, newest first (``live``: only those a process holds now), and how many match."""
    where, params = (" WHERE command = ?", [command]) if command else ("", [])
    if live:
        where += (" AND" if where else " WHERE") + " holder IS NOT NULL"
    with ledger.engine.transaction() as tx:
        found = tx.all(f"{_RUNS}{where} ORDER BY id DESC", params)
        if live:
            found = [row for row in found if ledger.alive(row[11])]
        total = len(found)
        shown = found[:limit] if limit else found
        return [_run(ledger, tx, row) for row in shown], total


def run_named(ledger: Ledger, name: str) -> tuple[dict[str, Any], list[dict[str, Any]]] | None:
    """A run and its rows (every sending of each, in line order), or None."""
    with ledger.engine.transaction() as tx:
        found = tx.one(f"{_RUNS} WHERE name = ?", (name,))
        if found is None:
            return None
        record = _run(ledger, tx, found)
        rows = tx.all(f"{_CHANGE} WHERE c.run_id = ? ORDER BY c.line, c.id", (found[0],))
    return record, [_change(ledger, row) for row in rows]


def _run(ledger: Ledger, tx: Transaction, row: tuple[Any, ...]) -> dict[str, Any]:
    live = ledger.alive(row[11])
    counts: dict[str, int] = {}
    for outcome, session, count in tx.all(
        "SELECT outcome, session, count(*) FROM changes WHERE run_id = ? GROUP BY outcome, session",
        (row[0],),
    ):
        if outcome == SENT:
            outcome = "in flight" if ledger.alive(session) else UNKNOWN
        counts[outcome] = counts.get(outcome, 0) + int(count)
    return {
        "name": row[1],
        "command": row[2],
        "host": row[3],
        "machine": row[4],
        "user": row[5],
        "profile": row[6],
        "started": row[7],
        "last_started": row[8],
        "ended": row[9],
        "state": "running" if live else ("finished" if row[10] else "stopped"),
        "named": bool(row[12]),
        "rows": counts,
    }


def forget_host(ledger: Ledger, host: str) -> tuple[int, list[str]]:
    """Forget the runs and changes this machine made against ``host`` (the sandbox, once
    reset); a run a process holds is kept. Returns how many runs were forgotten, and the names
    of those kept."""
    machine = ledger.who.machine
    with ledger.engine.transaction() as tx:
        held = tx.all(
            "SELECT id, name, holder FROM runs WHERE host = ? AND machine = ?", (host, machine)
        )
        busy = [(id_, name) for id_, name, holder in held if ledger.alive(holder)]
        keep = [id_ for id_, _ in busy] or [-1]
        marks = ", ".join("?" for _ in keep)
        gone = f"host = ? AND machine = ? AND (run_id IS NULL OR run_id NOT IN ({marks}))"
        tx.run(
            f"DELETE FROM subjects WHERE change_id IN (SELECT id FROM changes WHERE {gone})",
            [host, machine, *keep],
        )
        tx.run(f"DELETE FROM changes WHERE {gone}", [host, machine, *keep])
        tx.run(
            f"DELETE FROM runs WHERE host = ? AND machine = ? AND id NOT IN ({marks})",
            [host, machine, *keep],
        )
    return len(held) - len(busy), [name for _, name in busy]
