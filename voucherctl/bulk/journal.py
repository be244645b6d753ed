"""The journal: an append-only record of every row's outcome, so a run can be killed and resumed.

A row is known by the request it sends (a hash of its parameters) and its occurrence among
identical rows (the second "userId 7, group 47" is another row than the first), never by its
line: lines added, removed or reordered never make a done row be sent again, and an edited row
is a new row (docs/contract.md#journals-and-row-identity).

Each row is written as ``sent`` before its request goes out and with its outcome after it came
back, flushed to the operating system one record at a time (a killed process loses nothing
that way). A row whose last record is ``sent`` was in flight when the run died: its outcome is
unknown. Each run writes a ``start`` record, and an ``end`` record saying whether it went
through every row; a run without one was killed.

The file is locked for the whole run (an OS lock, released when the process dies), so two runs
never share a journal.
"""

import json
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from voucherctl.bulk.rows import Row, digest
from voucherctl.core.errors import (
    ExitCode,
    RunInUseError,
    RunMismatchError,
    UsageError,
    VoucherctlError,
)
from voucherctl.core.redact import scrub
from voucherctl.core.text import escape_control
from voucherctl.storage.private_files import NotRegularFileError, open_private

FORMAT = 2
LEGACY_FORMAT = 1  # voucherctl 0.1: rows known by line and input hash
SENT, OK, FAILED, UNKNOWN = "sent", "ok", "failed", "unknown"
_STATES = (SENT, OK, FAILED, UNKNOWN)


class JournalWriteError(VoucherctlError):
    """The journal stopped accepting records (a full disk, say): no more rows may start."""

    exit_code = ExitCode.ERROR


@dataclass(frozen=True)
class LastRun:
    """What the journal says of the run before this one."""

    started: str  # UTC, as recorded
    finished: bool  # went through every row (a killed or stopped run did not)
    done: int  # rows that ended ok, in all runs so far


