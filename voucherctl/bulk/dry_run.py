"""``--dry-run`` of a bulk run: the request every row would make, streamed; nothing is sent.

Every format is written row by row as the file is read, so a million rows take no more memory
than ten (bench/dry_run_memory.py measures it).
"""

import csv
from collections.abc import Iterator
from itertools import islice
from typing import Any

from voucherctl.bulk.rows import Row, Source
from voucherctl.changes.operation import Fills, Operation
from voucherctl.core.errors import ExitCode, error_object
from voucherctl.ui import output
from voucherctl.ui.environment import Environment

MAX_TABLE_ROWS = 500  # a terminal shows the first rows; a script asks for jsonl or csv


def print_dry_run(
    env: Environment, source: Source, operation: Operation[Any], fills: Fills
) -> None:
    """Print the request each row of ``source`` would make."""
    fmt = env.output_format(bulk=True)
    rows = source.rows(operation, fills, identify=False)  # nothing recorded: no identities needed
    if env.options.query is not None:  # each row's record, queried, on a line of its own
        for row in rows:
            env.stdout.write(output.queried(env, _record(row, operation), one_line=True) + "\n")
    elif fmt == "csv":
        _write_csv(env, rows, operation)
    elif fmt == "table":
        records = [_record(row, operation) for row in islice(rows, MAX_TABLE_ROWS)]
        output.print_list(env, records, TABLE_COLUMNS, title="Dry run")
    elif fmt == "json":
        _write_json_array(env, (_record(row, operation) for row in rows))
    else:
        for row in rows:
            env.stdout.write(output.to_json(_record(row, operation)) + "\n")
    env.stdout.flush()
    env.info(f"{operation.command}: dry run, nothing was sent")


def _request(row: Row, operation: Operation[Any]) -> dict[str, Any] | None:
    if row.error:
        return None
    return {"method": operation.method, "path": operation.path, "form": row.params}


def _record(row: Row, operation: Operation[Any]) -> dict[str, Any]:
    return {
        "line": row.line,
        "input": row.input,
        "request": _request(row, operation),
        "error": None if row.error is None else error_object(row.error, ExitCode.USAGE),
    }


def _write_json_array(env: Environment, records: Iterator[dict[str, Any]]) -> None:
    separator = "[\n"
    for record in records:
        env.stdout.write(separator + output.to_json(record))
        separator = ",\n"
    env.stdout.write("[]\n" if separator == "[\n" else "\n]\n")


def _write_csv(env: Environment, rows: Iterator[Row], operation: Operation[Any]) -> None:
    """Like a run's report, with the request where the outcome would be."""
    writer = csv.writer(env.stdout, lineterminator="\n")
    writer.writerow(["line", "error", *operation.columns, "request"])
    for row in rows:
        cells = [row.line, row.error, *(row.input.get(c) for c in operation.columns)]
        writer.writerow([*map(output.csv_cell, cells), output.csv_cell(_request(row, operation))])


def _describe(request: dict[str, Any] | None) -> str:
    if request is None:
        return ""
    form = "&".join(f"{k}={v}" for k, v in request["form"].items())
    return f"{request['method']} {request['path']} {form}"


TABLE_COLUMNS = [
    output.field("Line", "line"),
    output.Column("Would send", lambda r: _describe(r["request"]), words=True),
    output.Column("Error", lambda r: (r["error"] or {}).get("message")),
]
