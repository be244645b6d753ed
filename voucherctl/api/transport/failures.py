"""How a failed HTTP exchange is told: in a few words, and whether the request left at all.

Nothing here names a request's details: URLs and error texts can carry secrets.
"""

import re
from collections.abc import Mapping
from typing import Any

import requests

from voucherctl.core import redact
from voucherctl.core.errors import UsageError


class UnsendableHeaderError(UsageError):
    """A header that no HTTP request can carry (a line break in it, a leading space, a
    character outside Latin-1): refused before sending, so nothing left this machine."""


def unsendable_header(headers: Mapping[str, Any]) -> str | None:
    """The name of the first header requests or http.client would refuse to send, or None.
    (requests refuses it before sending; its error quotes the value, which can be a secret.)"""
    for name, value in headers.items():
        try:
            requests.utils.check_header_validity((name, value))
            if isinstance(value, str):
                value.encode("latin-1")
        except (requests.exceptions.InvalidHeader, UnicodeEncodeError):
            shown = str(name)
            return shown if shown.isascii() and shown.isprintable() else "a header name"
    return None


def check_headers(headers: Mapping[str, Any], what: str) -> None:
    """Raise :class:`UnsendableHeaderError` (exit 2) for a header that cannot be sent."""
    unsendable = unsendable_header(headers)
    if unsendable:
        raise UnsendableHeaderError(
            f"{what}: the {unsendable} header would hold a line break or another character no "
            "HTTP header carries; nothing was sent: check the setting or variable it comes from"
        )


def timed_out(exc: requests.RequestException) -> requests.RequestException:
    """The failure the watchdog caused, told as the timeout it is."""
    if never_sent(exc):  # cut off while connecting or in the TLS handshake
        return requests.exceptions.ConnectTimeout("connecting outlasted the timeout")
    return requests.exceptions.ReadTimeout("the exchange outlasted the timeout")


def never_sent(exc: requests.RequestException) -> bool:
    """True when the connection could not even be opened, so nothing reached the server."""
    if isinstance(exc, requests.exceptions.ConnectTimeout | requests.exceptions.SSLError):
        return True
    if isinstance(exc, requests.exceptions.ConnectionError):
        text = str(exc)
        return "NewConnectionError" in text or "NameResolutionError" in text
    return False


def reason(exc: requests.RequestException) -> str:
    """What went wrong, in a few words and with no request details (URLs can carry secrets)."""
    text = str(exc)
    if isinstance(exc, requests.exceptions.SSLError):
        if "CERTIFICATE_VERIFY_FAILED" in text:
            # OpenSSL's own words say which: self-signed, expired, another host's name, ...
            detail = re.search(r"certificate verify failed: ([^()]+?)\s*\(_ssl", text)
            because = f" ({detail.group(1)})" if detail else ""
            return f"its TLS certificate could not be verified{because}"
        return "the TLS handshake failed"
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return "connecting timed out"
    if isinstance(exc, requests.exceptions.Timeout):
        return "no complete answer within the timeout"
    if "NameResolutionError" in text or "Name or service not known" in text:
        return "the host name could not be resolved"
    if "Connection refused" in text:
        return "connection refused"
    if isinstance(exc, requests.exceptions.ConnectionError):
        return "the connection failed or was dropped"
    return redact.scrub(type(exc).__name__)


def without_query(url: str) -> str:
    """A URL to show, its query left out: a server can put anything there, credentials
    percent-encoded past the scrubbing included. (Split by hand: urlsplit rejects some URLs.)"""
    shown, query_mark, _ = url.partition("#")[0].partition("?")
    return f"{shown}?..." if query_mark else shown
