"""Text as a decoder would read it, with a map back to where each character came from.

A server can echo a secret through any common encoder, escaping any of its characters:
``%2F`` or ``%2f`` (or ``%252F``, encoded twice), JSON's ``\\u002f`` and ``\\/`` (with the
backslash doubled when JSON is quoted in JSON again), ``\\x2f``, HTML's ``&#47;``, ``&#x2F;``
and ``&sol;``, CSV's doubled quote, line breaks inside base64. :class:`DecodedView` undoes all
of those at once, in one pass over the text, so that the scrub (redact) finds a secret by
plain search however many of its characters were escaped, and masks the span it came from.
Nothing is decoded that a secret could hold as it is: a ``+`` stays a ``+`` (form encoding's
space is searched for instead), base64 and hex are searched for in their own forms.

This module sits below everything that prints and imports nothing of voucherctl.
"""

import bisect
import functools
import re

# Every alternative starts with a literal character, so that the engine skips through text
# holding none of them (an alternative starting otherwise would make it try every position).
_TOKEN = re.compile(
    r"""
    %(?:25)*(?P<pct>[0-9A-Fa-f]{2})  # percent-encoded byte, possibly encoded again
    |\\\\*(?:  # backslash escapes, the backslash doubled as often as JSON is quoted in JSON
        x(?P<bx>[0-9A-Fa-f]{2})  # \xHH: a byte, as Python and C write it
        |u(?P<u>[0-9A-Fa-f]{4})  # JSON's \uXXXX (a UTF-16 code unit)
        |(?P<short>[/"])  # JSON's \/ (PHP writes it) and \"
        |(?P<escaped_break>[nr]))  # a line break: MIME breaks base64 into lines
    |\\(?P<bs>\\)  # an escaped backslash
    |&(?:\#0*(?P<dec>[0-9]{1,7});?  # HTML &#47;
        |\#[xX]0*(?P<hex>[0-9A-Fa-f]{1,6});?  # HTML &#x2F;
        |(?P<name>[A-Za-z][A-Za-z0-9]{0,31};?))  # HTML &amp; &sol;
    |"(?P<quote>")  # CSV doubles a quote inside a quoted cell
    |\r(?P<crlf>\n)|\n(?P<lf>)  # line breaks
""",
    re.VERBOSE,
)
_LEADERS = re.compile(r'[%\\&"\n]')  # text without any of these decodes to itself

# A piece of the view: where it starts in the view and in the text, and for a decoded
# escape, where it ends in the text (None: plain text, one character for one character).
_Piece = tuple[int, int, int | None]


class DecodedView:
    """``text`` with every escape decoded (:attr:`text`), and spans mapped back."""

    def __init__(self, text: str) -> None:
        self.original = text
        self.text = text
        self._pieces: list[_Piece] = []
        self._starts: list[int] = []
        if _LEADERS.search(text):  # else nothing to decode: the view is the text
            builder = _Builder(text)
            for match in _TOKEN.finditer(text):
                builder.token(match)
            self.text, self._pieces = builder.finish()
            self._starts = [piece[0] for piece in self._pieces]

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Where the view's characters ``start`` to ``end`` (exclusive) lie in the text."""
        return self._where(start)[0], self._where(end - 1)[1]

    def _where(self, index: int) -> tuple[int, int]:
        """The span in the text of the view's character at ``index``."""
        if not self._pieces:
            return index, index + 1
        piece = self._pieces[bisect.bisect_right(self._starts, index) - 1]
        view_start, text_start, text_end = piece
        if text_end is not None:
            return text_start, text_end
        at = text_start + index - view_start
        return at, at + 1


