"""Keep secrets out of everything voucherctl prints.

Every secret the process loads (tokens, client secrets, session keys, passwords) is registered
here the moment it is read. Whatever goes to stdout, stderr or a log passes through
:func:`scrub`, so a secret cannot leak even through an unexpected path such as an exception's
text or a server that echoes a request back.
"""

import json
import re
from collections.abc import Iterable, Mapping
from urllib.parse import parse_qsl, quote, quote_plus, urlencode

MASK = "***"

# Field and header names whose values are secret wherever they appear.
SECRET_FIELDS = frozenset(
    {
        "access_token",
        "refresh_token",
        "id_token",
        "oauth_token",
        "token",
        "client_secret",
        "password",
        "session_key",
        "session_passcode",
        "session_passcode_key",
        "authorization",
        "x-spaaza-session-key",
    }
)

_MIN_SECRET_LENGTH = 4  # shorter values would mask innocent text
_registered: set[str] = set()


def register(*secrets: str | None) -> None:
    """Remember secret values so that :func:`scrub` masks them from now on."""
    for secret in secrets:
        if secret and len(secret) >= _MIN_SECRET_LENGTH:
            # Also as a URL or form would carry it: a server may echo it back percent-encoded.
            _registered.update({secret, quote(secret, safe=""), quote_plus(secret)})


def scrub(text: str) -> str:
    """Mask every registered secret in ``text``."""
    for secret in sorted(_registered, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, MASK)
    return text


def headers(items: Mapping[str, str]) -> dict[str, str]:
    """A copy of HTTP headers with secret values masked (``Bearer`` kept for readability)."""
    masked = {}
    for name, value in items.items():
        if name.lower() == "authorization":
            scheme = value.split(" ", 1)[0] if " " in value else ""
            masked[name] = f"{scheme} {MASK}".strip()
        elif name.lower() in SECRET_FIELDS:
            masked[name] = MASK
        else:
            masked[name] = scrub(value)
    return masked


def form(pairs: Mapping[str, str] | Iterable[tuple[str, str]]) -> str:
    """A form body, url-encoded as sent, with secret fields masked."""
    items = pairs.items() if isinstance(pairs, Mapping) else pairs
    return urlencode([(k, MASK if k.lower() in SECRET_FIELDS else scrub(v)) for k, v in items])


def body(text: str, content_type: str = "") -> str:
    """A request or response body with secret fields masked, whatever its format."""
    if "json" in content_type or text.lstrip().startswith(("{", "[")):
        try:
            return json.dumps(_mask_json(json.loads(text)), ensure_ascii=False)
        except ValueError:
            pass
    elif ("=" in text and "&" in text) or "x-www-form-urlencoded" in content_type:
        return form(parse_qsl(text, keep_blank_values=True))
    return scrub(_SECRET_ASSIGNMENT.sub(lambda m: f"{m.group(1)}{MASK}", text))


_SECRET_ASSIGNMENT = re.compile(
    r"""((?:""" + "|".join(sorted(SECRET_FIELDS)) + r""")["']?\s*[:=]\s*["']?)[^"'&\s,}]+""",
    re.IGNORECASE,
)


def _mask_json(value: object) -> object:
    if isinstance(value, dict):
        return {
            k: MASK if str(k).lower() in SECRET_FIELDS and v else _mask_json(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_mask_json(v) for v in value]
    if isinstance(value, str):
        return scrub(value)
    return value
