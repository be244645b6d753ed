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
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
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


CHANGE_COMMANDS = (
    "handout",
    "claim",
    "unclaim",
    "lock",
    "unlock",
    "generate",
    "codes",
    "redeem",
)
# Which identifiers of a request name a user, a voucher, a voucher group.
USER_KEYS = (
    "userId",
    "user_id",
    "member_number",
    "username",
    "authentication_point_identifier",
    "auxiliary_identifier",
)
VOUCHER_KEYS = ("voucher_key", "voucher_id", "third_party_id", "voucherCode", "voucherId")
GROUP_KEYS = ("voucherGroupId", "group")


@dataclass(frozen=True)
class Filter:
    """Which records to show; every field given must match."""

    since: float | None = None  # epoch seconds
    command: str | None = None
    user: str | None = None
    voucher: str | None = None
    group: str | None = None
    profile: str | None = None
    host: str | None = None

    def matches(self, entry: dict[str, Any]) -> bool:
        ids = entry.get("identifiers") if isinstance(entry.get("identifiers"), dict) else {}
        assert isinstance(ids, dict)
        wanted = (
            (self.command, [entry.get("command")]),
            (self.profile, [entry.get("profile")]),
            (self.host, [entry.get("host")]),
            (self.user, [ids.get(key) for key in USER_KEYS]),
            (self.voucher, [ids.get(key) for key in VOUCHER_KEYS]),
            (self.group, [ids.get(key) for key in GROUP_KEYS]),
        )
        if any(want is not None and want not in map(str, found) for want, found in wanted):
            return False
        return self.since is None or _epoch(str(entry.get("time", ""))) >= self.since


def read(path: Path, where: Filter, *, limit: int | None = None) -> list[dict[str, Any]]:
    """The records that match, newest first; at most ``limit`` of them."""
    newest: deque[dict[str, Any]] = deque(maxlen=limit)
    try:
        handle = path.open(encoding="utf-8")
    except FileNotFoundError:
        return []
    with handle:
        for line in handle:
            try:
                entry = json.loads(line)
            except ValueError:
                continue  # a line cut short by a crash
            if isinstance(entry, dict) and where.matches(entry):
                newest.append(entry)
    return list(reversed(newest))


def _epoch(stamp: str) -> float:
    import calendar

    try:
        return calendar.timegm(time.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ"))
    except ValueError:
        return 0.0
