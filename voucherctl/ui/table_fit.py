"""Tables that fit the terminal: columns laid out to its width, identifiers never cut in two.

A cell is one of four kinds (docs/contract.md#output): an identifier people copy (``ident``: on
one line, a long one shortened to its start and end when it cannot fit), a value that stays on
one line (``line``: a time, an amount), words that wrap only between words (``words``: a list
of identifiers), and free text that wraps anywhere it must (``text``: a title). When even the
narrowest layout is too wide, long identifiers are shortened, then the columns marked
droppable are left out, most secondary first, and a note under the table says which.
"""

import re
import textwrap
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field

GAP = 2  # spaces between two columns
MAX_LISTED_ID = 16  # longer identifiers may be shortened: a key is 64 characters
TEXT_MIN = 10  # free text folded as a last resort: no narrower than this
TEXT_ROOM = 14  # else free text is not wrapped narrower than this (or its longest word)
SHORTENED_NOTE = "… shortens long identifiers; -o json shows them whole"


def width_of(text: str) -> int:
    """The columns ``text`` takes on a terminal (wide East Asian characters take two)."""
    total = 0
    for char in text:
        if unicodedata.combining(char):
            continue
        total += 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1
    return total


def shorten(identifier: str) -> str:
    """A long identifier as a narrow table shows it: its start and end (SHORTENED_NOTE)."""
    return f"{identifier[:8]}…{identifier[-4:]}"


@dataclass(frozen=True)
class Spec:
    """How one column may be laid out: its label, kind, and rank among the droppable ones
    (0: never left out; a higher rank is left out first)."""

    label: str
    kind: str  # "ident", "line", "words" or "text"
    drop: int = 0
    min_width: int = 0


@dataclass
class Layout:
    """The columns kept (indexes into the specs), their widths, and what was given up."""

    kept: list[int]
    widths: list[int]
    shortened: bool = False
    dropped: list[str] = field(default_factory=list)


def _words(text: str) -> list[str]:
    return text.split() or [""]


_BREAK_AFTER = re.compile(r"(?<=[=,])|(?<=[^:/]/)(?=[^/])")  # after =, after a lone /


def _pieces(text: str) -> list[str]:
    """The pieces a line may break between: words, and a long word after its ``=`` or a
    ``/`` ("voucherGroupId=" then "47", never "4"; a URL's "://" never)."""
    return [piece for word in _words(text) for piece in _BREAK_AFTER.split(word) if piece]


def _least(spec: Spec, cells: Sequence[str], fold: bool = False) -> int:
    """The narrowest this column can be: a one-line value whole, words whole, and free text's
    words whole too unless ``fold`` (the last resort: a long word of text then breaks)."""
    label = max(width_of(word) for word in _words(spec.label))
    if spec.kind in ("ident", "line"):
        longest = max((width_of(cell) for cell in cells), default=0)
    else:
        longest = max((width_of(piece) for cell in cells for piece in _pieces(cell)), default=0)
        if spec.kind == "text" and fold:
            longest = min(longest, TEXT_MIN)
        elif spec.kind == "text":  # a title in a column of 8 is 4 lines: leave it out instead
            longest = max(longest, min(TEXT_ROOM, _natural(spec, cells)))
    return max(label, longest, min(spec.min_width, _natural(spec, cells)))


def _natural(spec: Spec, cells: Sequence[str]) -> int:
    return max([width_of(spec.label), *(width_of(cell) for cell in cells)])


def plan(specs: Sequence[Spec], rows: list[list[str]], width: int) -> Layout:
    """The layout of ``rows`` (cells already shown as text; long identifiers shortened in
    place when the layout needs it) in ``width`` columns."""
    layout = Layout(kept=list(range(len(specs))), widths=[])
    if _fits(specs, rows, layout.kept, width):
        return _spread(specs, rows, layout, width, fold=False)
    whole = {i: [row[i] for row in rows] for i, spec in enumerate(specs) if spec.kind == "ident"}
    for i in whole:  # long identifiers shortened first: the column stays
        for row in rows:
            row[i] = shorten(row[i]) if width_of(row[i]) > MAX_LISTED_ID else row[i]
    ranked = sorted((i for i, s in enumerate(specs) if s.drop), key=lambda i: -specs[i].drop)
    for i in ranked:
        if _fits(specs, rows, layout.kept, width):
            break
        layout.kept.remove(i)
        layout.dropped.append(specs[i].label)
    for i, values in whole.items():  # whole again where the room left allows
        shortened = [row[i] for row in rows]
        for row, value in zip(rows, values, strict=True):
            row[i] = value
        if not _fits(specs, rows, layout.kept, width):
            for row, value in zip(rows, shortened, strict=True):
                row[i] = value
            layout.shortened |= i in layout.kept and shortened != values
    fold = not _fits(specs, rows, layout.kept, width)
    return _spread(specs, rows, layout, width, fold=fold)


def _fits(
    specs: Sequence[Spec], rows: list[list[str]], kept: list[int], width: int, fold: bool = False
) -> bool:
    least = sum(_least(specs[i], [row[i] for row in rows], fold) for i in kept)
    return least + GAP * (len(kept) - 1) <= width


