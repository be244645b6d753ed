"""The ledger's two engines behind one small interface (docs/contract.md#the-ledger).

Both give: write transactions that other writers wait for (SQLite: ``BEGIN IMMEDIATE``;
PostgreSQL: a transaction holding an advisory lock on what it decides, so that two machines
deciding the same request take turns), and a lock per process that dies with it (SQLite: an
OS lock, ``flock``, on a file beside the ledger; PostgreSQL: a session-level advisory lock),
which is how a run held by a killed process, or a lost machine, is known to be free again.

One connection per process, shared by the workers of a bulk run under a lock.
"""

import os
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from voucherctl.core.errors import ExitCode, UsageError
from voucherctl.core.text import escape_control
from voucherctl.storage.private_files import NotRegularFileError, open_private, private_folder

ADVISORY_NAMESPACE = 0x766C6467  # "vldg": the first key of voucherctl's advisory locks
Row = tuple[Any, ...]


class LedgerError(UsageError):
    """The ledger cannot be opened, read or written. Before a change is sent this is a usage
    error (exit 2, nothing sent); a run that meets it later stops starting rows (exit 1)."""

    exit_code = ExitCode.USAGE
    api_error = "ledger_unavailable"


class Transaction:
    """Statements inside one transaction; ``?`` marks a parameter on both engines."""

    def __init__(self, cursor: Any, postgres: bool) -> None:
        self._cursor = cursor
        self._postgres = postgres

    def run(self, sql: str, params: Sequence[Any] = ()) -> None:
        self._cursor.execute(self._sql(sql), tuple(params))

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        self.run(sql, params)
        return [tuple(row) for row in self._cursor.fetchall()]

    def one(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        self.run(sql, params)
        row = self._cursor.fetchone()
        return tuple(row) if row is not None else None

    def _sql(self, sql: str) -> str:
        return sql.replace("?", "%s") if self._postgres else sql


class Engine:
    """What the ledger needs of a database."""

    kind = ""
    shown = ""  # where, for messages (a URL without its password)

    def __init__(self) -> None:
        self.lock = threading.RLock()

    def transaction(self, guard: str | None = None) -> Any:
        raise NotImplementedError

    def read(self) -> Any:
        """Statements that only read, outside any write transaction (nobody waits for them)."""
        raise NotImplementedError

    def hold(self, session: int) -> None:
        """Take the lock of ``session`` (this process's), held until the process ends."""
        raise NotImplementedError

    def alive(self, session: int) -> bool:
        """Whether a process still holds the lock of ``session``."""
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def failed(self, exc: BaseException) -> LedgerError:
        return LedgerError(f"the ledger {self.shown} cannot be used ({_why(exc)})")


class SqliteEngine(Engine):
    kind = "sqlite"

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path
        self.shown = escape_control(str(path))
        self.locks = path.with_name(path.name + ".locks")
        self._held: int | None = None
        try:
            os.close(open_private(path, os.O_RDWR))  # 0600 from the start; -wal, -shm follow it
            self._db = sqlite3.connect(
                str(path), timeout=60, isolation_level=None, check_same_thread=False
            )
            self._db.execute("PRAGMA busy_timeout = 60000")
            _wal(self._db)
            self._db.execute("PRAGMA synchronous = NORMAL")
        except NotRegularFileError:
            raise LedgerError(f"the ledger {self.shown} is not a regular file") from None
        except (OSError, sqlite3.Error) as exc:
            raise self.failed(exc) from None

    @contextmanager
    def transaction(self, guard: str | None = None) -> Iterator[Transaction]:
        with self.lock:
            cursor = self._db.cursor()
            try:
                cursor.execute("BEGIN IMMEDIATE")
                yield Transaction(cursor, postgres=False)
                cursor.execute("COMMIT")
            except BaseException as exc:
                if self._db.in_transaction:
                    with suppress(sqlite3.Error):
                        self._db.execute("ROLLBACK")
                if isinstance(exc, sqlite3.Error | OSError):
                    raise self.failed(exc) from None
                raise
            finally:
                cursor.close()

    @contextmanager
    def read(self) -> Iterator[Transaction]:
        with self.lock:
            cursor = self._db.cursor()
            try:
                yield Transaction(cursor, postgres=False)
            except (sqlite3.Error, OSError) as exc:
                raise self.failed(exc) from None
            finally:
                cursor.close()

    def hold(self, session: int) -> None:
        try:
            private_folder(self.locks)
            fd = open_private(self.locks / f"{session}.lock", os.O_RDWR)
        except OSError as exc:
            raise self.failed(exc) from None
        if not try_lock(fd):
            os.close(fd)
            raise LedgerError(f"the lock of session {session} in {self.shown} is taken")
        self._held, self._fd = session, fd

    def alive(self, session: int) -> bool:
        if session == self._held:
            return True
        path = self.locks / f"{session}.lock"
        try:
            fd = os.open(path, os.O_RDWR | getattr(os, "O_CLOEXEC", 0))
        except FileNotFoundError:
            return False
        except OSError:
            return True  # cannot tell: count it alive, so that nothing is sent twice
        try:
            if not try_lock(fd):
                return True
            path.unlink(missing_ok=True)  # its process is gone; the id is never reused
            return False
        finally:
            os.close(fd)

    def close(self) -> None:
        with self.lock:
            self._db.close()
            if self._held is not None:
                (self.locks / f"{self._held}.lock").unlink(missing_ok=True)
                os.close(self._fd)
                self._held = None


class PostgresEngine(Engine):
    kind = "postgresql"

    def __init__(self, url: str) -> None:
        super().__init__()
        self.shown = escape_control(shown_url(url))
        try:
            import psycopg
        except ImportError:
            raise LedgerError(
                f"the ledger {self.shown} is on PostgreSQL, which needs psycopg: "
                "pip install 'voucherctl[postgres]'"
            ) from None
        self._errors: tuple[type[BaseException], ...] = (psycopg.Error, OSError)
        try:
            self._db = psycopg.connect(url, autocommit=True, connect_timeout=10)
        except self._errors as exc:
            raise self.failed(exc) from None
        self._held: int | None = None

    @contextmanager
    def transaction(self, guard: str | None = None) -> Iterator[Transaction]:
        with self.lock:
            try:
                with self._db.transaction(), self._db.cursor() as cursor:
                    tx = Transaction(cursor, postgres=True)
                    if guard is not None:
                        tx.run("SELECT pg_advisory_xact_lock(hashtextextended(?, 0))", (guard,))
                    yield tx
            except self._errors as exc:
                raise self.failed(exc) from None

    @contextmanager
    def read(self) -> Iterator[Transaction]:
        with self.lock:
            try:
                with self._db.cursor() as cursor:
                    yield Transaction(cursor, postgres=True)
            except self._errors as exc:
                raise self.failed(exc) from None

    def hold(self, session: int) -> None:
        with self.transaction() as tx:
            tx.run("SELECT pg_advisory_lock(?, ?)", (ADVISORY_NAMESPACE, session))
        self._held = session

    def alive(self, session: int) -> bool:
        if session == self._held:
            return True
        with self.transaction() as tx:
            found = tx.one(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
                "AND classid = ? AND objid = ? AND objsubid = 2 AND database = "
                "(SELECT oid FROM pg_database WHERE datname = current_database())",
                (ADVISORY_NAMESPACE, session),
            )
        return bool(found and found[0])

    def close(self) -> None:
        with self.lock, suppress(*self._errors):
            self._db.close()  # the session's advisory lock goes with it


def shown_url(url: str) -> str:
    """A PostgreSQL URL without its password (and without any query string)."""
    parts = urlsplit(url)
    netloc = parts.hostname or ""
    if parts.port:
        netloc = f"{netloc}:{parts.port}"
    if parts.username:
        netloc = f"{parts.username}@{netloc}"
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def try_lock(fd: int) -> bool:
    """An exclusive lock on the whole file, without waiting; False when another process has it."""
    try:
        import fcntl
    except ImportError:  # Windows
        import msvcrt

        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)  # type: ignore[attr-defined,unused-ignore]
        except OSError:
            return False
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _why(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _wal(db: sqlite3.Connection, patience: float = 60.0) -> None:
    """Switch a SQLite ledger to WAL. The switch takes the database whole and, unlike other
    statements, does not wait on the busy timeout: two runs opening a new ledger at once saw
    "database is locked". It is tried again until the other is through."""
    deadline = time.monotonic() + patience
    while True:
        try:
            db.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)
