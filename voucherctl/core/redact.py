"""Keep secrets out of everything voucherctl prints.

Every secret the process loads (tokens, client secrets, session keys, passwords) is registered
here the moment it is read. Whatever goes to stdout, stderr or a log passes through
:func:`scrub`, so a secret cannot leak even through an unexpected path such as an exception's
text or a server that echoes a request back, in whatever encoding it echoes it
(docs/contract.md#secrets-in-output).
"""

import base64
import functools
import io
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from typing import TextIO
from urllib.parse import parse_qsl, urlencode

from voucherctl.core.decoded_view import DecodedView

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
_MIN_BASE64_CORE = 4  # base64 characters a secret alone decides (a 4-byte secret: 4 to 5)
_registered: set[str] = set()


def register(*secrets: str | None) -> None:
    """Remember secret values so that :func:`scrub` masks them from now on."""
    for secret in secrets:
        if secret and len(secret) >= _MIN_SECRET_LENGTH:
            _registered.add(secret)


def scrub(text: str) -> str:
    """Mask every registered secret in ``text``, in any form a common encoder makes of it or
    of a larger text holding it (:func:`_forms`), however many of its characters are escaped
    (:class:`DecodedView` undoes the escapes, and maps what it finds back to the text)."""
    if not text or not _registered:
        return text
    view = DecodedView(text)
    # Form encoding writes a space as "+", and an echo may do so for some spaces only: "+" and
    # space are one character to the search (replace keeps every position).
    haystack = view.text.replace("+", " ")
    spans = []
    for secret in _registered:
        found = [(at, len(f)) for f in _forms(secret) for at in _all(haystack, f)]
        spans += [view.span(at, at + length) for at, length in found]
        spans += [(at, at + len(secret)) for at in _all(text, secret)]
    return _masked(text, spans)


def _all(text: str, form: str) -> Iterator[int]:
    """Where ``form`` starts in ``text``, overlapping occurrences included."""
    at = text.find(form)
    while at >= 0:
        yield at
        at = text.find(form, at + 1)


def _masked(text: str, spans: list[tuple[int, int]]) -> str:
    """``text`` with each span (overlapping ones merged) replaced by the mask."""
    parts, done = [], 0
    for start, end in sorted(spans):
        if end <= done:
            continue
        parts += [text[done:start], MASK] if start >= done else []
        done = end
    return "".join(parts) + text[done:] if parts else text


@functools.lru_cache(maxsize=256)
def _forms(secret: str) -> tuple[str, ...]:
    """What to search the decoded text for: the secret (and as its escapes decode, should it
    look like escapes itself); for each of the three
    alignments a secret can have inside base64 (standard or URL-safe, padded or not, in lines
    or not), the run of base64 characters its bytes alone decide; its hex in either case."""
    raw = secret.encode("utf-8", "surrogatepass")
    plain = {secret, DecodedView(secret).text, raw.hex(), raw.hex().upper()}
    for offset in range(3):
        core = _base64_core(raw, offset)
        if len(core) >= _MIN_BASE64_CORE:
            plain |= {core, core.translate(_BASE64URL)}
    return tuple(sorted(form.replace("+", " ") for form in plain if form))  # as searched


def _base64_core(raw: bytes, offset: int) -> str:
    """The base64 characters that ``raw`` decides alone when ``offset`` bytes (mod 3) of
    other text come before it; what comes after it is unknown too."""
    encoded = base64.b64encode(bytes(offset) + raw + bytes(3)).decode("ascii")
    first = -(-offset * 8 // 6)  # the first character whose six bits all lie in raw
    last = (offset + len(raw)) * 8 // 6  # one past the last such character
    return encoded[first:last]


_BASE64URL = str.maketrans("+/", "-_")


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
    """A request or response body with secret fields masked, whatever its format.

    Secrets are masked in the text as it came before it is decoded as JSON or a form, then in
    what decoding made of it: decoding turns ``+`` into a space and ``%2B`` into ``+``, and
    printing it again encodes it otherwise. Only a body that says it is a form, or looks like
    one (no spaces, no markup), is decoded as a form: an HTML page has ``&`` and ``=`` too.
    """
    text = scrub(text)
    if "json" in content_type or text.lstrip().startswith(("{", "[")):
        try:
            return json.dumps(_mask_json(json.loads(text)), ensure_ascii=False)
        except ValueError:
            pass
    elif "x-www-form-urlencoded" in content_type or _looks_like_a_form(text, content_type):
        return form(parse_qsl(text, keep_blank_values=True))
    return scrub(_SECRET_ASSIGNMENT.sub(lambda m: f"{m.group(1)}{MASK}", text))


def _looks_like_a_form(text: str, content_type: str) -> bool:
    said = content_type.split(";", 1)[0].strip().lower()
    if said and said not in ("application/octet-stream", "text/plain"):
        return False
    looks = "=" in text and "&" in text
    return looks and not any(c.isspace() or c in "<>" for c in text.strip())


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