def _spread(
    specs: Sequence[Spec], rows: list[list[str]], layout: Layout, width: int, *, fold: bool
) -> Layout:
    """Every kept column at its narrowest, then the room left given to the columns that wrap,
    the one nearest its natural width first: a column that then fits wraps no line at all."""
    columns = [[row[i] for row in rows] for i in layout.kept]
    least = [_least(specs[i], cells, fold) for i, cells in zip(layout.kept, columns, strict=True)]
    natural = [_natural(specs[i], cells) for i, cells in zip(layout.kept, columns, strict=True)]
    widths = list(least)  # a one-line value's column is as wide as its longest value already
    room = width - sum(widths) - GAP * (len(widths) - 1)
    while room > 0:
        short = [(natural[k] - widths[k], k) for k in range(len(widths)) if widths[k] < natural[k]]
        if not short:
            break
        widths[min(short)[1]] += 1
        room -= 1
    layout.widths = widths
    return layout


def wrapped(text: str, width: int, kind: str) -> list[str]:
    """A cell's lines in a column ``width`` wide: identifiers and one-line values whole."""
    if kind in ("ident", "line") or width_of(text) <= width:
        return [text]
    return _wrap_pieces(text, width, fold=kind == "text")


def _wrap_pieces(text: str, width: int, *, fold: bool) -> list[str]:
    """Words on lines of ``width``; a word too long for a line breaks between its pieces
    (after ``=`` or ``/``); a piece wider than the line is folded if ``fold``, else stands
    alone: an identifier is never broken."""
    lines: list[str] = []
    line = ""
    for word in _words(text):
        joined = f"{line} {word}" if line else word
        if width_of(joined) <= width:
            line = joined
            continue
        if line:
            lines.append(line)
        line = ""
        for piece in _BREAK_AFTER.split(word) if width_of(word) > width else [word]:
            if width_of(line + piece) <= width:
                line += piece
                continue
            if line:
                lines.append(line)
            line = piece
            while fold and width_of(line) > width:
                lines.append(line[:width])
                line = line[width:]
    return [*lines, line]


def render(specs: Sequence[Spec], rows: list[list[str]], layout: Layout) -> list[str]:
    """The header, a rule and the rows, each line no wider than the layout."""
    kept = [specs[i] for i in layout.kept]
    lines = _block([spec.label for spec in kept], ["words"] * len(kept), layout)
    lines.append("─" * (sum(layout.widths) + GAP * (len(layout.widths) - 1)))
    for row in rows:
        lines += _block([row[i] for i in layout.kept], [s.kind for s in kept], layout)
    return lines


def _block(cells: list[str], kinds: list[str], layout: Layout) -> list[str]:
    parts = [wrapped(cell, w, k) for cell, w, k in zip(cells, layout.widths, kinds, strict=True)]
    height = max((len(part) for part in parts), default=1)
    lines = []
    for n in range(height):
        pieces = []
        for part, w in zip(parts, layout.widths, strict=True):
            text = part[n] if n < len(part) else ""
            pieces.append(text + " " * (w - width_of(text)))
        lines.append((" " * GAP).join(pieces).rstrip())
    return lines


def record_lines(rows: list[tuple[str, str, str]], width: int) -> tuple[list[str], bool]:
    """A record as label/value lines (``rows``: label, value, kind). A value too wide for its
    place beside the label goes on a line of its own below it; an identifier too wide even for
    that is shortened. Returns the lines and whether an identifier was shortened."""
    label_width = max((width_of(label) for label, _, _ in rows), default=0)
    room = max(width - label_width - GAP, 1)
    lines: list[str] = []
    shortened = False
    for label, value, kind in rows:
        pad = " " * (label_width - width_of(label) + GAP)
        if kind in ("ident", "line") and width_of(value) > room:
            if kind == "ident" and width_of(value) > width - GAP:
                value, shortened = shorten(value), True
            if room < width_of(value) <= width - GAP:  # whole, on a line of its own
                lines += [label, " " * GAP + value]
                continue
            if kind == "line":  # a code is never cut: alone on its line, as wide as it is
                lines += [label, value]
                continue
        parts = wrapped(value, room, "text" if kind == "text" else "words")
        lines.append(f"{label}{pad}{parts[0]}".rstrip())
        lines += [(" " * (label_width + GAP) + part).rstrip() for part in parts[1:]]
    return lines, shortened


def paragraph(text: str, width: int) -> list[str]:
    """A title or note wrapped between words, never inside one."""
    return textwrap.wrap(text, width, break_long_words=False, break_on_hyphens=False) or [""]


def heading(text: str, width: int) -> tuple[list[str], bool]:
    """A title wrapped between words; a word wider than the terminal (a long code in
    ``Voucher CODE``) shortened to its start and end. Returns the lines and whether a word
    was shortened (the note then says so)."""
    words = [shorten(word) if width_of(word) > width else word for word in text.split()]
    return paragraph(" ".join(words), width), words != text.split()


def records(specs: Sequence[Spec], rows: list[list[str]], width: int) -> tuple[list[str], bool]:
    """The rows of a table too narrow for them as records, label and value, one after the
    other with a blank line between: a code too long for any column stays whole."""
    lines: list[str] = []
    shortened = False
    for row in rows:
        values = [(spec.label, cell, spec.kind) for spec, cell in zip(specs, row, strict=True)]
        block, cut = record_lines(values, width)
        lines += [*([""] if lines else []), *block]
        shortened |= cut
    return lines, shortened
