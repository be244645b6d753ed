"""Exit codes and the exceptions that carry them.

Every failure voucherctl reports is a :class:`VoucherctlError` whose ``exit_code`` is one of
:class:`ExitCode`. The CLI turns exceptions into exit codes in exactly one place
(``voucherctl.cli.command.error_boundary``); nothing else calls ``sys.exit``.
"""

from enum import IntEnum
from typing import Any, ClassVar


class ExitCode(IntEnum):
    """The exit codes users' scripts rely on (docs/contract.md#exit-codes)."""

    OK = 0
    ERROR = 1  # unexpected error, or the server failed a read (5xx, unreadable answer)
    USAGE = 2  # bad or missing arguments or configuration; nothing was sent
    NOT_FOUND = 3
    AUTH = 4  # authentication or authorization failed, or credentials are missing
    REJECTED = 5  # the API refused the change (no voucher available, already claimed, ...)
    RATE_LIMITED = 6
    OUTCOME_UNKNOWN = 7  # network failure, timeout, or a 5xx answering a change
    BULK_FAILED = 8
    INTERRUPTED = 130


EXIT_CODE_HELP = """\
Exit codes: 0 success; 1 unexpected error or the server failed a read; 2 usage or configuration
error, nothing sent; 3 not found; 4 authentication failed or credentials missing; 5 rejected by
the API; 6 rate limited; 7 network failure, timeout or 5xx on a change (outcome unknown);
8 bulk run with failed rows; 130 interrupted."""


