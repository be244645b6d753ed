"""Exit codes and the exceptions that carry them.

Every failure voucherctl reports is a :class:`VoucherctlError` whose ``exit_code`` is one of
:class:`ExitCode`. The CLI turns exceptions into exit codes in exactly one place
(``voucherctl.cli.command.error_boundary``); nothing else calls ``sys.exit``.
"""

from enum import IntEnum


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
    """A failure with a one-line message for the user and the exit code it maps to."""

    exit_code: ExitCode = ExitCode.ERROR

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
        self.api_error = api_error  # the API's own name or code for the failure
        if exit_code is not None:
            self.exit_code = exit_code


class UsageError(VoucherctlError):
    """Bad arguments or configuration, found before anything was sent."""

    exit_code = ExitCode.USAGE


class NotFoundError(VoucherctlError):
    exit_code = ExitCode.NOT_FOUND


class AuthError(VoucherctlError):
    """Credentials are missing, unusable or refused."""

    exit_code = ExitCode.AUTH


class RejectedError(VoucherctlError):
    exit_code = ExitCode.REJECTED


class RateLimitedError(VoucherctlError):
    exit_code = ExitCode.RATE_LIMITED


class QuotaSpentError(RateLimitedError):
    """The API's quota is spent until ``resets_at`` (epoch seconds), later than ``--max-wait``.

    The request was not carried out: either it was never sent, because the quota the last
    answer reported had nothing left (``sent`` False), or the server refused it (420/429,
    ``sent`` True). A bulk run starts no more rows on it (docs/contract.md#row-records-and-summary).
    """

    def __init__(self, message: str, *, resets_at: float, sent: bool) -> None:
        super().__init__(message)
        self.resets_at = resets_at
        self.sent = sent


class OutcomeUnknownError(VoucherctlError):
    """A change may or may not have reached the server: it must not be resent blindly."""

    exit_code = ExitCode.OUTCOME_UNKNOWN


class NotSentError(VoucherctlError):
    """The host could not be reached (refused, not resolved, no TLS handshake): nothing left this
    machine, so the change certainly was not made and may be sent again."""

    exit_code = ExitCode.OUTCOME_UNKNOWN  # 7: a network failure


class ServerError(VoucherctlError):
    """The server failed a read or answered something unreadable."""

    exit_code = ExitCode.ERROR


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
