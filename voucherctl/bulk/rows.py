"""Reading bulk input: a CSV whose header names the API's columns, streamed row by row."""

import csv
import os
import re
import secrets
import shutil
import tempfile
from array import array
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from voucherctl.changes.operation import Fills, Operation
from voucherctl.core.errors import UsageError, VoucherctlError
from voucherctl.core.text import escape_control
from voucherctl.storage.ledger import digest

if TYPE_CHECKING:
    import _csv

MAX_CELL_CHARS = 10_000
# A longer line is refused as it is read, before it is in memory whole: the field size limit
# acts only once the csv module has the line, which a 200 MB line took 435 MiB to hold.
MAX_LINE_CHARS = 1_000_000
# The file is decoded with surrogateescape, so a byte that is not UTF-8 shows up as a lone
# surrogate in the row it belongs to (and is reported at that row's line) rather than as a
# decoding error wherever the reader's buffer happened to end.
_UNDECODED = re.compile("[\udc80-\udcff]")
_UTF16_BOMS = ("\udcff\udcfe", "\udcfe\udcff")


@dataclass(frozen=True)
class Row:
    """One input row: where it stands, what it says after options filled it, what it sends."""

    line: int
    input: dict[str, str]
    params: dict[str, str] = field(default_factory=dict)
    error: str | None = None  # set when the row is invalid
    # A valid row's identity: the hash of its request, and which occurrence of that request it
    # is in the file ("<hash>/0" for the first); how the ledger knows it, whatever its line.
    key: str = ""
    first_line: int = 0  # the line of the first occurrence of the same request


class RequestIndex:
    """How often each request came so far, and on which line first: for a million rows in
    ~32 MiB, as an open-addressing table of 64-bit request hashes in arrays rather than a
    dict, whose boxed ints would take four times the memory."""

    def __init__(self, capacity: int = 1 << 16) -> None:
        self._keys = array("Q", bytes(8 * capacity))
        self._lines = array("I", bytes(4 * capacity))
        self._counts = array("I", bytes(4 * capacity))
        self._used = 0

    def note(self, request_digest: str, line: int) -> tuple[int, int]:
        """Count one more occurrence: (the first line with this request, this occurrence)."""
        if self._used * 10 >= len(self._keys) * 7:
            self._grow()
        key = int(request_digest[:16], 16) | 1  # 0 marks an empty slot
        slot = self._slot(key)
        if not self._keys[slot]:
            self._keys[slot], self._lines[slot] = key, line
            self._used += 1
        occurrence = self._counts[slot]
        self._counts[slot] += 1
        return self._lines[slot], occurrence

    def _slot(self, key: int) -> int:
        keys, mask = self._keys, len(self._keys) - 1
        slot = key & mask
        while keys[slot] and keys[slot] != key:
            slot = (slot + 1) & mask
        return slot

    def _grow(self) -> None:
        old = zip(self._keys, self._lines, self._counts, strict=True)
        size = len(self._keys) * 2
        self._keys = array("Q", bytes(8 * size))
        self._lines = array("I", bytes(4 * size))
        self._counts = array("I", bytes(4 * size))
        for key, line, count in old:
            if key:
                slot = self._slot(key)
                self._keys[slot], self._lines[slot], self._counts[slot] = key, line, count