class VoucherctlError(Exception):
    """A failure with a one-line message for the user and the exit code it maps to.

    ``api_error`` names the failure for scripts: the API's own error name or code, or, for a
    refusal of voucherctl's own, the name its class declares (a subclass sets ``api_error =
    "run_finished"``; docs/contract.md#api-error-names lists them). Null is a plain usage error.
    """

    exit_code: ExitCode = ExitCode.ERROR
    api_error: str | None = None
    # Every name a subclass declares, to its class: the documented list is checked against it.
    own_names: ClassVar[dict[str, type["VoucherctlError"]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "api_error" in cls.__dict__ and cls.api_error is not None:
            VoucherctlError.own_names[cls.api_error] = cls

    def __init__(
        self,
        message: str,
        *,
        exit_code: ExitCode | None = None,
        http_status: int | None = None,
        api_error: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.http_status = http_status  # of the answer that failed, when one came
        if api_error is not None:  # the API's own name or code for the failure
            self.api_error = api_error
        if exit_code is not None:
            self.exit_code = exit_code


class UsageError(VoucherctlError):
    """Bad arguments or configuration, found before anything was sent."""

    exit_code = ExitCode.USAGE


class RunFinishedError(UsageError):
    """The same run already went through every row: nothing to do (--resume, --again)."""

    api_error = "run_finished"


class DoneElsewhereError(UsageError):
    """Every row of the input was done before by another run on the same host."""

    api_error = "rows_done_elsewhere"


class RunInUseError(UsageError):
    """Another voucherctl is running the same run right now."""

    api_error = "run_in_use"


class RunMismatchError(UsageError):
    """The named run (or journal) belongs to another command, host or input."""

    api_error = "run_mismatch"


class InvalidRowsError(UsageError):
    """Rows of a --from file are invalid, and --skip-invalid was not given."""

    api_error = "invalid_rows"


class ProfileUnknownError(UsageError):
    """--profile names a profile the config file does not define."""

    api_error = "profile_unknown"


class NotConfiguredError(UsageError):
    """No host is configured for the API the command needs."""

    api_error = "not_configured"


class ProductionGuardError(UsageError):
    """A protected profile's change was not confirmed."""

    api_error = "production_guard"


class RowsFailedError(VoucherctlError):
    """A bulk run ended with rows failed or unknown: the error object scripts read under
    ``-o json|jsonl`` (docs/contract.md#bulk-runs)."""

    exit_code = ExitCode.BULK_FAILED
    api_error = "rows_failed"


class OutputClosedError(VoucherctlError):
    """stdout stopped taking a bulk run's rows: no more rows started."""

    api_error = "output_closed"


class LedgerLostError(VoucherctlError):
    """The ledger stopped accepting records during a bulk run: no more rows started."""

    api_error = "ledger_lost"


class NotStartedError(VoucherctlError):
    """A bulk row the run did not start, because the run stopped first (printed ``skipped``)."""

    api_error = "not_started"


class DoneElsewhereRowError(VoucherctlError):
    """A bulk row skipped because another run or command did it (exit 0: nothing wrong)."""

    exit_code = ExitCode.OK
    api_error = "done_elsewhere"


class NotFoundError(VoucherctlError):
    exit_code = ExitCode.NOT_FOUND
    api_error = "not_found"  # when the API names nothing


class AuthError(VoucherctlError):
    """Credentials are missing, unusable or refused."""

    exit_code = ExitCode.AUTH
    api_error = "auth_failed"  # when the API names nothing


class CredentialsMissingError(AuthError):
    """No credentials were found for the API (variables, keyring)."""

    api_error = "credentials_missing"


class RejectedError(VoucherctlError):
    exit_code = ExitCode.REJECTED
    api_error = "rejected"  # when the API names nothing


class RateLimitedError(VoucherctlError):
    """The server kept refusing for rate limiting after the retries (420, 429)."""

    exit_code = ExitCode.RATE_LIMITED
    api_error = "rate_limited"


class QuotaSpentError(RateLimitedError):
    """The API's quota is spent until ``resets_at`` (epoch seconds), later than ``--max-wait``.

    The request was not carried out: either it was never sent, because the quota the last
    answer reported had nothing left (``sent`` False), or the server refused it (420/429,
    ``sent`` True). A bulk run starts no more rows on it (docs/contract.md#row-records-and-summary).
    """

    api_error = "quota_spent"

    def __init__(
        self, message: str, *, resets_at: float, sent: bool, http_status: int | None = None
    ) -> None:
        super().__init__(message, http_status=http_status)
        self.resets_at = resets_at
        self.sent = sent


class OutcomeUnknownError(VoucherctlError):
    """A change may or may not have reached the server: it must not be resent blindly."""

    exit_code = ExitCode.OUTCOME_UNKNOWN
    api_error = "outcome_unknown"  # e.g. a 5xx answering a change, when the API names nothing


class TimedOutError(OutcomeUnknownError):
    """No complete answer came within --timeout (a read is tried again first)."""

    api_error = "timeout"


class ConnectionLostError(OutcomeUnknownError):
    """The connection failed or was dropped after the request may have left."""

    api_error = "connection_lost"


class NotSentError(VoucherctlError):
    """The host could not be reached (refused, not resolved, no TLS handshake): nothing left this
    machine, so the change certainly was not made and may be sent again."""

    exit_code = ExitCode.OUTCOME_UNKNOWN  # 7: a network failure
    api_error = "unreachable"


class ServerError(VoucherctlError):
    """The server failed a read or answered something unreadable."""

    exit_code = ExitCode.ERROR
    api_error = "server_error"  # a 5xx answering a read, when the API names nothing


class UnreadableAnswerError(ServerError):
    """An answer that is not the API's JSON: an HTML page, a truncated body, too large.
    Answering a change, it is raised as an OutcomeUnknownError with this name (exit 7)."""

    api_error = "unreadable_answer"


class UnexpectedAnswerError(ServerError):
    """The API's JSON, but a field voucherctl reads or prints has the wrong type. Answering a
    change, it is raised as an OutcomeUnknownError with this name (exit 7)."""

    api_error = "unexpected_answer"


class RedirectRefusedError(ServerError):
    """The server answered a redirect, which voucherctl never follows."""

    api_error = "redirect_refused"


class SignatureInvalidError(ServerError):
    """A signed answer whose signature does not match the sign secret (exit 7 on a change)."""

    api_error = "signature_invalid"


def error_object(
    message: str, exit_code: int, *, http_status: int | None = None, api_error: str | None = None
) -> dict[str, Any]:
    """The error object scripts read, the same everywhere (docs/contract.md#errors): a command's
    error is ``{"error": error_object(...)}``, a bulk row's ``error`` is the object itself."""
    return {
        "message": message,
        "exit_code": int(exit_code),
        "http_status": http_status,
        "api_error": api_error,
    }


def exit_code_for_status(status: int, *, change: bool) -> ExitCode:
    """The exit code for an HTTP error status that the API's own error text did not settle."""
    if status in (401, 403):
        return ExitCode.AUTH
    if status == 404:
        return ExitCode.NOT_FOUND
    if status in (420, 429):
        return ExitCode.RATE_LIMITED
    if status >= 500:
        return ExitCode.OUTCOME_UNKNOWN if change else ExitCode.ERROR
    return ExitCode.REJECTED


def error_class_for(code: ExitCode) -> type[VoucherctlError]:
    """The exception class that stands for an exit code."""
    return _CLASS_BY_CODE.get(code, VoucherctlError)


_CLASS_BY_CODE: dict[ExitCode, type[VoucherctlError]] = {
    ExitCode.USAGE: UsageError,
    ExitCode.NOT_FOUND: NotFoundError,
    ExitCode.AUTH: AuthError,
    ExitCode.REJECTED: RejectedError,
    ExitCode.RATE_LIMITED: RateLimitedError,
    ExitCode.OUTCOME_UNKNOWN: OutcomeUnknownError,
    ExitCode.ERROR: ServerError,
}


def bad_answer(
    kind: type[ServerError], message: str, *, change: bool, http_status: int | None = None
) -> VoucherctlError:
    """An answer that cannot be used, named by ``kind``: that error for a read; for a change,
    whose outcome is then unknown, an :class:`OutcomeUnknownError` (exit 7) with the same name."""
    if change:
        return OutcomeUnknownError(message, http_status=http_status, api_error=kind.api_error)
    return kind(message, http_status=http_status)
