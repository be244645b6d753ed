"""The ledger's schema, in numbered steps run when it is opened (docs/contract.md#the-ledger).

Each step runs once, in one transaction, and is recorded in ``migrations``; a ledger that a
newer voucherctl migrated further is refused rather than misread. The statements are the same
on SQLite and PostgreSQL but for the one type that differs, an id that counts up.

Times are UTC text, ``YYYY-MM-DDTHH:MM:SSZ``, so that they sort as they read.
"""

from voucherctl.storage.engines import Engine, LedgerError, Transaction

_ID = {
    "sqlite": "INTEGER PRIMARY KEY AUTOINCREMENT",  # ids never reused: a dead session stays dead
    "postgresql": "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY",
}

MIGRATIONS: tuple[tuple[int, str, tuple[str, ...]], ...] = (
    (
        1,
        "sessions, runs, changes and what they name",
        (
            # A process that writes to the ledger; its lock says whether it still runs.
            "CREATE TABLE sessions (id {id}, machine TEXT NOT NULL, os_user TEXT NOT NULL, "
            "pid INTEGER NOT NULL, started TEXT NOT NULL)",
            # A bulk run: named (--run, --journal) or by its command, host, fills and input.
            "CREATE TABLE runs (id {id}, name TEXT NOT NULL UNIQUE, identity TEXT NOT NULL, "
            "command TEXT NOT NULL, host TEXT NOT NULL, fixed TEXT NOT NULL, "
            "named INTEGER NOT NULL, profile TEXT NOT NULL, machine TEXT NOT NULL, "
            "os_user TEXT NOT NULL, started TEXT NOT NULL, last_started TEXT NOT NULL, "
            "ended TEXT, finished INTEGER NOT NULL, reason TEXT, holder BIGINT)",
            "CREATE INDEX runs_identity ON runs (identity, id)",
            # A change: recorded as sent before its request goes out, its outcome set after.
            "CREATE TABLE changes (id {id}, time TEXT NOT NULL, settled TEXT, "
            "os_user TEXT NOT NULL, machine TEXT NOT NULL, profile TEXT NOT NULL, "
            "host TEXT NOT NULL, command TEXT NOT NULL, identifiers TEXT NOT NULL, "
            "digest TEXT NOT NULL, run_id BIGINT, row_key TEXT, line INTEGER, session BIGINT, "
            "outcome TEXT NOT NULL, exit_code INTEGER, error TEXT, ref TEXT)",
            "CREATE INDEX changes_time ON changes (time)",
            "CREATE INDEX changes_request ON changes (digest, host, command)",
            "CREATE INDEX changes_run ON changes (run_id, row_key)",
            "CREATE INDEX changes_ref ON changes (ref)",
            # Who and what a change names, for audit --user/--voucher/--group.
            "CREATE TABLE subjects (change_id BIGINT NOT NULL, kind TEXT NOT NULL, "
            "value TEXT NOT NULL)",
            "CREATE INDEX subjects_value ON subjects (kind, value)",
            "CREATE INDEX subjects_change ON subjects (change_id)",
            # Files of earlier versions imported once (a journal, audit.jsonl).
            "CREATE TABLE imports (source TEXT PRIMARY KEY, time TEXT NOT NULL)",
        ),
    ),
)
LATEST = MIGRATIONS[-1][0]


def migrate(engine: Engine, now: str) -> None:
    """Run every step the ledger has not had yet, each once, whoever opens it first."""
    with engine.transaction(guard="voucherctl ledger migrations") as tx:
        tx.run(
            "CREATE TABLE IF NOT EXISTS migrations (version INTEGER PRIMARY KEY, "
            "name TEXT NOT NULL, applied TEXT NOT NULL)"
        )
        found = tx.one("SELECT max(version) FROM migrations")
        current = int(found[0]) if found and found[0] is not None else 0
        if current > LATEST:
            raise LedgerError(
                f"the ledger {engine.shown} was written by a newer voucherctl (schema "
                f"{current}, this one knows {LATEST}); upgrade voucherctl"
            )
        for version, name, statements in MIGRATIONS:
            if version > current:
                _apply(tx, engine.kind, statements)
                tx.run(
                    "INSERT INTO migrations (version, name, applied) VALUES (?, ?, ?)",
                    (version, name, now),
                )


def _apply(tx: Transaction, kind: str, statements: tuple[str, ...]) -> None:
    for statement in statements:
        tx.run(statement.replace("{id}", _ID[kind]))
