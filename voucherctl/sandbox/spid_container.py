"""SPiD's answer envelope, the "SPP Container", and how SPiD signs the data inside it.

Signing, as SPiD's docs describe signed responses (schibsted/spid-tech-docs,
resources/articles/endpoints.md, "Signed responses"): `data` becomes the base64url encoding of
the data's JSON, `algorithm` is "HMAC-SHA256", and `sig` is the base64url encoding of
HMAC-SHA256 keyed with the client's sign secret over the `data` string exactly as sent. Both
strings go without "=" padding, as in the docs' sample (whose data and sig, with sign secret
"a274de", this module reproduces byte for byte).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass

from voucherctl.sandbox.faults import Quota

SIGN_ALGORITHM = "HMAC-SHA256"
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


def base64url(raw: bytes) -> str:
    """URL-safe base64 without padding, as SPiD writes `data` and `sig`."""
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def encode_data(data: object) -> str:
    """The `data` string of a signed container: base64url of compact UTF-8 JSON."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return base64url(text.encode("utf-8"))


def signature(data: str, sign_secret: str) -> str:
    """`sig` for a signed container's `data` string, exactly as that string is sent."""
    digest = hmac.new(sign_secret.encode("utf-8"), data.encode("ascii"), hashlib.sha256)
    return base64url(digest.digest())


def container(answer: Answer, quota: Quota, sign_secret: str | None = None) -> dict[str, object]:
    """The full SPP Container for an answer, signed when a sign secret is given."""
    error = None
    if answer.error is not None:
        error = {
            "code": answer.error_code or answer.status,
            "type": answer.error_type,
            "description": answer.error,
        }
    body: dict[str, object] = {
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
    if sign_secret is not None:
        data = encode_data(answer.data)
        body.update(data=data, algorithm=SIGN_ALGORITHM, sig=signature(data, sign_secret))
    return body