class Journal:
    """One journal file, locked while open; safe to write from several worker threads."""

    def __init__(self, path: Path, header: Mapping[str, Any]) -> None:
        self.path = path
        self.shown = escape_control(str(path))
        self.last_run: LastRun | None = None
        self._states: dict[int, int] = {}  # packed row key -> state index
        self._legacy: dict[int, tuple[str, int]] = {}  # line -> (input hash, state index)
        self._changes: dict[int, str] = {}  # packed row key -> change id of its last sending
        self._fd = self._open_locked()
        try:
            self._load(header)
        except BaseException:
            os.close(self._fd)
            raise
        import threading

        self._lock = threading.Lock()

    # -- reading ---------------------------------------------------------------------------

    def state(self, row: Row) -> str | None:
        """The last recorded state of this row; ``unknown`` when it was sent with no answer."""
        index = self._states.get(_pack(row.key))
        if index is None and self._legacy:
            recorded = self._legacy.get(row.line)
            if recorded and recorded[0] == digest(row.input):
                index = recorded[1]
        if index is None:
            return None
        state = _STATES[index]
        return UNKNOWN if state == SENT else state

    def change_of(self, row: Row) -> str | None:
        """The id of the row's last sending, which the audit log's records carry too."""
        return self._changes.get(_pack(row.key))

    @property
    def legacy_lines(self) -> dict[int, str]:
        """Rows an older voucherctl recorded by line: line -> input hash, to check the file."""
        return {line: recorded[0] for line, recorded in self._legacy.items()}

    # -- writing ---------------------------------------------------------------------------

    def begin_run(self) -> None:
        self._write({"run": "start", "time": _now(), "pid": os.getpid()})

    def end_run(self, *, finished: bool, reason: str | None = None) -> None:
        self._write({"run": "end", "time": _now(), "finished": finished, "reason": reason})

    def sent(self, row: Row, change: str) -> None:
        """Before the row's request goes out; raises JournalWriteError when it cannot be kept.
        ``change`` names this sending in the audit log as well."""
        self._record(row, SENT, {"change": change})
        self._changes[_pack(row.key)] = change

    def finished(self, row: Row, outcome: str, exit_code: int, error: str | None) -> None:
        self._record(row, outcome, {"exit_code": exit_code, "error": error})

    def close(self) -> None:
        os.close(self._fd)  # closing releases the lock

    def discard(self) -> None:
        """Close and remove a journal no run has used (only its header was written)."""
        if self.last_run is None:
            self.path.unlink(missing_ok=True)  # while locked: no other run is using it
        self.close()

    def _record(self, row: Row, state: str, extra: dict[str, Any]) -> None:
        with self._lock:
            self._write({"row": row.key, "line": row.line, "state": state, **extra})
            self._states[_pack(row.key)] = _STATES.index(state)

    def _write(self, record: Mapping[str, Any]) -> None:
        # A row's error may quote a server that echoed a secret: scrubbed like all output.
        data = (scrub(json.dumps(record, ensure_ascii=False)) + "\n").encode("utf-8")
        try:
            written = os.write(self._fd, data)  # one write per record, appended: whole lines
            if written != len(data):
                raise OSError(28, "the record was cut short (is the disk full?)")
        except OSError as exc:
            raise JournalWriteError(
                f"cannot write to the journal {self.shown}: {exc.strerror or exc}"
            ) from None

    # -- opening ---------------------------------------------------------------------------

    def _open_locked(self) -> int:
        try:
            fd = open_private(self.path, os.O_RDWR | os.O_APPEND)
        except NotRegularFileError:
            raise UsageError(
                f"cannot use {self.shown} as the journal: it is not a regular file; "
                "nothing was sent (give --journal a file path)"
            ) from None
        except OSError as exc:
            raise UsageError(
                f"cannot use {self.shown} as the journal: {exc.strerror or exc}; nothing was "
                "sent (give another --journal PATH, or make room)"
            ) from None
        if not try_lock(fd):
            os.close(fd)
            raise RunInUseError(
                f"the journal {self.shown} is in use by another voucherctl run; nothing was "
                "sent. Wait for that run to end, or give this one another --journal"
            )
        return fd

    def _load(self, header: Mapping[str, Any]) -> None:
        data = _read_all(self._fd)
        torn_header = b"\n" not in data and data.startswith(b'{"voucherctl_journal"')
        if data and not torn_header:
            # Known to be a journal before anything in it is changed: a file the user named by
            # mistake (the input CSV, say) is refused whole, not repaired. (A header a kill cut
            # short is ours, and dropped below.)
            self._check_header(_header_of(data), header)
        if data and not data.endswith(b"\n"):
            # A record a kill cut short: it was being written when the process died, so its
            # row was not sent yet ("sent") or its outcome is unknown ("ok"): drop it whole.
            keep = data.rfind(b"\n") + 1
            os.ftruncate(self._fd, keep)
            data = data[:keep]
        lines = data.split(b"\n")[:-1]
        if not lines:
            self._write({"voucherctl_journal": FORMAT, **header})
            return
        first = self._parse(lines[0], 1)
        self._check_header(first, header)
        started: str | None = None
        finished = False
        for number, text in enumerate(lines[1:], start=2):
            record = self._parse(text, number)
            if record.get("run") == "start":
                started, finished = str(record.get("time")), False
            elif record.get("run") == "end":
                finished = record.get("finished") is True
            else:
                self._load_row(record, number)
        if started is not None or self._legacy:
            done = sum(1 for i in self._states.values() if _STATES[i] == OK)
            done += sum(1 for _, i in self._legacy.values() if _STATES[i] == OK)
            self.last_run = LastRun(started or "an earlier version", finished, done)

    def _load_row(self, record: dict[str, Any], number: int) -> None:
        try:
            state = _STATES.index(record["state"])
            if "row" in record:
                key = _pack(str(record["row"]))
                self._states[key] = state
                if record.get("change"):
                    self._changes[key] = str(record["change"])
            else:  # written by voucherctl 0.1
                self._legacy[int(record["line"])] = (str(record["hash"]), state)
        except (KeyError, TypeError, ValueError):
            raise self._damaged(number, "a record of an unknown shape") from None

    def _check_header(self, first: dict[str, Any], header: Mapping[str, Any]) -> None:
        if first.get("voucherctl_journal") not in (FORMAT, LEGACY_FORMAT):
            raise UsageError(
                f"{self.shown} is not a voucherctl journal (or one of a newer version); nothing "
                "was sent (give --journal another path)"
            )
        for key in ("command", "host", "fixed"):
            if first.get(key) != header[key]:
                raise RunMismatchError(
                    f"the journal {self.shown} records a different run ({key} "
                    f"{escape_control(repr(first.get(key)))}, this run has {header[key]!r}); "
                    "nothing was sent (use another journal file)"
                )

    def _parse(self, text: bytes, number: int) -> dict[str, Any]:
        try:
            record = json.loads(text.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError):
            raise self._damaged(number, "not a JSON record") from None
        if not isinstance(record, dict):
            raise self._damaged(number, "not a JSON object")
        return record

    def _damaged(self, number: int, why: str) -> UsageError:
        return UsageError(
            f"the journal {self.shown} is damaged at line {number} ({why}), so which rows were "
            "sent cannot be told; nothing was sent. Move it away and check the rows it covers "
            "(voucherctl audit) before running again"
        )


def _header_of(data: bytes) -> dict[str, Any]:
    """The first record, or nothing when it is not a JSON object (not a journal, then)."""
    try:
        first = json.loads(data.split(b"\n", 1)[0].decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return {}
    return first if isinstance(first, dict) else {}


def _pack(key: str) -> int:
    """A row key as one int: its hash prefix and its occurrence (memory for a million rows)."""
    row_digest, _, occurrence = key.partition("/")
    return int(row_digest[:15], 16) << 24 | int(occurrence or 0)


def _read_all(fd: int) -> bytes:
    os.lseek(fd, 0, os.SEEK_SET)
    chunks = []
    while chunk := os.read(fd, 1 << 20):
        chunks.append(chunk)
    return b"".join(chunks)


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


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
