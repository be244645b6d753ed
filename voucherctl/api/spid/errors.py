"""SPiD's failures in the user's words, with the exit code docs/contract.md#exit-codes gives
them: the container's error or the flat OAuth error, or an answer SPiD would not give."""

from typing import TYPE_CHECKING, Any

from voucherctl.core.errors import ExitCode, VoucherctlError, error_class_for, exit_code_for_status

if TYPE_CHECKING:
    from voucherctl.api.transport.http import Response

# 404s about the client, not the thing asked for: exit 4, not 3 (docs/contract.md#exit-codes).
CLIENT_404_TEXTS = ("unknown client id", "client id mismatch")


def error_for(
    response: "Response", what: str, change: bool, refuse: bool = False
) -> VoucherctlError:
    text = failure_text(response)
    status = response.status
    if not text:
        # Not an answer SPiD would give: a proxy's error page, a truncated body, ...
        if status < 300 and change:
            return error_class_for(ExitCode.OUTCOME_UNKNOWN)(
                f"{what}: SPiD's answer was unreadable ({response.describe()}); "
                "the change may or may not have been made"
            )
        code = exit_code_for_status(status, change=change) if status >= 400 else ExitCode.ERROR
        message = f"{what}: unreadable answer ({response.describe()})"
        if code == ExitCode.OUTCOME_UNKNOWN:  # a 5xx page answering a change
            message += "; the change may or may not have been made"
        return error_class_for(code)(message, http_status=status)
    code = exit_code_for_status(status, change=change)
    if status == 404 and any(t in text.lower() for t in CLIENT_404_TEXTS):
        code = ExitCode.AUTH
    elif status == 404 and refuse and "not found" not in text.lower():
        code = ExitCode.REJECTED
    message = f"{what}: HTTP {status}: {text}"
    if code == ExitCode.OUTCOME_UNKNOWN:
        message += "; the change may or may not have been made"
    return error_class_for(code)(message, http_status=status, api_error=error_name(response))


def error_name(response: "Response") -> str | None:
    """SPiD's name or code for a failure: the OAuth error (``invalid_client``), or the
    container error's type and code (``ApiException 404``)."""
    body = json_or_none(response)
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, str):
        return error
    if isinstance(error, dict):
        parts = [str(error[key]) for key in ("type", "code") if error.get(key) is not None]
        return " ".join(parts) or None
    return None


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
