"""The scrub masks a secret in every form a common encoder makes of it, or of a larger text
holding it, and leaves text that holds no secret as it was.

Each encoded text is made here, character by character, with the standard library's encoders;
whether the secret can still be read out of the scrubbed text is decided by
tests.encoders.revealed, which undoes the encodings itself.
"""

import base64
import html
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.encoders import ENCODINGS, revealed
from voucherctl.core import redact

SECRET = "tokA/b+c=Zq9"
SPAAZA_KEY = "sK/ey+9=abcQ"


def encode_each(text: str, choices: list[int]) -> str:
    """``text`` with each character written as one of its escapes (``choices[i]``)."""
    escapes = [
        lambda c: c,
        lambda c: "".join(f"%{b:02X}" for b in c.encode()),
        lambda c: "".join(f"%{b:02x}" for b in c.encode()),
        lambda c: json.dumps(c, ensure_ascii=True)[1:-1] if ord(c) > 127 else f"\\u{ord(c):04x}",
        lambda c: f"\\u{ord(c):04X}" if ord(c) < 0x10000 else c,
        lambda c: f"&#{ord(c)};",
        lambda c: f"&#x{ord(c):X};",
        lambda c: html.escape(c),
        lambda c: "+" if c == " " else "".join(f"%25{b:02X}" for b in c.encode()),
        lambda c: "".join(f"\\x{b:02x}" for b in c.encode()),  # a Python bytes repr
        lambda c: '""' if c == '"' else c,  # a quoted CSV cell
    ]
    return "".join(
        escapes[choice % len(escapes)](c)
        for c, choice in zip(text, choices[: len(text)], strict=True)
    )


# A backslash is left out: escaping the characters after a raw backslash is no encoder's work
# and reads as JSON quoted twice; secrets holding one have a test of their own.
SECRETS = st.text(alphabet=st.sampled_from('abcXYZ019/+=&% "<>é€'), min_size=4, max_size=24).filter(
    lambda s: s.strip() == s
)
AROUND = st.text(alphabet=st.sampled_from("xyz;:\n"), max_size=8)  # none of SECRETS


@settings(max_examples=300, deadline=None)
@given(SECRETS, st.lists(st.integers(0, 10), min_size=24, max_size=24), AROUND, AROUND)
def test_each_character_escaped_any_way_is_masked(secret, choices, before, after) -> None:
    """Catches a scrub that knows only whole-secret encodings (quote(), every byte), not
    partial ones: quote() leaving "/", only "+" and "=" encoded, lower-case hex, a JSON \\u
    or an HTML escape here and there."""
    redact._registered.clear()
    redact.register(secret)

    scrubbed = redact.scrub(before + encode_each(secret, choices) + after)

    assert scrubbed == before + redact.MASK + after


@settings(max_examples=200, deadline=None)
@given(SECRETS, st.binary(max_size=10), st.binary(max_size=10), st.booleans(), st.booleans())
def test_base64_of_a_larger_text_is_masked_at_any_offset(
    secret, before, after, urlsafe, padded
) -> None:
    """Catches base64 masked only when the secret starts the encoded text (one alignment of
    three), or only padded, or only in one alphabet."""
    redact._registered.clear()
    redact.register(secret)
    raw = before + secret.encode() + after
    encoded = (base64.urlsafe_b64encode if urlsafe else base64.b64encode)(raw).decode()

    scrubbed = redact.scrub(encoded if padded else encoded.rstrip("="))

    assert not revealed(scrubbed, secret)


@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest.mark.parametrize("secret", [SECRET, SPAAZA_KEY, "cl&Sec/r+t=99"])
def test_every_encoding_of_a_text_holding_the_secret_is_masked(encoding, secret) -> None:
    redact.register(secret)
    text = f"echo: authorization: Bearer {secret}; more"

    scrubbed = redact.scrub(ENCODINGS[encoding](text))

    assert not revealed(scrubbed, secret)


def test_mime_base64_broken_into_lines_is_masked() -> None:
    redact.register(SECRET)
    encoded = base64.encodebytes(b"x" * 50 + SECRET.encode() + b"y" * 30).decode()
    assert "\n" in encoded[60:80]  # the secret spans a line break

    assert not revealed(redact.scrub(encoded), SECRET)


def test_json_text_quoted_in_json_again_is_masked() -> None:
    """Catches JSON escapes masked only one quoting deep: an error message holding the
    PHP-escaped secret, printed as JSON, doubles the backslash."""
    redact.register(SECRET)
    once = json.dumps(SECRET).replace("/", "\\/")
    twice = json.dumps({"error": once})

    assert not revealed(redact.scrub(twice), SECRET)


@pytest.mark.parametrize("secret", ["C:\\new\\x41\\u0042", "back\\slash/+="])
def test_a_secret_holding_backslashes_is_masked_in_json_once_or_twice(secret) -> None:
    """Catches a backslash of the secret's own read as the start of an escape (\\n dropped as
    a line break, \\x41 read as "A") once JSON has escaped it."""
    redact.register(secret)
    once = json.dumps({"echo": secret})
    twice = json.dumps({"error": once})

    assert redact.scrub(once) == '{"echo": "***"}'
    assert not revealed(redact.scrub(twice), secret)


def test_a_secret_that_looks_escaped_itself_is_masked_when_partly_encoded() -> None:
    """Catches a secret holding "%41" searched only as it is: echoed with its "/" encoded, the
    decoder reads both escapes, and the text no longer holds the secret as it is."""
    redact.register("pa%41ss/word")

    assert redact.scrub("echo pa%41ss%2Fword.") == "echo ***."


def test_text_without_the_secret_is_left_as_it_was() -> None:
    """Catches a scrub so eager that it masks innocent text: other base64, hex, escapes, the
    secret's own characters."""
    redact.register(SECRET, SPAAZA_KEY)
    text = (
        "voucher 64-HB2I-OPBL &amp; tok/b+c=Zq &#47; %2F \\u002f "
        + base64.b64encode(b"tokA/b+c=Zq8 and more").decode()
        + " "
        + b"tokA/b+c=Zq8".hex()
        + " sK/ey+9=abc tokA"
    )

    assert redact.scrub(text) == text


def test_an_html_body_is_not_taken_for_a_form() -> None:
    """Catches -v decoding an HTML page (it has "&" and "=") as a form: "+" became a space,
    a secret holding "=" was cut in two, and neither half was masked."""
    redact.register(SECRET)
    page = f'<html><a href="/x?a=1&amp;b=2">echo {SECRET}</a></html>'

    shown = redact.body(page, "text/html")

    assert shown == '<html><a href="/x?a=1&amp;b=2">echo ***</a></html>'


def test_a_form_body_is_masked_before_it_is_decoded() -> None:
    """Catches a form whose echoed secret is decoded ("%41" to "A", "+" to a space) before the
    scrub sees it: what is shown is then no form of the secret the scrub knows."""
    redact.register("tok%41+b=c9")

    shown = redact.body("a=1&echo=tok%41+b=c9", "application/x-www-form-urlencoded")

    assert shown == "a=1&echo=%2A%2A%2A"
