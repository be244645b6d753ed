"""The journal: an append-only record of every row's outcome, so a run can be killed and resumed.

Each row is written as ``sent`` before its request goes out and with its outcome after it came
back. Records are flushed to the operating system one by one (no fsync: a killed process loses
nothing that way; a power cut may). A row whose last record is ``sent`` was in flight when the
run died: its outcome is unknown, and it is not resent unless the user says so.

The first line names the command, host and fixed options; a journal of another run is refused.
Rows are known by line and content hash: an edited row is a new row.
"""

import json
import threading
from pathlib import Path
from typing import Any

from voucherctl.bulk.rows import Row
from voucherctl.errors import UsageError

FORMAT = 1
SENT, OK, FAILED, UNKNOWN = "sent", "ok", "failed", "unknown"
_STATE_CODES = {SENT: 1, OK: 2, FAILED: 3, UNKNOWN: 4}
_STATE_NAMES = {code: name for name, code in _STATE_CODES.items()}


class Journal:
    """One run's journal file; safe to write from several worker threads."""

    def __init__(self, path: Path, header: dict[str, Any]) -> None:
        self.path = path
        self._lock = threading.Lock()
        # line -> (hash prefix << 3 | state): a million rows fit in modest memory.
        self._states: dict[int, int] = {}
        self.resumed = path.exists() and path.stat().st_size > 0
        if self.resumed:
            self._load(header)
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file = path.open("a", encoding="utf-8")
        if self.resumed and not _ends_with_newline(path):
            self._file.write("\n")  # close a record a kill cut short before appending
        if not self.resumed:
            self._write({"voucherctl_journal": FORMAT, **header})

    def state(self, row: Row) -> str | None:
        """The last recorded state of this row (same line, same content), if any."""
        packed = self._states.get(row.line)
        if packed is None or packed >> 3 != _prefix(row.digest):
            return None
        state = _STATE_NAMES[packed & 7]
        return UNKNOWN if state == SENT else state

    def sent(self, row: Row) -> None:
        self._record(row, SENT, {})

    def finished(self, row: Row, outcome: str, exit_code: int, error: str | None) -> None:
        self._record(row, outcome, {"exit_code": exit_code, "error": error})

    def close(self) -> None:
        with self._lock:
            self._file.close()

    def _record(self, row: Row, state: str, extra: dict[str, Any]) -> None:
        with self._lock:
            self._write({"line": row.line, "hash": row.digest, "state": state, **extra})
            self._states[row.line] = _prefix(row.digest) << 3 | _STATE_CODES[state]

    def _write(self, record: dict[str, Any]) -> None:
        self._file.write(json.dumps(record, ensure_ascii=False) + "\n")
        self._file.flush()  # to the OS before the request is sent: survives kill -9

    def _load(self, header: dict[str, Any]) -> None:
        with self.path.open(encoding="utf-8") as handle:
            first = _parse(handle.readline())
            if not first or first.get("voucherctl_journal") != FORMAT:
                raise UsageError(f"--journal {self.path} is not a voucherctl journal")
            for key in ("command", "host", "fixed"):
                if first.get(key) != header[key]:
                    raise UsageError(
                        f"--journal {self.path} records a different run ({key} "
                        f"{first.get(key)!r}, this run has {header[key]!r}); "
                        "use another journal file"
                    )
            for text in handle:
                record = _parse(text)
                if record is None:
                    continue  # a line cut short by a kill: its row was never sent
                try:
                    line, state = int(record["line"]), _STATE_CODES[record["state"]]
                    self._states[line] = _prefix(str(record["hash"])) << 3 | state
                except (KeyError, TypeError, ValueError):
                    continue


def _ends_with_newline(path: Path) -> bool:
    with path.open("rb") as handle:
        handle.seek(-1, 2)
        return handle.read(1) == b"\n"


def _prefix(row_digest: str) -> int:
    return int(row_digest[:15], 16)


def _parse(text: str) -> dict[str, Any] | None:
    try:
        record = json.loads(text)
    except ValueError:
        return None
    return record if isinstance(record, dict) else None