class _Builder:
    """Assembles the view: plain runs, decoded escapes, and bytes gathered into UTF-8."""

    def __init__(self, text: str) -> None:
        self.source = text
        self.parts: list[str] = []
        self.pieces: list[_Piece] = []
        self.length = 0  # of the view so far
        self.done = 0  # in the text so far
        self.pending: list[tuple[int, int, int]] = []  # bytes: value, start, end in the text
        self.surrogate: tuple[int, int, int] | None = None  # a high half, awaiting its low one

    def token(self, match: "re.Match[str]") -> None:
        start, end = match.span()
        kind = match.lastgroup
        if start > self.done:
            if self.pending:
                self._flush_bytes()
            if self.surrogate:
                self._flush_surrogate()
            self.pieces.append((self.length, self.done, None))
            self.parts.append(self.source[self.done : start])
            self.length += start - self.done
        if kind == "name" and not _html_entity(match.group(kind)):
            end = start + 1  # "&" and a word that names no character: plain text
        self.done = end
        if kind == "pct" or kind == "bx":
            if self.surrogate:
                self._flush_surrogate()
            self.pending.append((int(match.group(kind), 16), start, end))
            return
        if self.pending:
            self._flush_bytes()
        if kind == "u":
            self._unit(int(match.group(kind), 16), start, end)
            return
        if self.surrogate:
            self._flush_surrogate()
        self._emit(_decoded(match, kind or ""), start, end)

    def finish(self) -> tuple[str, list[_Piece]]:
        self._flush_bytes()
        self._flush_surrogate()
        if self.done < len(self.source):
            self._emit(self.source[self.done :], self.done, None)
        return "".join(self.parts), self.pieces

    def _emit(self, decoded: str, start: int, end: int | None) -> None:
        self.pieces.append((self.length, start, end))
        self.parts.append(decoded)
        self.length += len(decoded)

    def _unit(self, unit: int, start: int, end: int) -> None:
        if self.surrogate and 0xDC00 <= unit < 0xE000:
            high, first, _ = self.surrogate
            self.surrogate = None
            self._emit(chr(0x10000 + ((high - 0xD800) << 10) + unit - 0xDC00), first, end)
        elif 0xD800 <= unit < 0xDC00:
            self._flush_surrogate()
            self.surrogate = (unit, start, end)
        else:
            self._flush_surrogate()
            self._emit(chr(unit), start, end)

    def _flush_surrogate(self) -> None:
        if self.surrogate:
            unit, start, end = self.surrogate
            self.surrogate = None
            self._emit(chr(unit), start, end)

    def _flush_bytes(self) -> None:
        """Bytes as UTF-8 characters; a byte that starts none stands for itself (Latin-1)."""
        pending, self.pending, i = self.pending, [], 0
        while i < len(pending):
            size = _utf8_size(pending[i][0])
            chunk = pending[i : i + size]
            try:
                char = bytes(value for value, _, _ in chunk).decode("utf-8")
            except UnicodeDecodeError:
                chunk, char = chunk[:1], chr(chunk[0][0])
            self._emit(char, chunk[0][1], chunk[-1][2])
            i += len(chunk)


def _utf8_size(lead: int) -> int:
    return 1 if lead < 0xC2 else 2 if lead < 0xE0 else 3 if lead < 0xF0 else 4


def _decoded(match: "re.Match[str]", kind: str) -> str:
    """What a non-byte escape stands for ("" for a line break)."""
    if kind in _FIXED:
        return _FIXED[kind]
    if kind == "short":
        return match.group(kind)
    if kind == "dec" or kind == "hex":
        code = int(match.group(kind), 10 if kind == "dec" else 16)
        return chr(code) if code <= 0x10FFFF else match.group()
    return _html_entity(match.group(kind)) or "&"  # a name (or "&" before a word)


_FIXED = {"bs": "\\", "quote": '"', "crlf": "", "lf": "", "escaped_break": ""}


def _html_entity(name: str) -> str | None:
    return _html5().get(name) or _html5().get(name.rstrip(";") + ";")


@functools.cache
def _html5() -> dict[str, str]:
    import html.entities

    return html.entities.html5
