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

from voucherctl.core.errors import VoucherctlError
from voucherctl.core.redact import scrub
from voucherctl.core.text import escape_control
from voucherctl.ui.table_fit import MAX_LISTED_ID as MAX_LISTED_ID  # re-exported for callers
from voucherctl.ui.table_fit import SHORTENED_NOTE
from voucherctl.ui.table_fit import shorten as shorten

if TYPE_CHECKING:
    from voucherctl.ui.environment import Environment

# json.dumps leaves these unescaped
_JSON_UNSAFE = re.compile(
    r"[\x7f-\x9f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)
# A cell starting with one of these is written with a ' before it: a formula a spreadsheet would
# run, or a ' of its own, so that --from takes exactly one ' off (docs/contract.md#bulk-runs).
_CSV_FORMULA = re.compile(r"^[=+\-@\t\r']")
_NUMBER = re.compile(r"^[+-]?\d+(\.\d+)?$")


def to_json(value: Any, *, indent: int | None = None) -> str:
    """JSON as users' scripts read it: unicode kept, every control character escaped."""
    text = json.dumps(value, ensure_ascii=False, indent=indent)
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


@dataclass(frozen=True)
class Column:
    """One column of a table (or one row of a record view): a label and how to get the value.

    ``whole``: a value people copy (a voucher key, a code): never cut across lines; a table too
    narrow for a long one shortens it with an ellipsis and says how to see it whole.
    ``no_wrap``: a value that must stay on one line (a time, an id). ``words``: identifiers
    separated by spaces, wrapped only between them. ``drop``: a secondary column a narrow
    terminal leaves out (a higher rank first). ``zone``: the time zone of a time column, said
    once above the table (voucherctl/ui/table_fit.py lays tables out).
    """

    label: str
    value: Callable[[dict[str, Any]], Any]
    whole: bool = False
    no_wrap: bool = False
    min_width: int | None = None  # in a list: at least this wide
    words: bool = False
    drop: int = 0
    zone: str = ""


def identifier(label: str, key: str, *, drop: int = 0) -> Column:
    """A column showing ``record[key]``, an identifier people copy."""
    return Column(label, lambda record: record.get(key), whole=True, drop=drop)


def time_field(label: str, key: str, zone: str = "", *, drop: int = 0) -> Column:
    """A column showing a time as given, on one line; its zone is said once, above the table."""
    return Column(label, lambda record: record.get(key), no_wrap=True, zone=zone, drop=drop)


def field(label: str, key: str, *, drop: int = 0) -> Column:
    """A column showing ``record[key]`` as given (free text: it wraps)."""
    return Column(label, lambda record: record.get(key), drop=drop)


def id_field(label: str, key: str, *, drop: int = 0) -> Column:
    """A column showing ``record[key]``, a short id or code: on one line, never shortened."""
    return Column(label, lambda record: record.get(key), no_wrap=True, drop=drop)


def print_record(
    env: "Environment", record: dict[str, Any], rows: Sequence[Column], *, title: str = ""
) -> None:
    """One object: as given in json/jsonl/csv, as a two-column table on a terminal."""
    fmt = env.output_format()
    if env.options.query is not None:
        _print_queried(env, record)
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
    env: "Environment",
    items: list[dict[str, Any]],
    columns: Sequence[Column],
    *,
    title: str = "",
    csv_columns: Sequence[str] | None = None,
    csv_declared: Sequence[str] = (),
) -> None:
    """Several objects: a JSON array, one JSON line each, CSV rows, or a table.

    ``csv_columns``: the CSV header, fixed whatever the items hold (a nested object is one JSON
    cell); without it, ``csv_declared`` (the fields the items' schema declares, always there)
    and the other keys the items have, nested objects flattened."""
    fmt = env.output_format()
    if env.options.query is not None:
        _print_queried(env, items)
    elif fmt == "table":
        _print_list_table(env, items, columns, title)
    elif fmt == "csv":
        _write_csv(env, items, csv_columns, csv_declared)
    elif fmt == "jsonl":
        _write(env, "\n".join(to_json(item) for item in items) if items else None)
    else:
        _write(env, to_json(items, indent=2))


def queried(env: "Environment", document: Any, *, one_line: bool = False) -> str:
    """``--query`` applied to ``document``: a string as plain text, anything else as JSON
    (``one_line``: compact, as each row of a bulk run prints)."""
    result = query_result(env, document)
    if isinstance(result, str):
        return escape_control(result)
    pretty = env.output_format() == "json" and not one_line
    return to_json(result, indent=2 if pretty else None)


def query_result(env: "Environment", document: Any) -> Any:
    """``--query`` applied to ``document``: the JMESPath result itself."""
    import jmespath
    from jmespath.exceptions import JMESPathError

    from voucherctl.core.errors import UsageError

    try:
        return jmespath.search(env.options.query or "", document)
    except JMESPathError as exc:
        raise UsageError(f"--query: {str(exc).splitlines()[0]}") from None


def _print_queried(env: "Environment", document: Any) -> None:
    """A ``--query`` result in the format asked for (docs/contract.md#output): a table; with
    ``-o jsonl`` a list one item a line; with ``-o csv`` objects as rows under their keys."""
    fmt = env.output_format()
    if fmt == "table":
        print_query_table(env, query_result(env, document))
    elif fmt == "jsonl" and isinstance(result := query_result(env, document), list):
        _write(env, "\n".join(to_json(item) for item in result) if result else None)
    elif fmt == "csv":
        _write_query_csv(env, query_result(env, document))
    else:
        _write(env, queried(env, document))


