"""SPiD's answer envelope, the "SPP Container"."""

from __future__ import annotations

from dataclasses import dataclass

from voucherctl.sandbox.faults import Quota

API_EXCEPTION = "ApiException"
OAUTH_EXCEPTION = "OAuthException"


@dataclass(frozen=True)
class Answer:
    """A container's variable part; the SPiD API wraps it with the request quota."""

    status: int
    kind: str
    object_name: str
    data: object
    error: str | None = None
    error_code: int | None = None
    error_type: str = API_EXCEPTION


def failure(status: int, description: str, error_type: str = API_EXCEPTION) -> Answer:
    """An error container's content."""
    return Answer(status, "error", "Error", None, description, error_type=error_type)


def container(answer: Answer, quota: Quota) -> dict[str, object]:
    """The full SPP Container for an answer."""
    error = None
    if answer.error is not None:
        error = {
            "code": answer.error_code or answer.status,
            "type": answer.error_type,
            "description": answer.error,
        }
    return {
        "name": "SPP Container",
        "version": "0.2",
        "api": 2,
        "object": answer.object_name,
        "type": answer.kind,
        "code": answer.status,
        "request": quota.as_request_field(),
        "debug": None,
        "meta": None,
        "error": error,
        "data": answer.data,
    }
