"""What a SPiD container says beside its error: signed data, and the request quota.

Signed answers (docs/contract.md#wire-facts-spid, and SPiD's "Signed responses"): the container
has ``algorithm`` ("HMAC-SHA256") and ``sig``, and ``data`` is the base64url encoding of the
data's JSON; ``sig`` is the base64url encoding of HMAC-SHA256 keyed with the client's sign
secret over ``data`` exactly as sent. Data is decoded always, and verified whenever the sign
secret is known; data whose signature fails is never handed on, nor, once a sign secret is
known, data that is not signed, or signed with anything but exactly "HMAC-SHA256".

Every container reports the quota in ``request``: ``limit`` requests a period, ``remaining``
left, ``reset`` seconds until the period ends.
"""

import base64
import binascii
import hashlib
import hmac
import json
import math
from typing import Any

from voucherctl.api.transport.pacing import QuotaReport

SIGN_ALGORITHM = "HMAC-SHA256"

# How the data of an answer was vouched for.
VERIFIED = "verified"  # signed, and the signature matches the sign secret
UNVERIFIED = "unverified"  # signed, but no sign secret is known to check it with
UNSIGNED = "unsigned"  # the answer is not signed


class BadSignature(Exception):
    """A signed answer whose data cannot be trusted: why, in a few words."""


def is_signed(body: dict[str, Any]) -> bool:
    """Whether a container says it is signed (an empty ``algorithm`` and ``sig`` do not)."""
    return body.get("algorithm") is not None or body.get("sig") is not None


def open_data(body: dict[str, Any], sign_secret: str | None) -> tuple[Any, str]:
    """A container's data, decoded when signed, with VERIFIED, UNVERIFIED or UNSIGNED.

    Raises :class:`BadSignature` for a signature that does not match the sign secret, an
    algorithm other than exactly HMAC-SHA256 (it cannot be checked), signed data that is not
    base64url JSON, and, when a sign secret is known, an answer that is not signed at all
    (whoever can change an answer can also strip its signature).
    """
    if not is_signed(body):
        if sign_secret is not None:
            raise BadSignature("it is not signed, though a sign secret is configured")
        return body.get("data"), UNSIGNED
    algorithm, data, sig = body.get("algorithm"), body.get("data"), body.get("sig")
    if algorithm != SIGN_ALGORITHM:
        shown = algorithm if isinstance(algorithm, str) else json.dumps(algorithm)
        raise BadSignature(f"it is signed with {shown[:40]!r}, not {SIGN_ALGORITHM}")
    if not isinstance(data, str) or not isinstance(sig, str):
        raise BadSignature("its data or its signature is not a string")
    state = UNVERIFIED
    if sign_secret is not None:
        expected = hmac.new(sign_secret.encode("utf-8"), data.encode("utf-8"), hashlib.sha256)
        given = _base64url(sig)
        if given is None or not hmac.compare_digest(expected.digest(), given):
            raise BadSignature("its signature does not match the sign secret")
        state = VERIFIED
    raw = _base64url(data)
    try:
        if raw is None:
            raise ValueError("not base64url")
        return json.loads(raw.decode("utf-8")), state
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        raise BadSignature("its signed data is not base64url-encoded JSON") from None


def _base64url(text: str) -> bytes | None:
    """Base64url (RFC 4648 section 5), padded or not; None when it is not that."""
    unpadded = text.rstrip("=")
    if len(unpadded) % 4 == 1:
        return None
    standard = unpadded.replace("-", "+").replace("_", "/")
    try:
        return base64.b64decode(standard + "=" * (-len(standard) % 4), validate=True)
    except (binascii.Error, ValueError):
        return None


def quota_report(body: Any) -> QuotaReport | None:
    """The quota a container reports in ``request``, or None when it reports none usable."""
    request = body.get("request") if isinstance(body, dict) else None
    if not isinstance(request, dict):
        return None
    limit, remaining, reset = (
        _number(request.get(name)) for name in ("limit", "remaining", "reset")
    )
    if limit is None or remaining is None or reset is None:
        return None
    return QuotaReport(int(limit), max(int(remaining), 0), max(reset, 0.0))


def _number(value: Any) -> float | None:
    """A finite JSON number, or a string holding one (SPiD sends numbers as strings)."""
    if isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) and abs(number) < 1e15 else None