class Source:
    """The input file; stdin is copied to a file first, so it can be read twice (once to
    validate everything, once to send) without holding it in memory.

    The copy goes to ``spool`` (the data directory's ``stdin/``), locked while the run holds
    it: a copy whose run was killed is removed by the next run that copies stdin.
    """

    def __init__(self, name: str, stdin: IO[str], *, spool: Path | None = None) -> None:
        self.name = name
        self._spool = spool
        self._temporary: Path | None = None
        self._lock_fd: int | None = None
        self.unique = False  # set once validation found no request repeated
        if name == "-":
            self.path = self._copy(stdin, "stdin")
            return
        try:
            path = Path(name).expanduser()
            exists, is_file = path.exists(), path.is_file()
        except RuntimeError:  # ~someone, and no one has that name
            raise UsageError(f"--from {escape_control(name)}: no such user") from None
        except OSError as exc:  # e.g. a name too long for the file system
            raise UsageError(f"--from {escape_control(name)}: {exc.strerror}") from None
        if is_file:
            self.path = path
        elif exists and not path.is_dir():  # a pipe, <(command), /dev/stdin: read it once
            try:
                with path.open(encoding="utf-8", errors="surrogateescape") as stream:
                    self.path = self._copy(stream, str(path))
            except OSError as exc:
                raise UsageError(f"--from {escape_control(name)}: {exc.strerror}") from None
        else:
            what = "a folder" if exists else "no such file"
            raise UsageError(f"--from {escape_control(name)}: {what}; give a CSV file")

    def _copy(self, stream: IO[str], what: str) -> Path:
        """A stream copied to a private file, so that it can be read twice (once to validate
        everything, once to send) without holding it in memory."""
        with self._open_copy() as copy:
            try:
                _copy_bytes(stream, copy)
            except (OSError, ValueError) as exc:
                self.close()
                raise UsageError(
                    f"--from {escape_control(self.name)}: cannot read {what} ({_why(exc)}); pipe "
                    "the CSV in, or give --from FILE"
                ) from None
        assert self._temporary is not None
        return self._temporary

    def _open_copy(self) -> IO[bytes]:
        if self._spool is None:
            copy = tempfile.NamedTemporaryFile("wb", suffix=".csv", delete=False)  # noqa: SIM115
            self._temporary = Path(copy.name)
            return copy
        from voucherctl.storage.engines import try_lock
        from voucherctl.storage.private_files import open_private, private_folder

        try:
            private_folder(self._spool)
            _remove_abandoned(self._spool)
            path = self._spool / f"{os.getpid()}-{secrets.token_hex(4)}.csv"
            fd = open_private(path, os.O_RDWR | os.O_TRUNC)
        except OSError as exc:
            raise UsageError(
                f"--from {escape_control(self.name)}: cannot keep a copy of the input in "
                f"{escape_control(str(self._spool))} ({_why(exc)}); nothing was sent. Make the "
                "data directory writable, or give --from FILE"
            ) from None
        try_lock(fd)
        self._temporary, self._lock_fd = path, fd
        return open(os.dup(fd), "wb")

    def unused_columns(self, operation: Operation[Any]) -> list[str]:
        """Columns of the header that ``operation`` does not take (they are ignored)."""
        with self.path.open(encoding="utf-8-sig", errors="surrogateescape", newline="") as handle:
            header = next(_csv_reader(_Lines(handle, self.name)), [])
        return [cell.strip() for cell in header if cell.strip() not in operation.columns]

    def close(self) -> None:
        if self._temporary:
            self._temporary.unlink(missing_ok=True)
            self._temporary = None
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    def identity(self) -> str:
        """What names this input for the default run: a hash of its content, whether it is a
        file, a copy of it, or stdin. The same rows run again are the same run (resumed, or
        refused as finished); an input with rows added or changed is a new run, whose rows
        done before are skipped by the ledger's guard and whose new rows are sent."""
        import hashlib

        content = hashlib.sha256()
        with self.path.open("rb") as handle:
            while chunk := handle.read(1 << 20):
                content.update(chunk)
        return content.hexdigest()

    def rows(
        self, operation: Operation[Any], fills: Fills, *, identify: bool | str = True
    ) -> Iterator[Row]:
        """Every data row, validated, with its line number (the header is line 1).

        ``identify``: give each valid row its key (False: none); "unique" when no request
        repeats in the file (as validation found), which spares the index of occurrences."""
        with self.path.open(encoding="utf-8-sig", errors="surrogateescape", newline="") as handle:
            mode = "unique" if identify is True and self.unique else identify
            yield from _rows(handle, operation, fills, self.name, mode)


def _remove_abandoned(spool: Path) -> None:
    """Copies of stdin whose run is gone (killed before it could remove its copy)."""
    from voucherctl.storage.engines import try_lock

    for path in spool.glob("*.csv"):
        try:
            fd = os.open(path, os.O_RDWR | os.O_NONBLOCK)
        except OSError:
            continue
        try:
            if try_lock(fd):
                path.unlink(missing_ok=True)
        finally:
            os.close(fd)


def _why(exc: Exception) -> str:
    return exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)


def _copy_bytes(stdin: IO[str], copy: IO[bytes]) -> None:
    """stdin as the bytes it was given, so that its encoding is checked like a file's."""
    buffer = getattr(stdin, "buffer", None)
    if buffer is not None:
        shutil.copyfileobj(buffer, copy)
        return
    for chunk in iter(lambda: stdin.read(1 << 20), ""):
        copy.write(chunk.encode("utf-8", "surrogateescape"))


def _rows(
    handle: IO[str], operation: Operation[Any], fills: Fills, name: str, identify: bool | str
) -> Iterator[Row]:
    # strict: a quote left open would otherwise swallow every row after it into one cell
    reader = _csv_reader(_Lines(handle, name), strict=True)
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise UsageError(f"{name}: line 1: {_reason(exc)}") from None
    if header:
        _check_encoding(header, 1, name)
    if not header or not any(cell.strip() for cell in header):
        raise UsageError(f"{name}: the file is empty; its first line must name the columns")
    columns = _check_header([cell.strip() for cell in header], operation, fills, name)
    names = {column: column for column in operation.columns}  # errors speak of the column
    start = reader.line_num + 1
    # No index when every request is known to be unique (a file validated with no repeats):
    # each is its first occurrence, and the run's memory stays flat in its rows.
    requests = RequestIndex() if identify is True else None
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            # A row the reader cannot get past ends the input; say where and stop.
            raise UsageError(f"{name}: line {start}: {_reason(exc)}") from None
        line, start = start, reader.line_num + 1
        _check_encoding(cells, line, name)
        if not any(cell.strip() for cell in cells):
            continue  # blank lines, e.g. at the end of a file
        row = _row(line, cells, columns, operation, fills, names)
        if identify and row.error is None:
            request = digest(row.params)
            first_line, occurrence = requests.note(request, line) if requests else (line, 0)
            row = replace(row, key=f"{request}/{occurrence}", first_line=first_line)
        yield row


