"""Rendering: rich tables on a terminal, JSON / JSON lines / CSV for scripts.

Data goes to stdout; messages go to stderr through ``Environment``. rich is imported only when
a table is actually drawn, so scripted (``-o json``) runs never pay for it.
"""

import csv
import io
import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from voucherctl.errors import VoucherctlError
from voucherctl.redact import scrub
from voucherctl.text import escape_control

if TYPE_CHECKING:
    from voucherctl.env import Environment

# json.dumps leaves these unescaped
_JSON_UNSAFE = re.compile(
    r"[\x7f-\x9f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)
_CSV_FORMULA = re.compile(r"^[=+\-@\t\r]")
_NUMBER = re.compile(r"^[+-]?\d+(\.\d+)?$")


def to_json(value: Any, *, indent: int | None = None) -> str:
    """JSON as users' scripts read it: unicode kept, every control character escaped."""
    text = json.dumps(value, ensure_ascii=False, indent=indent)
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


@dataclass(frozen=True)
class Column:
    """One column of a table (or one row of a record view): a label and how to get the value.

    ``whole``: a value people copy (a voucher key, a code): a record view never wraps it, and a
    list shortens a long one with an ellipsis and says how to see it whole. ``no_wrap``: a
    value that must stay on one line (a time).
    """

    label: str
    value: Callable[[dict[str, Any]], Any]
    whole: bool = False
    no_wrap: bool = False
    min_width: int | None = None  # in a list: at least this wide


SHORTENED_NOTE = "… shortens long identifiers; -o json shows them whole"


def identifier(label: str, key: str) -> Column:
    """A column showing ``record[key]``, an identifier people copy."""
    return Column(label, lambda record: record.get(key), whole=True)


def time_field(label: str, key: str, zone: str = "") -> Column:
    """A column showing a time as given, on one line, followed by its zone."""

    def shown(record: dict[str, Any]) -> str:
        value = record.get(key)
        return f"{value} {zone}".strip() if value else ""

    return Column(label, shown, no_wrap=True)


def field(label: str, key: str) -> Column:
    """A column showing ``record[key]`` as given."""
    return Column(label, lambda record: record.get(key))


def print_record(
    env: "Environment", record: dict[str, Any], rows: Sequence[Column], *, title: str = ""
) -> None:
    """One object: as given in json/jsonl/csv, as a two-column table on a terminal."""
    fmt = env.output_format()
    if env.options.query is not None:
        _write(env, queried(env, record))
    elif fmt == "table":
        _print_record_table(env, record, rows, title)
    elif fmt == "csv":
        _write_csv(env, [record])
    else:
        _write(env, to_json(record, indent=2 if fmt == "json" else None))


def print_result(
    env: "Environment", record: dict[str, Any], rows: Sequence[Column], *, title: str = ""
) -> None:
    """A change's result. The change was made, so a stdout that cannot take the result (closed,
    or its reader gone) is a warning, not a failure: the audit log has the change."""
    try:
        print_record(env, record, rows, title=title)
    except VoucherctlError as exc:  # --query that does not fit the answer: the change stands
        env.warn(f"the change was made, but {exc.message}; 'voucherctl audit' shows it")
    except (OSError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        env.warn(
            f"the change was made, but its result could not be printed ({reason}); "
            "'voucherctl audit' shows it"
        )


def print_list(
    env: "Environment", items: list[dict[str, Any]], columns: Sequence[Column], *, title: str = ""
) -> None:
    """Several objects: a JSON array, one JSON line each, CSV rows, or a table."""
    fmt = env.output_format()
    if env.options.query is not None:
        _write(env, queried(env, items))
    elif fmt == "table":
        _print_list_table(env, items, columns, title)
    elif fmt == "csv":
        _write_csv(env, items)
    elif fmt == "jsonl":
        _write(env, "\n".join(to_json(item) for item in items) if items else None)
    else:
        _write(env, to_json(items, indent=2))


def queried(env: "Environment", document: Any, *, one_line: bool = False) -> str:
    """``--query`` applied to ``document``: a string as plain text, anything else as JSON
    (``one_line``: compact, as each row of a bulk run prints)."""
    import jmespath
    from jmespath.exceptions import JMESPathError

    from voucherctl.errors import UsageError

    try:
        result = jmespath.search(env.options.query or "", document)
    except JMESPathError as exc:
        raise UsageError(f"--query: {str(exc).splitlines()[0]}") from None
    if isinstance(result, str):
        return escape_control(result)
    pretty = env.output_format() == "json" and not one_line
    return to_json(result, indent=2 if pretty else None)


def display(value: Any) -> str:
    """A value as a table cell shows it: blank for null, JSON for structures. Scrubbed here,
    whole: a table may wrap a long cell, and a secret cut in two would pass the stream's scrub."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict | list):
        return scrub(to_json(value))
    return scrub(escape_control(str(value)))


def _write(env: "Environment", text: str | None) -> None:
    if text is not None:
        env.stdout.write(text + "\n")
        env.stdout.flush()


def _write_csv(env: "Environment", items: Iterable[dict[str, Any]]) -> None:
    rows = [_flattened(item) for item in items]
    header: dict[str, None] = {}
    for row in rows:
        header.update(dict.fromkeys(row))
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow(csv_cell(row.get(key)) for key in header)
    _write(env, buffer.getvalue().rstrip("\n"))


def _flattened(item: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested objects as columns of their own (``group.title``): a spreadsheet can sort them."""
    flat: dict[str, Any] = {}
    for key, value in item.items():
        if isinstance(value, dict) and value:
            flat.update(_flattened(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def csv_cell(value: Any) -> str:
    """A CSV cell that a spreadsheet will not run as a formula, nor a terminal as escapes."""
    if value is None:
        return ""
    text = to_json(value) if isinstance(value, dict | list | bool) else str(value)
    text = escape_control(text, keep_newlines=True)  # a newline is data the quoting keeps
    if _CSV_FORMULA.match(text) and not _NUMBER.match(text):
        return "'" + text
    return text


def _console(env: "Environment", *, soft_wrap: bool = False) -> Any:
    from rich.console import Console

    return Console(file=env.stdout, highlight=False, soft_wrap=soft_wrap)


def _print_record_table(
    env: "Environment", record: dict[str, Any], rows: Sequence[Column], title: str
) -> None:
    from rich import box
    from rich.table import Table
    from rich.text import Text

    values = [(row, display(row.value(record))) for row in rows]
    longest_whole = max((len(v) for row, v in values if row.whole or row.no_wrap), default=0)
    table = Table(
        title=Text(title) if title else None,
        box=box.SIMPLE,
        show_header=False,
        pad_edge=False,
        collapse_padding=True,
    )
    table.add_column(style="bold", no_wrap=True)
    table.add_column(overflow="fold", min_width=longest_whole or None)
    for row, value in values:
        keep = row.whole or row.no_wrap  # a key cut in two cannot be copied
        cell = Text(value, no_wrap=keep, overflow="ignore" if keep else "fold")
        table.add_row(Text(row.label), cell)
    # soft_wrap: a value kept whole may run past the edge; the terminal then wraps it visually
    # and copying still gives the whole key, where cropping it would lose its end.
    _console(env, soft_wrap=True).print(table)


def _print_list_table(
    env: "Environment", items: list[dict[str, Any]], columns: Sequence[Column], title: str
) -> None:
    from rich import box
    from rich.table import Table
    from rich.text import Text

    table = Table(
        title=Text(title) if title else None,
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        collapse_padding=True,  # one space between columns: 80 columns hold a voucher's row
    )
    rows = [[display(column.value(item)) for column in columns] for item in items]
    widest = [max((len(row[i]) for row in rows), default=0) for i in range(len(columns))]
    # Long identifiers are shortened only when the table would not fit whole.
    fits = (
        sum(max(w, len(c.label)) for w, c in zip(widest, columns, strict=True)) + len(columns)
        <= _console(env).width
    )
    for column, width in zip(columns, widest, strict=True):
        keep = column.whole or column.no_wrap
        least = column.min_width or min(len(column.label), 12)  # no header cut mid-word
        table.add_column(
            Text(column.label),
            overflow="ignore" if keep else "fold",
            no_wrap=keep,
            # A column that must stay whole (a code, a time) is as wide as its longest value.
            min_width=max(least, width) if column.no_wrap else least,
        )
    shortened = False
    for row in rows:
        cells = []
        for column, value in zip(columns, row, strict=True):
            if column.whole and not fits and len(value) > MAX_LISTED_ID:
                value, shortened = shorten(value), True
            cells.append(Text(value))
        table.add_row(*cells)
    if shortened:
        table.caption = Text(SHORTENED_NOTE)
    _console(env).print(table)


MAX_LISTED_ID = 16  # longer identifiers are shortened in lists: a key is 64 characters


def shorten(identifier: str) -> str:
    """A long identifier as a list shows it: its start and end (SHORTENED_NOTE says so)."""
    return f"{identifier[:8]}…{identifier[-4:]}"
