"""SPiD's failures in the user's words, with the exit code docs/contract.md#exit-codes gives
them: the container's error or the flat OAuth error, or an answer SPiD would not give."""

from typing import TYPE_CHECKING, Any

from voucherctl.core.errors import (
    ExitCode,
    UnreadableAnswerError,
    VoucherctlError,
    bad_answer,
    error_class_for,
    exit_code_for_status,
)

if TYPE_CHECKING:
    from voucherctl.api.transport.http import Response

# 404s about the client, not the thing asked for: exit 4, not 3 (docs/contract.md#exit-codes).
CLIENT_404_TEXTS = ("unknown client id", "client id mismatch")


def error_for(
    response: "Response", what: str, change: bool, refuse: bool = False
) -> VoucherctlError:
    text = failure_text(response)
    # A container's own code stands for the HTTP status when it is the worse of the two: SPiD
    # may wrap an error in an HTTP 200 (docs/contract.md#wire-facts-spid).
    status = max(response.status, container_code(response))
    if not text:
        # Not an answer SPiD would give: a proxy's error page, a truncated body, ...
        if status < 400:
            message = f"{what}: unreadable answer ({response.describe()})"
            if change:
                message += "; the change may or may not have been made"
            return bad_answer(UnreadableAnswerError, message, change=change, http_status=status)
        code = exit_code_for_status(status, change=change)
        message = f"{what}: unreadable answer ({response.describe()})"
        if code == ExitCode.OUTCOME_UNKNOWN:  # a 5xx page answering a change
            message += "; the change may or may not have been made"
        return error_class_for(code)(message, http_status=response.status)
    code = exit_code_for_status(status, change=change)
    if status == 404 and any(t in text.lower() for t in CLIENT_404_TEXTS):
        code = ExitCode.AUTH
    elif status == 404 and refuse and "not found" not in text.lower():
        code = ExitCode.REJECTED
    message = f"{what}: HTTP {status}: {text}"
    if status != response.status:
        message = f"{what}: SPiD error {status} (in an HTTP {response.status} answer): {text}"
    if code == ExitCode.OUTCOME_UNKNOWN:
        message += "; the change may or may not have been made"
    return error_class_for(code)(
        message, http_status=response.status, api_error=error_name(response)
    )


def error_name(response: "Response") -> str | None:
    """SPiD's name for a failure, as its docs give it: the OAuth error (``invalid_client_id``),
    or the container error's type (``ApiException``); None when it gives none."""
    body = json_or_none(response)
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        error = error.get("type")
    return error if isinstance(error, str) and error else None


def container_code(response: "Response") -> int:
    """The code a container (or its error) reports, 0 when it reports none usable."""
    body = json_or_none(response)
    if not isinstance(body, dict):
        return 0
    error = body.get("error")
    codes = [body.get("code"), error.get("code") if isinstance(error, dict) else None]
    found = [int(c) for c in codes if isinstance(c, int | str) and str(c).isdigit()]
    return max((c for c in found if 100 <= c <= 599), default=0)


def failure_text(response: "Response") -> str:
    """The API's own words for a failure: the container's error or the OAuth error."""
    body = json_or_none(response)
    if not isinstance(body, dict):
        return ""
    error = body.get("error")
    if isinstance(error, dict):
        return str(error.get("description") or error.get("message") or error.get("type") or "")
    if isinstance(error, str):  # flat OAuth error
        return f"{error}: {body.get('error_description', '')}".rstrip(": ")
    return ""


def json_or_none(response: "Response") -> Any:
    try:
        return response.json()
    except ValueError:
        return None
