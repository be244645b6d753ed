"""Keep secrets out of everything voucherctl prints.

Every secret the process loads (tokens, client secrets, session keys, passwords) is registered
here the moment it is read. Whatever goes to stdout, stderr or a log passes through
:func:`scrub`, so a secret cannot leak even through an unexpected path such as an exception's
text or a server that echoes a request back.
"""

import io
import json
import re
from collections.abc import Iterable, Mapping
from typing import TextIO
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
            _registered.update(_forms(secret))


def _forms(secret: str) -> set[str]:
    """The secret as a server might echo it back: as is, percent-encoded as a URL or form
    carries it, base64 (standard or URL-safe, padded or not), hex."""
    import base64

    raw = secret.encode("utf-8", "surrogatepass")
    forms = {secret, quote(secret, safe=""), quote_plus(secret), raw.hex(), raw.hex().upper()}
    every_byte = "".join(f"%{byte:02X}" for byte in raw)  # percent-encoding of every byte
    forms.update({every_byte, every_byte.lower()})
    forms.update({json.dumps(secret)[1:-1], json.dumps(secret, ensure_ascii=False)[1:-1]})
    for encoded in (base64.b64encode(raw), base64.urlsafe_b64encode(raw)):
        text = encoded.decode("ascii")
        forms.update({text, text.rstrip("=")})
    return {form for form in forms if len(form) >= _MIN_SECRET_LENGTH}


class ScrubbedStream(io.TextIOBase):
    """A text stream that masks every registered secret in what is written through it.

    The Environment wraps stdout and stderr in one, so every byte voucherctl prints passes the
    same scrub by construction, whatever printed it (a table, a JSON line, a warning, a
    progress bar), rather than by each writer remembering to call :func:`scrub`.
    """

    def __init__(self, stream: TextIO) -> None:
        self.raw = stream

    def write(self, text: str) -> int:
        self.raw.write(scrub(text))
        return len(text)

    def flush(self) -> None:
        self.raw.flush()

    def isatty(self) -> bool:
        return self.raw.isatty()

    def fileno(self) -> int:
        return self.raw.fileno()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self.raw, "encoding", None) or "utf-8"


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