def _write_query_csv(env: "Environment", result: Any) -> None:
    """Objects as CSV rows whose header is their keys (a nested value: one JSON cell); other
    values one cell a line, with no header; nothing for null."""
    items = result if isinstance(result, list) else [] if result is None else [result]
    if items and all(isinstance(item, dict) for item in items):
        _write_csv(env, items, list(dict.fromkeys(key for item in items for key in item)))
    elif items:
        _write(env, "\n".join(_csv_line([csv_cell(item)]) for item in items))


def _csv_line(cells: list[str]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="").writerow(cells)
    return buffer.getvalue()


def print_query_table(env: "Environment", result: Any) -> None:
    """A ``--query`` result with ``-o table``, as the AWS CLI shows one: a list of objects as a
    table whose columns are their keys, an object as key/value rows, anything else one value a
    row (a scalar: a one-cell table). Nothing for a query that matched nothing."""
    if result is None:
        return
    if isinstance(result, list) and result and all(isinstance(item, dict) for item in result):
        keys = dict.fromkeys(key for item in result for key in item)
        _print_list_table(env, result, [field(str(key), key) for key in keys], "")
    elif isinstance(result, dict) and result:
        _print_record_table(env, result, [field(str(key), key) for key in result], "")
    else:
        from rich import box
        from rich.table import Table
        from rich.text import Text

        table = Table(box=box.SIMPLE, show_header=False, pad_edge=False)
        table.add_column(overflow="fold")
        for value in result if isinstance(result, list) else [result]:
            table.add_row(Text(display(value)))
        _console(env).print(table)


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


def _write_csv(
    env: "Environment",
    items: Iterable[dict[str, Any]],
    columns: Sequence[str] | None = None,
    declared: Sequence[str] = (),
) -> None:
    rows = [_flattened(item) for item in items] if columns is None else list(items)
    header: dict[str, None] = dict.fromkeys(columns if columns is not None else declared)
    for row in rows if columns is None else ():
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
    """A CSV cell that a spreadsheet will not run as a formula, nor a terminal as escapes; a
    bulk ``--from`` reads it back as the value it was (``voucherctl.bulk.rows.unguard``)."""
    if value is None:
        return ""
    text = to_json(value) if isinstance(value, dict | list | bool) else str(value)
    text = escape_control(text, keep_newlines=True)  # a newline is data the quoting keeps
    # After blanks too: a spreadsheet runs " =1" (with a non-breaking space) as a formula.
    if _CSV_FORMULA.match(text.lstrip()) and not _NUMBER.match(text.strip()):
        return "'" + text
    return text


def _console(env: "Environment", *, soft_wrap: bool = False) -> Any:
    """A rich console on stdout, for anything drawn with rich (tables are laid out by
    table_fit and written as text)."""
    from rich.console import Console

    return Console(file=env.stdout, highlight=False, soft_wrap=soft_wrap, width=_table_width(env))


def _table_width(env: "Environment") -> int:
    """The terminal's width: $COLUMNS when set (as rich and click read it), else the width of
    the terminal stdout is, else 80."""
    import os

    given = os.environ.get("COLUMNS", "")
    if given.isdigit() and int(given) > 0:
        return int(given)
    try:
        return os.get_terminal_size(env.stdout.fileno()).columns or 80
    except (AttributeError, OSError, ValueError):
        return 80


def _kind(column: Column) -> str:
    if column.whole:
        return "ident"
    if column.no_wrap:
        return "line"
    return "words" if column.words else "text"


def _heading(title: str, columns: Sequence[Column]) -> str:
    """The title, with the time zone of the table's times said once."""
    zones = list(dict.fromkeys(column.zone for column in columns if column.zone))
    if not zones:
        return title
    note = f"times: {', '.join(zones)}"
    return f"{title} ({note})" if title else note.capitalize()


def _write_lines(env: "Environment", lines: list[str]) -> None:
    _write(env, "\n".join(line.rstrip() for line in lines))


def _print_record_table(
    env: "Environment", record: dict[str, Any], rows: Sequence[Column], title: str
) -> None:
    from voucherctl.ui import table_fit as fit

    width = _table_width(env)
    values = [(row.label, display(row.value(record)), _kind(row)) for row in rows]
    lines, shortened = fit.record_lines(values, width)
    head, cut = fit.heading(_heading(title, rows), width)
    head = [*head, ""] if head != [""] else []
    tail = ["", *fit.paragraph(SHORTENED_NOTE, width)] if shortened or cut else []
    _write_lines(env, [*head, *lines, *tail])


def _print_list_table(
    env: "Environment", items: list[dict[str, Any]], columns: Sequence[Column], title: str
) -> None:
    from voucherctl.ui import table_fit as fit

    width = _table_width(env)
    specs = [fit.Spec(c.label, _kind(c), c.drop, c.min_width or 0) for c in columns]
    rows = [[display(column.value(item)) for column in columns] for item in items]
    whole = [list(row) for row in rows]
    layout = fit.plan(specs, rows, width)
    lines = fit.render(specs, rows, layout)
    heading = _heading(title, [columns[i] for i in layout.kept])
    notes = [SHORTENED_NOTE] if layout.shortened else []
    if any(fit.width_of(line) > width for line in lines):  # a code no column can hold whole
        lines, shortened = fit.records(specs, whole, width)
        heading = _heading(title, columns)
        notes = [SHORTENED_NOTE] if shortened else []
    elif layout.dropped:
        notes.append(
            f"{', '.join(layout.dropped)} left out to fit {width} columns; -o json shows all"
        )
    head = fit.paragraph(heading, width) if heading else []
    tail = [line for note in notes for line in fit.paragraph(note, width)]
    _write_lines(env, [*head, *lines, *(["", *tail] if tail else [])])
