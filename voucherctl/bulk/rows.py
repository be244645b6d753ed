"""Reading bulk input: a CSV whose header names the API's columns, streamed row by row."""

import csv
import hashlib
import json
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from voucherctl.bulk.operation import Operation
from voucherctl.errors import UsageError, VoucherctlError
from voucherctl.output import escape_control

MAX_CELL_CHARS = 10_000
csv.field_size_limit(MAX_CELL_CHARS + 1)  # longer cells are errors, not memory hogs


@dataclass(frozen=True)
class Row:
    """One input row: where it stands, what it says after options filled it, and its hash."""

    line: int
    input: dict[str, str]
    digest: str
    params: dict[str, str] = field(default_factory=dict)
    error: str | None = None  # set when the row is invalid


def digest(values: Mapping[str, str]) -> str:
    """The content hash that, with the line, identifies a row in a journal."""
    canonical = json.dumps(values, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:32]


class Source:
    """The input file; stdin is copied to a temporary file first, so it can be read twice
    (once to validate everything, once to send) without holding it in memory."""

    def __init__(self, name: str, stdin: IO[str]) -> None:
        self.name = name
        self._temporary: Path | None = None
        if name == "-":
            with tempfile.NamedTemporaryFile(
                "w", encoding="utf-8", suffix=".csv", delete=False
            ) as copy:
                shutil.copyfileobj(stdin, copy)
            self._temporary = Path(copy.name)
            self.path = self._temporary
        else:
            self.path = Path(name).expanduser()
            if not self.path.is_file():
                raise UsageError(f"--from {escape_control(name)}: no such file")

    def close(self) -> None:
        if self._temporary:
            self._temporary.unlink(missing_ok=True)

    def identity(self) -> str:
        """What names this input for the default journal: its path, or stdin's content."""
        if self._temporary is None:
            return str(self.path.resolve())
        sha = hashlib.sha256()
        with self.path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                sha.update(block)
        return "stdin:" + sha.hexdigest()

    def rows(self, operation: Operation, fills: Mapping[str, str]) -> Iterator[Row]:
        """Every data row, validated, with its line number (the header is line 1)."""
        with self.path.open(encoding="utf-8-sig", newline="") as handle:
            yield from _rows(handle, operation, fills, self.name)


def _rows(
    handle: IO[str], operation: Operation, fills: Mapping[str, str], name: str
) -> Iterator[Row]:
    reader = csv.reader(handle)
    try:
        header = next(reader, None)
    except (UnicodeDecodeError, csv.Error) as exc:
        raise UsageError(f"{name}: line 1: {_reason(exc)}") from None
    if not header or not any(cell.strip() for cell in header):
        raise UsageError(f"{name}: the file is empty; its first line must name the columns")
    columns = _check_header([cell.strip() for cell in header], operation, fills, name)
    start = reader.line_num + 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except (UnicodeDecodeError, csv.Error) as exc:
            # A row the reader cannot get past ends the input; say where and stop.
            raise UsageError(f"{name}: line {start}: {_reason(exc)}") from None
        line, start = start, reader.line_num + 1
        if not any(cell.strip() for cell in cells):
            continue  # blank lines, e.g. at the end of a file
        yield _row(line, cells, columns, operation, fills)


def _row(
    line: int,
    cells: list[str],
    columns: list[str],
    operation: Operation,
    fills: Mapping[str, str],
) -> Row:
    values = {column: cell.strip() for column, cell in zip(columns, cells, strict=False)}
    values = {column: value for column, value in values.items() if value}
    values.update(fills)
    row_digest = digest(values)
    if len(cells) != len(columns):
        error = f"has {len(cells)} cells, the header names {len(columns)} columns"
        return Row(line, values, row_digest, error=error)
    if any(len(cell) > MAX_CELL_CHARS for cell in cells):
        return Row(line, values, row_digest, error=f"a cell is over {MAX_CELL_CHARS} characters")
    try:
        params = operation.params(values, {name: name for name in operation.columns})
    except VoucherctlError as exc:
        return Row(line, values, row_digest, error=exc.message)
    return Row(line, values, row_digest, params=params)


def _check_header(
    header: list[str], operation: Operation, fills: Mapping[str, str], name: str
) -> list[str]:
    known = set(operation.columns)
    unknown = [column for column in header if column not in known]
    if unknown:
        listed = ", ".join(escape_control(column) for column in unknown)
        raise UsageError(
            f"{name}: unknown column(s) {listed}; {operation.command} takes "
            f"{', '.join(operation.columns)}"
        )
    repeated = {column for column in header if header.count(column) > 1}
    if repeated:
        raise UsageError(f"{name}: column(s) named twice: {', '.join(sorted(repeated))}")
    clashing = [column for column in fills if column in header]
    if clashing:
        raise UsageError(
            f"{name} has the column(s) {', '.join(clashing)} that a command-line option also "
            "gives; drop the option or the column"
        )
    return header


def _reason(exc: Exception) -> str:
    if isinstance(exc, UnicodeDecodeError):
        return "not UTF-8 text; save the file as UTF-8 CSV"
    text = str(exc)
    if "field larger than field limit" in text:
        return f"a cell is over {MAX_CELL_CHARS} characters"
    return f"not valid CSV ({escape_control(text)})"
