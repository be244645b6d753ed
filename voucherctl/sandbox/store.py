"""The sandbox's state: one SQLite file that several processes may open at once.

A `sandbox serve` process and CLI processes that embed their own server can share one file, so
tokens and sessions live in it too, and every change that must not happen twice (a handout, a
claim, a lock) runs inside one `BEGIN IMMEDIATE` transaction. Within a process one connection,
guarded by a lock, serves every thread.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from voucherctl.sandbox.seed import insert_seed
from voucherctl.sandbox.state_file import APPLICATION_ID, check_before_opening, classify

SCHEMA_VERSION = 3  # 2: more voucher groups, for the groups search; 3: a group with a limit
BUSY_TIMEOUT_MS = 10_000

_SCHEMA = """
CREATE TABLE spid_group (
    id INTEGER PRIMARY KEY, client_id TEXT NOT NULL, created_by TEXT, title TEXT NOT NULL,
    created TEXT NOT NULL, updated TEXT NOT NULL, is_unique TEXT NOT NULL, type TEXT NOT NULL,
    handouts_enabled INTEGER NOT NULL, discount_id TEXT, product_id TEXT, voucher_limit TEXT,
    campaign_id TEXT, description TEXT);
CREATE TABLE spid_user (id INTEGER PRIMARY KEY);
CREATE TABLE spid_voucher (
    id INTEGER PRIMARY KEY, code TEXT NOT NULL UNIQUE, group_id INTEGER NOT NULL,
    status INTEGER NOT NULL, user_id INTEGER, handout_by TEXT, handout_time TEXT,
    created_by TEXT, created TEXT NOT NULL, updated TEXT NOT NULL, count TEXT);
-- Only unused vouchers are indexed: a handout removes one entry instead of moving it.
CREATE INDEX spid_voucher_unused ON spid_voucher (group_id, id) WHERE status = 0;
CREATE TABLE spid_token (
    token TEXT PRIMARY KEY, client_id TEXT NOT NULL, expires_at REAL NOT NULL) WITHOUT ROWID;
CREATE TABLE spaaza_campaign (
    id INTEGER PRIMARY KEY, type TEXT NOT NULL, title TEXT NOT NULL, chain_id INTEGER NOT NULL);
CREATE TABLE spaaza_user (
    id INTEGER PRIMARY KEY, chain_id INTEGER NOT NULL, username TEXT UNIQUE,
    member_number TEXT UNIQUE, auth_point_id TEXT UNIQUE, aux_id TEXT UNIQUE,
    card_type TEXT, card_code TEXT, password TEXT, is_admin INTEGER NOT NULL);
CREATE TABLE spaaza_voucher (
    id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE, third_party_id INTEGER UNIQUE,
    campaign_id INTEGER NOT NULL, chain_id INTEGER NOT NULL, user_id INTEGER,
    status TEXT NOT NULL, currency_id INTEGER NOT NULL, currency_symbol TEXT NOT NULL,
    amount_original NUMERIC, amount NUMERIC, amount_redeemed NUMERIC, text TEXT,
    expiry TEXT NOT NULL, locked_until INTEGER, locking_code TEXT, basket_code TEXT);
CREATE INDEX spaaza_voucher_user ON spaaza_voucher (user_id, id);
CREATE TABLE spaaza_session (
    key TEXT PRIMARY KEY, user_id INTEGER NOT NULL, expires_at REAL) WITHOUT ROWID;
CREATE TABLE spaaza_passcode (
    key TEXT PRIMARY KEY, user_id INTEGER NOT NULL, expires_at REAL NOT NULL) WITHOUT ROWID;
