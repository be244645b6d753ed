"""What a careless server does to text it echoes: every common encoder, and an oracle that
undoes them all, so a test can say whether a secret can be read back out of what was printed.

The oracle knows nothing of voucherctl's scrub: it decodes (percent, form, HTML, JSON escapes,
base64 and base64url at every offset, hex) up to two layers deep and looks for the secret.
"""

import base64
import html
import re
from collections.abc import Callable
from urllib.parse import quote, quote_plus, unquote, unquote_plus, urlencode


def _percent_every_byte(text: str, upper: bool = True) -> str:
    return "".join(f"%{byte:02X}" if upper else f"%{byte:02x}" for byte in text.encode())


def _percent_mixed_case(text: str) -> str:
    return "".join(
        f"%{byte:02X}" if i % 2 else f"%{byte:02x}" for i, byte in enumerate(text.encode())
    )


def _lower_hex(text: str) -> str:
    return re.sub(r"%[0-9A-F]{2}", lambda m: m.group().lower(), text)


def _only(text: str, chars: str, escape: Callable[[str], str]) -> str:
    return "".join(escape(c) if c in chars else c for c in text)


def _b64(prefix: int, urlsafe: bool = False, pad: bool = True) -> Callable[[str], str]:
    """Base64 of a larger text holding ``text`` after ``prefix`` characters: each alignment."""

    def encode(text: str) -> str:
        raw = ("x" * prefix + text + "!tail").encode()
        out = (base64.urlsafe_b64encode if urlsafe else base64.b64encode)(raw).decode()
        return out if pad else out.rstrip("=")

    return encode


SPECIALS = "/+=&"  # the characters the secrets under test hold and encoders treat specially
NAMED = {"/": "&sol;", "+": "&plus;", "=": "&equals;", "&": "&amp;"}

ENCODINGS: dict[str, Callable[[str], str]] = {
    "as is": lambda t: t,
    "quote, nothing safe": lambda t: quote(t, safe=""),
    "quote, lower-case hex": lambda t: _lower_hex(quote(t, safe="")),
    "quote leaving /": lambda t: quote(t),
    "only + and = encoded": lambda t: t.replace("+", "%2B").replace("=", "%3D"),
    "only / encoded, lower-case": lambda t: t.replace("/", "%2f"),
    "every byte encoded": _percent_every_byte,
    "every byte encoded, lower-case": lambda t: _percent_every_byte(t, upper=False),
    "every byte, mixed case": _percent_mixed_case,
    "form (quote_plus)": quote_plus,
    "a form field (urlencode)": lambda t: urlencode({"echo": t, "n": "1"}),
    "percent-encoded twice": lambda t: quote(quote(t, safe=""), safe=""),
    "base64 at offset 0": _b64(0),
    "base64 at offset 1": _b64(1),
    "base64 at offset 2": _b64(2),
    "base64 unpadded, offset 1": _b64(1, pad=False),
    "base64url at offset 0": _b64(0, urlsafe=True),
    "base64url at offset 1, unpadded": _b64(1, urlsafe=True, pad=False),
    "base64url at offset 2, unpadded": _b64(2, urlsafe=True, pad=False),
    "base64 then percent-encoded": lambda t: quote(_b64(2)(t), safe=""),
    "hex": lambda t: t.encode().hex(),
    "hex, upper-case": lambda t: t.encode().hex().upper(),
    "json \\u escapes of every character": lambda t: "".join(f"\\u{ord(c):04x}" for c in t),
    "json \\u escapes of / + = &": lambda t: _only(t, SPECIALS, lambda c: f"\\u{ord(c):04X}"),
    "json escaped slash (PHP)": lambda t: t.replace("/", "\\/"),
    "html decimal &#47;": lambda t: _only(t, SPECIALS, lambda c: f"&#{ord(c)};"),
    "html hex &#x2F;": lambda t: _only(t, SPECIALS, lambda c: f"&#x{ord(c):X};"),
    "html hex &#x2f;, zero-padded": lambda t: _only(t, SPECIALS, lambda c: f"&#x00{ord(c):x};"),
    "html named (&sol; &plus; &equals; &amp;)": lambda t: _only(t, SPECIALS, NAMED.__getitem__),
    "html.escape": lambda t: html.escape(t),
    "backslash \\x escapes of / + = &": lambda t: _only(t, SPECIALS, lambda c: f"\\x{ord(c):02x}"),
}


# -- the oracle --------------------------------------------------------------------------------

_B64_RUN = re.compile(r"[A-Za-z0-9+/_\-]{8,}")
_HEX_RUN = re.compile(r"[0-9a-fA-F]{8,}")
_JSON_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")
_BACKSLASH_X = re.compile(r"\\x([0-9a-fA-F]{2})")


def _base64_decodings(text: str) -> set[str]:
    found = set()
    for run in _B64_RUN.findall(text.replace("\n", "")):
        standard = run.replace("-", "+").replace("_", "/")
        for offset in range(4):
            chunk = standard[offset:]
            whole = chunk[: len(chunk) - len(chunk) % 4]  # what the last partial group leaves
            padded = chunk + "=" * (-len(chunk) % 4)  # and the padding an echo may have lost
            for candidate in (whole, padded):
                try:
                    found.add(base64.b64decode(candidate).decode("latin-1"))
                except ValueError:
                    continue
    return found


def _hex_decodings(text: str) -> set[str]:
    found = set()
    for run in _HEX_RUN.findall(text):
        for offset in (0, 1):
            chunk = run[offset:]
            found.add(bytes.fromhex(chunk[: len(chunk) - len(chunk) % 2]).decode("latin-1"))
    return found


def _one_layer(text: str) -> set[str]:
    json_unescaped = _JSON_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text)
    json_unescaped = _BACKSLASH_X.sub(lambda m: chr(int(m.group(1), 16)), json_unescaped)
    return {
        unquote(text),
        unquote_plus(text),
        html.unescape(text),
        json_unescaped.replace("\\/", "/"),
        *_base64_decodings(text),
        *_hex_decodings(text),
    }


def revealed(text: str, secret: str) -> bool:
    """Whether ``secret`` can be read out of ``text`` by undoing up to two encodings (and a
    table's wrapping of a long cell onto several lines)."""
    layers = {text, re.sub(r"\s+", "", text)}
    for _ in range(2):
        layers |= {decoded for layer in layers for decoded in _one_layer(layer)}
    return any(secret in layer for layer in layers)
