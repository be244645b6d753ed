"""Moving a machine's history into another ledger (a team's on PostgreSQL): ``runs import``.

The runs and changes of a SQLite ledger are copied, once (recorded in ``imports``), read only:
a run of the same name in the target is the same run. A change that was in flight when its
ledger was last written has no live process any more, so it reads ``unknown`` where it lands.
"""

import json
import sqlite3
from pathlib import Path

from voucherctl.core.errors import UsageError
from voucherctl.core.text import escape_control
from voucherctl.storage.ledger import Ledger, now
from voucherctl.storage.subjects import add_subjects

_RUN_COLUMNS = (
    "name, identity, command, host, fixed, named, profile, machine, os_user, started, "
    "last_started, ended, finished, reason"
)
_CHANGE_COLUMNS = (
    "time, settled, os_user, machine, profile, host, command, identifiers, digest, row_key, "
    "line, outcome, exit_code, error, ref"
)


def import_ledger(target: Ledger, path: Path) -> tuple[int, int] | None:
    """Copy the ledger at ``path`` into ``target``: (runs, changes), or None when it was
    imported before."""
    shown = escape_control(str(path))
    key = f"ledger:{path.resolve()}"
    try:
        source = sqlite3.connect(f"file:{path.resolve()}?mode=ro", uri=True)
        runs = source.execute(f"SELECT id, {_RUN_COLUMNS} FROM runs").fetchall()
        changes = source.execute(f"SELECT run_id, {_CHANGE_COLUMNS} FROM changes").fetchall()
        source.close()
    except sqlite3.Error as exc:
        raise UsageError(f"{shown} is not a voucherctl ledger that can be read ({exc})") from None
    with target.engine.transaction(guard=key) as tx:
        if tx.one("SELECT source FROM imports WHERE source = ?", (key,)):
            return None
        ids: dict[int, int] = {}
        for run in runs:
            found = tx.one("SELECT id FROM runs WHERE name = ?", (run[1],))
            if found is None:
                marks = ", ".join("?" for _ in run[1:])
                found = tx.one(
                    f"INSERT INTO runs ({_RUN_COLUMNS}) VALUES ({marks}) RETURNING id", run[1:]
                )
            assert found is not None
            ids[int(run[0])] = int(found[0])
        marks = ", ".join("?" for _ in range(16))
        copied = 0
        for change in changes:
            if tx.one(_SAME_CHANGE, _identity(change)):
                continue  # there already: a copy of this ledger, or audit.jsonl imported twice
            run_id = ids.get(int(change[0])) if change[0] is not None else None
            found = tx.one(
                f"INSERT INTO changes (run_id, {_CHANGE_COLUMNS}) VALUES ({marks}) RETURNING id",
                (run_id, *change[1:]),
            )
            assert found is not None
            add_subjects(tx, int(found[0]), json.loads(change[8] or "{}"))
            copied += 1
        tx.run("INSERT INTO imports (source, time) VALUES (?, ?)", (key, now()))
    return len(runs), copied


# A change is the same change when it was sent at the same time, from the same machine and OS
# user, by the same command to the same host, with the same identifiers.
_SAME_CHANGE = (
    "SELECT id FROM changes WHERE time = ? AND machine = ? AND os_user = ? AND command = ? "
    "AND host = ? AND COALESCE(identifiers, '') = COALESCE(?, '') LIMIT 1"
)


def _identity(change: tuple[object, ...]) -> tuple[object, ...]:
    # (run_id, time, settled, os_user, machine, profile, host, command, identifiers, ...)
    return (change[1], change[4], change[3], change[7], change[6], change[8])