"""


def _make_private(path: Path) -> None:
    """The state file holds live tokens: when missing, it is made 0600 here (SQLite would make
    it 0644), in folders made 0700, whatever the umask; SQLite gives its -wal and -shm files
    the state file's mode. A file or folder that exists keeps its mode: it is the user's."""
    missing = [folder for folder in (path.parent, *path.parent.parents) if not folder.exists()]
    for folder in reversed(missing):
        folder.mkdir(mode=0o700, exist_ok=True)
        folder.chmod(0o700)  # mkdir's mode is masked by the umask
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    try:
        os.fchmod(fd, 0o600)
    finally:
        os.close(fd)


def _connect(path: Path) -> sqlite3.Connection:
    # Before anything is created or written (WAL mode rewrites the header): a file that is not
    # the sandbox's raises NotAStateFile and stays as it was.
    check_before_opening(path, BUSY_TIMEOUT_MS / 1000)
    _make_private(path)
    # isolation_level=None: transactions are spelled out, so BEGIN IMMEDIATE means what it says.
    conn = sqlite3.connect(
        path, isolation_level=None, check_same_thread=False, timeout=BUSY_TIMEOUT_MS / 1000
    )
    _use_wal(conn)
    # NORMAL skips the fsync per commit; in WAL mode a crash can lose the last commits but
    # never corrupts the file, which is the right trade for an emulator.
    conn.execute("PRAGMA synchronous = NORMAL")
    return conn


def _use_wal(conn: sqlite3.Connection) -> None:
    # Turning a fresh file to WAL takes an exclusive lock that SQLite does not wait for when
    # another connection is doing the same at that moment (two first `--sandbox` calls), so
    # the busy timeout is applied here by hand.
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            busy = getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_BUSY
            if not busy or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


def _drop_all(conn: sqlite3.Connection) -> None:
    names = [
        row[0]
        for row in conn.execute(
            "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
    ]
    for name in names:
        conn.execute(f'DROP TABLE "{name}"')


def _create_and_seed(conn: sqlite3.Connection) -> None:
    for statement in _SCHEMA.split(";"):
        if statement.strip():
            conn.execute(statement)
    insert_seed(conn)
    _mark(conn)


def _mark(conn: sqlite3.Connection) -> None:
    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")


def _current(conn: sqlite3.Connection) -> bool:
    """Marked as the sandbox's, in this schema version."""
    marked: int = conn.execute("PRAGMA application_id").fetchone()[0]
    version: int = conn.execute("PRAGMA user_version").fetchone()[0]
    return marked == APPLICATION_ID and version == SCHEMA_VERSION


def _version(conn: sqlite3.Connection) -> int:
    version: int = conn.execute("PRAGMA user_version").fetchone()[0]
    return version


class Store:
    """One connection to the state file, shared by the threads of one process."""

    def __init__(self, path: Path) -> None:
        """NotAStateFile, before anything is written, when ``path`` is not the sandbox's."""
        self.path = path
        self._conn = _connect(path)
        self._lock = threading.Lock()

    def ensure(self) -> None:
        """Create and seed the state when missing, empty or from another schema version; mark
        an earlier voucherctl's state file of this version, keeping its records. NotAStateFile
        (nothing changed) when the file is not the sandbox's."""
        with self._lock:
            if _current(self._conn):
                return
            with self._transaction():
                # Checked again under the write lock: another process may have seeded meanwhile.
                kind = classify(self._conn, self.path)
                if _current(self._conn):
                    return
                if kind == "earlier" and _version(self._conn) == SCHEMA_VERSION:
                    _mark(self._conn)
                    return
                _drop_all(self._conn)
                _create_and_seed(self._conn)

    def reset(self) -> None:
        """Drop every record, tokens and sessions included, and seed afresh; NotAStateFile
        (nothing changed) when the file is not the sandbox's."""
        with self._lock, self._transaction():
            classify(self._conn, self.path)
            _drop_all(self._conn)
            _create_and_seed(self._conn)

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """The connection, for queries that change nothing."""
        with self._lock:
            yield self._conn

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """The connection inside one IMMEDIATE transaction, committed when the block ends."""
        with self._lock, self._transaction():
            yield self._conn

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        # IMMEDIATE takes the write lock up front, so two processes can never both read the
        # same "next unused voucher" and then both take it.
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")

    def close(self) -> None:
        """Close the connection; later calls fail."""
        with self._lock:
            self._conn.close()


def ensure_state(state_path: Path) -> None:
    """Create and seed the state file if it is missing or empty; safe when processes race."""
    store = Store(state_path)
    try:
        store.ensure()
    finally:
        store.close()


def reset_state(state_path: Path) -> None:
    """Drop everything in the state file and seed it afresh."""
    store = Store(state_path)
    try:
        store.reset()
    finally:
        store.close()
