"""Every change voucherctl makes, single or bulk, recorded in the ledger before and after.

The records answer support's question "who handed this voucher out, and when"
(docs/contract.md#the-ledger): OS user, machine, profile, host, command, the request's
identifiers and the outcome. Requests carry no secrets, so neither do the records.
``voucherctl audit`` reads them (``voucherctl.storage.reading``).
"""

import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from voucherctl.changes.operation import Client, Operation
from voucherctl.core.errors import ExitCode, NotSentError, VoucherctlError

if TYPE_CHECKING:
    from voucherctl.storage.ledger import Ledger
    from voucherctl.ui.environment import Environment

WAIT_SECONDS = 0.05  # between looks at an identical request in flight elsewhere


class AuditLog:
    """The ledger, opened when first needed (``ensure_writable`` opens it up front)."""

    def __init__(self, env: "Environment", *, command: str) -> None:
        self._env = env
        self.command = command
        self._ledger: Ledger | None = None

    @property
    def ledger(self) -> "Ledger":
        if self._ledger is None:
            from voucherctl.storage.location import open_ledger

            self._ledger = open_ledger(self._env.environ, self._env.profile.name)
        return self._ledger

    def ensure_writable(self) -> None:
        """Open the ledger now, so that a change is never made that could not be recorded.

        Raises LedgerError (exit 2, nothing was sent yet) when it cannot be written.
        """
        _ = self.ledger

    def close(self) -> None:
        if self._ledger is not None:
            self._ledger.close()


class AuditWriteError(VoucherctlError):
    """The ledger stopped accepting records: the change was not sent."""

    exit_code = ExitCode.USAGE


def error_object(exc: VoucherctlError | None, message: str | None, code: int) -> dict[str, Any]:
    """A failure as the error object (docs/contract.md#errors)."""
    return {
        "message": exc.message if exc else message,
        "exit_code": int(exc.exit_code) if exc else code,
        "http_status": exc.http_status if exc else None,
        "api_error": exc.api_error if exc else None,
    }


def audit_calls(
    operation: Operation[Client],
    log: AuditLog,
    host: Callable[[Client], str],
    warn: Callable[[str], None],
) -> Operation[Client]:
    """``operation`` whose every call is recorded before it is sent and with its outcome after.

    A change is not sent unless its ``sent`` record was written, nor while an identical
    request is in flight elsewhere. An outcome that cannot be written never alters what the
    change is reported to have done (a warning says so), and no change is sent after it.
    """
    from voucherctl.storage.engines import LedgerError
    from voucherctl.storage.ledger import Request, digest

    broken: list[str] = []

    def settle(change: int, outcome: str, code: int, error: Any, ids: Any = None) -> None:
        try:
            log.ledger.settle(change, outcome, code, error, identifiers=ids)
        except LedgerError as failure:
            if not broken:
                broken.append(f"the ledger stopped accepting records ({failure.message})")
                warn(f"{broken[0]}; the change was made, but no more changes are sent")

    def call(api: Client, request: Mapping[str, str]) -> dict[str, Any]:
        if broken:
            raise AuditWriteError(f"{broken[0]}; nothing was sent")
        wanted = Request(operation.command, host(api), dict(request), digest(dict(request)))
        try:
            decision = log.ledger.begin(wanted)
            while decision.kind == "wait":
                time.sleep(WAIT_SECONDS)
                decision = log.ledger.begin(wanted)
        except LedgerError as exc:
            raise AuditWriteError(
                f"{exc.message}; nothing was sent", api_error=exc.api_error
            ) from None
        assert decision.change is not None
        try:
            result = operation.call(api, request)
        except VoucherctlError as exc:
            settle(decision.change, _outcome(exc), int(exc.exit_code), error_object(exc, None, 0))
            raise
        kept = {**request, **operation.recorded(result)} if operation.recorded else None
        settle(decision.change, "ok", int(ExitCode.OK), None, kept)
        return result

    return replace(operation, call=call)


def _outcome(exc: VoucherctlError) -> str:
    """A failed call's outcome: a change that may have been made is unknown."""
    if exc.exit_code == ExitCode.OUTCOME_UNKNOWN and not isinstance(exc, NotSentError):
        return "unknown"
    return "failed"
