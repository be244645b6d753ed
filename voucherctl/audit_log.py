"""The audit log: every change voucherctl makes, single or bulk, one JSON line each.

It lives in the data directory (``audit.jsonl``) and answers support's question "who handed
this voucher out, and when". Records name the OS user, profile, host, command, the request's
identifiers and the outcome; requests carry no secrets, so neither does the log.
"""

import getpass
import json
import threading
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, TextIO

from voucherctl import config
from voucherctl.redact import scrub

FILE_NAME = "audit.jsonl"


def log_path(environ: Mapping[str, str]) -> Path:
    return config.data_dir(environ) / FILE_NAME


class AuditLog:
    """Appends records; safe to share between the workers of a bulk run."""

    def __init__(self, path: Path, *, profile: str, host: str, command: str) -> None:
        self.path = path
        self._context = {"profile": profile, "host": host, "command": command}
        self._lock = threading.Lock()
        self._file: TextIO | None = None
        try:
            self._user = getpass.getuser()
        except (KeyError, OSError):  # no name for this uid, e.g. in a bare container
            self._user = "unknown"

    def record(
        self, identifiers: Mapping[str, str], outcome: str, exit_code: int, error: str | None
    ) -> None:
        entry = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "user": self._user,
            **self._context,
            "identifiers": dict(identifiers),
            "outcome": outcome,
            "exit_code": exit_code,
            "error": scrub(error) if error else None,
        }
        line = json.dumps(entry, ensure_ascii=False) + "\n"
        with self._lock:
            if self._file is None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._file = self.path.open("a", encoding="utf-8")
            # One write per record to a file opened for appending, flushed at once: concurrent
            # voucherctl processes interleave whole lines, never parts of them.
            self._file.write(line)
            self._file.flush()


def read(
    path: Path, *, since: float | None = None, command: str | None = None
) -> Iterator[dict[str, Any]]:
    """Records in the order written, optionally only those since a time (epoch seconds)."""
    try:
        handle = path.open(encoding="utf-8")
    except FileNotFoundError:
        return
    with handle:
        for line in handle:
            try:
                entry = json.loads(line)
            except ValueError:
                continue  # a line cut short by a crash
            if not isinstance(entry, dict):
                continue
            if command and entry.get("command") != command:
                continue
            if since is not None and _epoch(str(entry.get("time", ""))) < since:
                continue
            yield entry


def _epoch(stamp: str) -> float:
    import calendar

    try:
        return calendar.timegm(time.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ"))
    except ValueError:
        return 0.0
