"""The audit log: every change voucherctl makes, single or bulk, one JSON line each.

It lives in the data directory (``audit.jsonl``) and answers support's question "who handed
this voucher out, and when". Records name the OS user, profile, host, command, the request's
identifiers and the outcome; requests carry no secrets, so neither does the log.
"""

import getpass
import json
import os
import threading
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from voucherctl import config
from voucherctl.errors import UsageError
from voucherctl.private_files import open_private
from voucherctl.redact import scrub
from voucherctl.text import escape_control

FILE_NAME = "audit.jsonl"


def log_path(environ: Mapping[str, str]) -> Path:
    return config.data_dir(environ) / FILE_NAME


class AuditLog:
    """Appends records; safe to share between the workers of a bulk run."""

    def __init__(self, path: Path, *, profile: str, command: str) -> None:
        self.path = path
        self._context = {"profile": profile, "command": command}
        self._lock = threading.Lock()
        self._fd: int | None = None
        try:
            self._user = getpass.getuser()
        except (KeyError, OSError):  # no name for this uid, e.g. in a bare container
            self._user = "unknown"

    def ensure_writable(self) -> None:
        """Open the log now, so that a change is never made that could not be audited.

        Raises UsageError (nothing was sent yet) when the log cannot be written.
        """
        try:
            self._open()
        except OSError as exc:
            raise UsageError(
                f"cannot write the audit log {escape_control(str(self.path))} "
                f"({exc.strerror or exc}); nothing was sent. Make the data directory writable, "
                "or point VOUCHERCTL_DATA_DIR at one that is"
            ) from None

    def record(
        self,
        host: str,
        identifiers: Mapping[str, str],
        outcome: str,
        exit_code: int,
        error: str | None,
    ) -> None:
        """Append one change; raises OSError when the log cannot take it (a full disk)."""
        entry = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "user": self._user,
            "profile": self._context["profile"],
            "host": host,
            "command": self._context["command"],
            "identifiers": dict(identifiers),
            "outcome": outcome,
            "exit_code": exit_code,
            "error": scrub(error) if error else None,
        }
        data = (json.dumps(entry, ensure_ascii=False) + "\n").encode("utf-8")
        with self._lock:
            # One write per record to a file opened for appending: concurrent voucherctl
            # processes interleave whole lines, never parts of them.
            if os.write(self._open(), data) != len(data):
                raise OSError(28, "the record was cut short (is the disk full?)")

    def _open(self) -> int:
        if self._fd is None:
            self._fd = open_private(self.path, os.O_WRONLY | os.O_APPEND)
        return self._fd


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
