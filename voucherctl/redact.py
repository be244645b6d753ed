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
from collections.abc import Iterable, Mapping
from typing import TextIO
from urllib.parse import parse_qsl, urlencode

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
    """Mask every registered secret in ``text``, in any form :func:`_patterns` knows."""
    if not text:
        return text
    for pattern in _patterns(tuple(sorted(_registered, key=lambda s: (-len(s), s)))):
        text = pattern.sub(MASK, text)
    return text


@functools.lru_cache(maxsize=64)
def _patterns(secrets: tuple[str, ...]) -> tuple["re.Pattern[str]", ...]:
    """One pattern per secret (longest first), built once for each set of secrets."""
    return tuple(_pattern(secret) for secret in secrets)


# One way to write a character: its first character, literally, and a pattern for the rest.
Escape = tuple[str, str]
# One way to write a text: the escapes each of its characters may take, and what may come
# between two characters.
Form = tuple[list[tuple[Escape, ...]], str]


@functools.lru_cache(maxsize=256)
def _pattern(secret: str) -> "re.Pattern[str]":
    """Every form a common encoder makes of ``secret``, or of a larger text holding it.

    Each character may appear as itself or any of its escapes (:func:`_escapes`), so one
    pattern covers percent-encoding of any subset of the characters in either case, form
    encoding, JSON, HTML and backslash escapes. Beside it: hex of the bytes (either case), and
    for each of the three alignments a secret can have inside base64 (standard or URL-safe,
    padded or not, in lines or not), the run of base64 characters its bytes alone decide.

    Every form starts with one of a few characters, and the pattern starts by matching that
    set: the regular expression engine then skips through text that holds none of them
    instead of trying the whole pattern at every position.
    """
    raw = secret.encode("utf-8", "surrogatepass")
    hex_digits: list[tuple[Escape, ...]] = [
        ((d, ""), (d.upper(), "")) if d.isalpha() else ((d, ""),) for d in raw.hex()
    ]
    forms: list[Form] = [([_escapes(c) for c in secret], ""), (hex_digits, "")]
    for offset in range(3):
        core = _base64_core(raw, offset)
        if len(core) >= _MIN_BASE64_CORE:
            forms.append(([_base64_escapes(c) for c in core], _BASE64_BREAK))
    branches = []
    for characters, between in forms:
        firsts = dict.fromkeys(first for first, _ in characters[0])
        lead = "|".join(
            f"(?<={re.escape(first)})"
            + _one_of(tuple(("", r) for f, r in characters[0] if f == first))
            for first in firsts
        )
        tail = "".join(between + _one_of(escapes) for escapes in characters[1:])
        branches.append(f"(?:{lead}){tail}")
    starts = sorted({first for characters, _ in forms for first, _ in characters[0]})
    charset = "".join(re.escape(first) for first in starts)
    return re.compile(f"[{charset}](?:{'|'.join(branches)})")


def _one_of(escapes: tuple[Escape, ...]) -> str:
    """Any of the escapes, the longest tried first: "%2525" is not "%" followed by "2525"."""
    forms = sorted((re.escape(first) + rest for first, rest in escapes), key=len, reverse=True)
    return "(?:" + "|".join(forms) + ")"


def _base64_core(raw: bytes, offset: int) -> str:
    """The base64 characters that ``raw`` decides alone when ``offset`` bytes (mod 3) of
    other text come before it; what comes after it is unknown too."""
    encoded = base64.b64encode(bytes(offset) + raw + bytes(3)).decode("ascii")
    first = -(-offset * 8 // 6)  # the first character whose six bits all lie in raw
    last = (offset + len(raw)) * 8 // 6  # one past the last such character
    return encoded[first:last]


# Between two base64 characters: MIME's line breaks, as they are or inside a JSON string.
_BASE64_BREAK = r"(?:\\r\\n|\\n|\r?\n)?"
_BASE64URL = {"+": "-", "/": "_"}


def _base64_escapes(c: str) -> tuple[Escape, ...]:
    if c in _BASE64URL:
        return ((_BASE64URL[c], ""), *_escapes(c))
    return ((c, ""),)


@functools.lru_cache(maxsize=1024)
def _escapes(c: str) -> tuple[Escape, ...]:
    """One character as itself or any of its common escapes."""
    escapes = [(c, "")]
    utf8 = c.encode("utf-8", "surrogatepass")
    percent = "".join(f"%{_hex(byte, 2)}" for byte in utf8)
    escapes += [("%", percent[1:]), ("%", "25" + percent[1:].replace("%", "%25"))]  # and twice
    if c == " ":
        escapes.append(("+", ""))  # form encoding
    if c == '"':
        escapes.append(('"', '"'))  # CSV doubles a quote inside a quoted cell
    code = ord(c)
    units = [code] if code < 0x10000 else [0xD7C0 + (code >> 10), 0xDC00 + (code & 0x3FF)]
    # JSON's \uXXXX, and its \/ (PHP writes it), \" and \\; the backslash doubled as often as
    # JSON text is quoted in JSON again. Python's and C's \xHH of a byte or a code point too.
    escapes.append(("\\", r"\\*" + r"\\+".join(f"u{_hex(unit, 4)}" for unit in units)))
    if c in _JSON_SHORT:
        escapes.append(("\\", r"\\*" + re.escape(c)))
    escapes.append(
        ("\\", r"\\*" + r"\\+".join(f"x{_hex(byte, 2)}" for byte in utf8))
    )  # b"\xc3\xa9"
    if 0x80 <= code < 0x100:
        escapes.append(("\\", "x" + _hex(code, 2)))  # "\xe9"
    escapes.append(("&", f"\\#0*{code}(?:;|(?![0-9]))"))  # HTML &#47;
    escapes.append(("&", f"\\#[xX]0*{_hex(code, 0)}(?:;|(?![0-9a-fA-F]))"))  # HTML &#x2F;
    escapes += [("&", re.escape(name)) for name in _html_names().get(c, ())]  # &amp; &sol;
    return tuple(escapes)


def _hex(number: int, width: int) -> str:
    """``number`` in hex, each letter matching either case."""
    digits = f"{number:0{width}x}"
    return "".join(f"[{d}{d.upper()}]" if d.isalpha() else d for d in digits)


_JSON_SHORT = frozenset('/"\\')


@functools.cache
def _html_names() -> dict[str, list[str]]:
    """HTML's names of each character (``amp;``, ``sol;``, ...), read when first needed."""
    import html.entities

    names: dict[str, list[str]] = {}
    for name, value in html.entities.html5.items():
        if len(value) == 1:
            names.setdefault(value, []).append(name)
    return names


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
