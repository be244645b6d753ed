"""Knowing the sandbox's own state file before anything is written to it.

A state file is marked at creation: SQLite's application id is APPLICATION_ID and its
user_version the schema version. A file is used only when it is missing, empty (no bytes, or a
SQLite database with nothing in it), marked, or a state file of an earlier voucherctl (no mark,
but exactly the sandbox's tables). Anything else, a user's database or any other file, is refused
with NotAStateFile, and nothing in it is written, cut or repaired
(docs/contract.md#files-and-audit-log).

The first look reads the file's bytes; only a SQLite file whose header bears no application id is
opened, read-only, to list its tables. Without a `-wal` file beside it, it is opened as immutable,
which creates no `-wal` or `-shm` beside a file that may be the user's.
"""

from __future__ import annotations

import os
import sqlite3
import stat
from pathlib import Path

APPLICATION_ID = int.from_bytes(b"vctl", "big")  # PRAGMA application_id of every state file
SQLITE_MAGIC = b"SQLite format 3\x00"
_APPLICATION_ID_OFFSET = 68  # in the 100-byte database header
# Every table the sandbox has ever made (schema versions 1 to 3 share them).
TABLES = frozenset(
    {
        "spid_group",
        "spid_user",
        "spid_voucher",
        "spid_token",
        "spaaza_campaign",
        "spaaza_user",
        "spaaza_voucher",
        "spaaza_session",
        "spaaza_passcode",
    }
)
_KINDS = {stat.S_IFIFO: "a FIFO", stat.S_IFSOCK: "a socket", stat.S_IFCHR: "a device"}


class NotAStateFile(Exception):
    """A file the sandbox must leave alone; ``reason`` says what it is instead ("a FIFO")."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"{path} {reason}")
        self.path = path
        self.reason = reason


def check_before_opening(path: Path, busy_timeout: float = 10.0) -> None:
    """Raise NotAStateFile unless ``path`` is missing, empty or the sandbox's state file."""
    try:
        info = os.stat(path)
        if stat.S_ISDIR(info.st_mode):
            raise NotAStateFile(path, "a directory")
        if not stat.S_ISREG(info.st_mode):
            kind = _KINDS.get(stat.S_IFMT(info.st_mode), "no regular file")
            raise NotAStateFile(path, kind)
        if info.st_size == 0:
            return
        with open(path, "rb") as file:
            header = file.read(100)
    except FileNotFoundError:
        return
    except OSError as exc:
        raise NotAStateFile(path, f"unreadable: {exc.strerror}") from None
    if not header.startswith(SQLITE_MAGIC) or len(header) < 100:
        raise NotAStateFile(path, "not a SQLite database")
    marked = int.from_bytes(header[_APPLICATION_ID_OFFSET : _APPLICATION_ID_OFFSET + 4], "big")
    if marked == APPLICATION_ID:
        return
    if marked:
        raise NotAStateFile(path, f"another program's SQLite database, application id {marked:#x}")
    _check_tables(path, busy_timeout)


def _check_tables(path: Path, busy_timeout: float) -> None:
    # A -wal file may hold the latest changes (another process serving it): read through it.
    wal = Path(f"{path}-wal")
    how = "mode=ro" if wal.exists() else "immutable=1"
    try:
        conn = sqlite3.connect(f"{path.absolute().as_uri()}?{how}", uri=True, timeout=busy_timeout)
        try:
            classify(conn, path)
        finally:
            conn.close()
    except sqlite3.Error as exc:
        raise NotAStateFile(path, f"unreadable as SQLite: {exc}") from None


def classify(conn: sqlite3.Connection, path: Path) -> str:
    """ "marked", "earlier" (an unmarked state file of an earlier voucherctl) or "empty";
    NotAStateFile (with the connection's file) for anything else. Reads only."""
    marked: int = conn.execute("PRAGMA application_id").fetchone()[0]
    version: int = conn.execute("PRAGMA user_version").fetchone()[0]
    names = [
        str(row[0])
        for row in conn.execute(
            "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
    ]
    objects: int = conn.execute("SELECT count(*) FROM sqlite_schema").fetchone()[0]
    if marked == APPLICATION_ID:
        return "marked"
    if marked:
        raise NotAStateFile(path, f"another program's SQLite database, application id {marked:#x}")
    if not objects and not version:
        return "empty"
    if set(names) == TABLES and version >= 1:
        return "earlier"
    others = sorted(set(names) - TABLES) or sorted(names)
    shown = ", ".join(others[:3]) + (", ..." if len(others) > 3 else "")
    holds = f"tables {shown}" if others else "no tables"
    raise NotAStateFile(path, f"a SQLite database holding {holds}")