class _Lines:
    """The lines of a file for the csv module, each read in at most MAX_LINE_CHARS (and its
    line ending): a longer line is a usage error naming it, in bounded memory."""

    def __init__(self, handle: IO[str], name: str) -> None:
        self._handle, self._name, self._number = handle, name, 0

    def __iter__(self) -> "_Lines":
        return self

    def __next__(self) -> str:
        line = self._handle.readline(MAX_LINE_CHARS + 2)  # room for a "\r\n" ending
        if not line:
            raise StopIteration
        self._number += 1
        if len(line.rstrip("\r\n")) > MAX_LINE_CHARS:
            raise UsageError(
                f"{self._name}: line {self._number}: the line is over {MAX_LINE_CHARS} "
                f"characters (a cell holds at most {MAX_CELL_CHARS}); nothing was sent"
            )
        return line


def unguard(cell: str) -> str:
    """A cell's value: without the blanks around it, and without one leading ', which CSV
    output puts before a cell that a spreadsheet would run as a formula (``-1+1``) or that
    starts with ' itself (docs/contract.md#bulk-runs)."""
    text = cell.strip()
    return text[1:] if text.startswith("'") else text


def _check_encoding(cells: list[str], line: int, name: str) -> None:
    """Stop at the first row that is not UTF-8: the whole file is in another encoding."""
    text = "".join(cells)
    # NUL in the header: UTF-16, with or without its BOM. (In a data row it is a control
    # character, which validation refuses for that row alone.)
    if line == 1 and ("\x00" in text or text.startswith(_UTF16_BOMS)):
        kind = "UTF-16 (Excel's 'Unicode text'), not UTF-8"
    elif _UNDECODED.search(text):
        kind = "not UTF-8 text"
    else:
        return
    raise UsageError(
        f"{name}: line {line}: {kind}; save the file as UTF-8 CSV (Excel: 'CSV UTF-8')"
    )


def _row(
    line: int,
    cells: list[str],
    columns: list[str],
    operation: Operation[Any],
    fills: Fills,
    names: Mapping[str, str],
) -> Row:
    known = operation.columns
    values = {
        column: value
        for column, cell in zip(columns, cells, strict=False)
        if column in known and (value := unguard(cell))
    }
    values = fills.apply(values)
    if len(cells) != len(columns):
        error = f"has {len(cells)} cells, the header names {len(columns)} columns"
        return Row(line, values, error=error)
    if any(len(cell) > MAX_CELL_CHARS for cell in cells):
        return Row(line, values, error=f"a cell is over {MAX_CELL_CHARS} characters")
    # A row that names its voucher several ways (a list's CSV does) sends the way the API
    # recommends, the first of operation.preferred it has.
    named = [column for column in operation.preferred if values.get(column)]
    request = {k: v for k, v in values.items() if k not in named[1:]}
    try:
        params = operation.params(request, names)
    except VoucherctlError as exc:
        return Row(line, values, error=exc.message)
    return Row(line, values, params=params)


def _check_header(
    header: list[str], operation: Operation[Any], fills: Fills, name: str
) -> list[str]:
    known = set(operation.columns)
    if not known & set(header):
        listed = ", ".join(escape_control(column) or "(blank)" for column in header)
        raise UsageError(
            f"{name}: none of the columns ({listed}) is one {operation.command} takes: "
            f"{', '.join(operation.columns)}"
        )
    repeated = {column for column in header if column in known and header.count(column) > 1}
    if repeated:
        raise UsageError(f"{name}: column(s) named twice: {', '.join(sorted(repeated))}")
    clashing = [column for column in fills.given if column in header]
    if clashing:
        raise UsageError(
            f"{name} has the column(s) {', '.join(clashing)} that a command-line option also "
            "gives; drop the option or the column"
        )
    return header


def _reason(exc: Exception) -> str:
    text = str(exc)
    if "field larger than field limit" in text:
        return f"a cell is over {MAX_CELL_CHARS} characters"
    if "unexpected end of data" in text:
        return 'a quoted cell starts in this row and is never closed (a stray ")'
    return f"not valid CSV ({escape_control(text)})"


def _csv_reader(lines: Iterable[str], *, strict: bool = False) -> "_csv.Reader":
    """csv's reader, with the cell limit set for it: a longer cell is an error, not a memory
    hog. (csv keeps the limit for the whole process; only bulk input reads CSV.)"""
    csv.field_size_limit(MAX_CELL_CHARS + 1)
    return csv.reader(lines, strict=strict)
