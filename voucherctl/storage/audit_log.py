"""The audit log: every change voucherctl makes, single or bulk, one JSON line each.

It lives in the data directory (``audit.jsonl``) and answers support's question "who handed
this voucher out, and when". Records name the OS user, profile, host, command, the request's
identifiers and the outcome; requests carry no secrets, so neither does the log.
"""

import getpass
import json
import os
import secrets
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from voucherctl.changes.operation import Client, Operation
from voucherctl.core.errors import ExitCode, NotSentError, UsageError, VoucherctlError
from voucherctl.core.redact import scrub
from voucherctl.core.text import escape_control
from voucherctl.storage import config
from voucherctl.storage.private_files import open_private

FILE_NAME = "audit.jsonl"

# The id of the change being made on this thread, when the caller (a bulk run's journal) has
# one to tie the audit log's records to its own.
CHANGE_ID: ContextVar[str | None] = ContextVar("voucherctl_change_id", default=None)


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
        exit_code: int | None,
        error: str | None,
        *,
        change: str,
    ) -> None:
        """Append one record of a change: ``sent`` before its request goes out, its outcome
        after. ``change`` ties the two (and the journal's record of a bulk row) together.
        Raises OSError when the log cannot take it (a full disk)."""
        entry = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "change": change,
            "user": self._user,
            "profile": self._context["profile"],
            "host": host,
            "command": self._context["command"],
            "identifiers": dict(identifiers),
            "outcome": outcome,
            "exit_code": exit_code,
            "error": scrub(error) if error else None,
        }
        data = (scrub(json.dumps(entry, ensure_ascii=False)) + "\n").encode("utf-8")
        with self._lock:
            # One write per record to a file opened for appending: concurrent voucherctl
            # processes interleave whole lines, never parts of them.
            if os.write(self._open(), data) != len(data):
                raise OSError(28, "the record was cut short (is the disk full?)")

    def _open(self) -> int:
        if self._fd is None:
            fd = open_private(self.path, os.O_RDWR | os.O_APPEND)
            size = os.fstat(fd).st_size
            if size and os.pread(fd, 1, size - 1) != b"\n":
                # A record cut short (a full disk, a kill): end its line, so that the next
                # record is not glued onto it and lost with it.
                os.write(fd, b"\n")
            self._fd = fd
        return self._fd


class AuditWriteError(VoucherctlError):
    """The audit log stopped accepting records: the change was not sent."""

    exit_code = ExitCode.USAGE


def audit_calls(
    operation: Operation[Client],
    log: AuditLog,
    host: Callable[[Client], str],
    warn: Callable[[str], None],
) -> Operation[Client]:
    """``operation`` whose every call is recorded before it is sent and with its outcome after.

    A change is not sent unless its ``sent`` record was written. An outcome that cannot be
    written never alters what the change is reported to have done (a warning says so), and no
    change is sent after it.
    """
    broken: list[str] = []

    def write(
        api: Client, request: Mapping[str, str], change: str, outcome: str, **kw: Any
    ) -> None:
        try:
            log.record(host(api), request, outcome, change=change, **kw)
        except OSError as failure:
            why = failure.strerror or failure
            reason = f"the audit log {log.path} stopped accepting records ({why})"
            if outcome == "sent":
                raise AuditWriteError(f"{reason}; nothing was sent") from None
            if not broken:
                broken.append(reason)
                warn(f"{reason}; the change was made, but no more changes are sent")

    def call(api: Client, request: Mapping[str, str]) -> dict[str, Any]:
        if broken:
            raise AuditWriteError(f"{broken[0]}; nothing was sent")
        change = CHANGE_ID.get() or secrets.token_hex(8)
        write(api, request, change, "sent", exit_code=None, error=None)
        try:
            result = operation.call(api, request)
        except VoucherctlError as exc:
            write(
                api, request, change, _outcome(exc), exit_code=int(exc.exit_code), error=exc.message
            )
            raise
        kept = {**request, **operation.recorded(result)} if operation.recorded else request
        write(api, kept, change, "ok", exit_code=int(ExitCode.OK), error=None)
        return result

    return replace(operation, call=call)


def _outcome(exc: VoucherctlError) -> str:
    """A failed call's outcome: a change that may have been made is unknown."""
    if exc.exit_code == ExitCode.OUTCOME_UNKNOWN and not isinstance(exc, NotSentError):
        return "unknown"
    return "failed"


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
            (_host(self.host), [_host(entry.get("host"))]),
            (self.user, [ids.get(key) for key in USER_KEYS]),
            (self.voucher, [ids.get(key) for key in VOUCHER_KEYS]),
            (self.group, [ids.get(key) for key in GROUP_KEYS]),
        )
        if any(want is not None and want not in map(str, found) for want, found in wanted):
            return False
        return self.since is None or _epoch(str(entry.get("time", ""))) >= self.since


def _host(url: object) -> str | None:
    """A host as filters compare it: the one spelling base URLs are given (lower case, no
    default port, no trailing slash); "sandbox" and unreadable values as they are."""
    if not isinstance(url, str):
        return None
    from voucherctl.storage import config

    try:
        return config.validate_base_url(url, what="host")
    except VoucherctlError:
        return url


def read(path: Path, where: Filter, *, limit: int | None = None) -> list[dict[str, Any]]:
    """The changes that match, newest first; at most ``limit`` of them.

    A change is shown once: by its outcome, or, when no outcome was recorded after its
    ``sent`` record (the process died, or the log filled), as ``unknown``.
    """
    changes: dict[str, dict[str, Any]] = {}  # change id -> its latest record, in log order
    for number, entry in enumerate(_records(path)):
        if not where.matches(entry):
            continue
        key = str(entry.get("change") or f"line {number}")
        if entry.get("outcome") == "sent":
            entry = {**entry, "outcome": "unknown", "error": "no outcome was recorded"}
        changes.pop(key, None)
        changes[key] = entry
    newest = list(changes.values())[::-1]
    return newest[:limit] if limit else newest


def outcomes(path: Path) -> dict[str, str]:
    """Change id -> the outcome the log has for it (``sent`` when none came back)."""
    return {
        str(entry["change"]): str(entry.get("outcome"))
        for entry in _records(path)
        if entry.get("change")
    }


def done_requests(path: Path, command: str, host: str) -> set[str]:
    """Hashes of the requests ``command`` carried out on ``host`` (outcome ok), as bulk rows
    hash theirs: what a new run must not send again by accident."""
    from voucherctl.bulk.rows import digest

    return {
        digest(entry["identifiers"])
        for entry in _records(path)
        if entry.get("outcome") == "ok"
        and entry.get("command") == command
        and entry.get("host") == host
        and isinstance(entry.get("identifiers"), dict)
    }


def _records(path: Path) -> Iterator[dict[str, Any]]:
    try:
        handle = path.open(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return
    with handle:
        for line in handle:
            try:
                entry = json.loads(line)
            except ValueError:
                continue  # a line cut short by a crash or a full disk
            if isinstance(entry, dict):
                yield entry


def _epoch(stamp: str) -> float:
    import calendar

    try:
        return calendar.timegm(time.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ"))
    except ValueError:
        return 0.0
