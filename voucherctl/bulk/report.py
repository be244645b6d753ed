"""What a bulk run shows: one record per row on stdout, progress and a summary on stderr."""

import csv
import io
import threading
import time
from collections import Counter
from contextlib import suppress
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from voucherctl.bulk.progress import Progress
from voucherctl.bulk.rows import Row
from voucherctl.core.errors import ExitCode, VoucherctlError, error_object
from voucherctl.ui import output

if TYPE_CHECKING:
    from voucherctl.api.transport.pacing import Pacer
    from voucherctl.ui.environment import Environment


class RowOutcome(StrEnum):
    """How a row ended, as its record says (docs/contract.md#row-records-and-summary)."""

    OK = "ok"
    FAILED = "failed"
    SKIPPED = "skipped"
    UNKNOWN = "unknown"


OUTCOMES = tuple(RowOutcome)
NEEDS_ATTENTION = (RowOutcome.FAILED, RowOutcome.UNKNOWN)
NOT_STARTED = "not_started"  # a row printed skipped because the run stopped before it
MAX_TABLE_ROWS = 200  # a terminal shows the rows that need attention, not ten thousand


@dataclass
class Outcome:
    """How one row ended."""

    row: Row
    outcome: RowOutcome
    exit_code: int
    error: str | None = None  # the message; with the two below, the row's error object
    result: dict[str, Any] | None = None
    http_status: int | None = None  # of the answer that failed, for the ledger's error object
    api_error: str | None = None
    journal_error: str | None = None  # the outcome could not be recorded: the run stops
    stops_run: "tuple[ExitCode, str] | None" = None  # the run cannot go on: why, and its code

    @classmethod
    def failure(cls, row: Row, outcome: RowOutcome, exc: VoucherctlError) -> "Outcome":
        """The row ended by ``exc``: its error object carries the API's status and name."""
        return cls(
            row,
            outcome,
            int(exc.exit_code),
            exc.message,
            http_status=exc.http_status,
            api_error=exc.api_error,
        )

    def error_object(self) -> dict[str, Any] | None:
        """The row's error as every error is shown to scripts (docs/contract.md#errors)."""
        if self.error is None:
            return None
        return error_object(
            self.error, self.exit_code, http_status=self.http_status, api_error=self.api_error
        )

    def record(self) -> dict[str, Any]:
        return {
            "line": self.row.line,
            "input": self.row.input,
            "outcome": self.outcome,
            "exit_code": self.exit_code,
            "error": self.error_object(),
            "result": self.result,
        }


class Report:
    """Prints each row as it ends (thread-safe) and counts outcomes for the summary."""

    def __init__(
        self,
        env: "Environment",
        command: str,
        columns: tuple[str, ...],
        total: int,
        pacer: "Pacer | None" = None,
    ):
        self.env = env
        self.command = command
        self.columns = columns
        self.total = total
        # With --query, each row's record is queried and printed on a line of its own.
        self.format = "query" if env.options.query is not None else env.output_format(bulk=True)
        self.counts: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._started = time.monotonic()
        self._first = True
        self._attention: list[Outcome] = []
        self._progress = Progress(env, command, total, pacer)
        self.output_error: str | None = None

    def __enter__(self) -> "Report":
        if self.format == "csv":
            header = ["line", "outcome", "exit_code", "error", *self.columns, "result"]
            self._emit(_csv_line(header))
        elif self.format == "json":
            self._emit("[", end="")
        self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._progress.stop()
        if self.format == "json":
            self._emit("]" if self._first else "\n]")
        elif self.format == "table":
            self._print_table()

    def add(self, outcome: Outcome) -> None:
        with self._lock:
            if outcome.api_error != NOT_STARTED:  # the summary counts those apart
                self.counts[outcome.outcome] += 1
            if self.format == "query":
                self._emit_queried(outcome)
            elif self.format == "jsonl":
                self._emit(output.to_json(outcome.record()))
            elif self.format == "json":
                separator = "\n" if self._first else ",\n"
                self._emit(separator + output.to_json(outcome.record()), end="")
                self._first = False
            elif self.format == "csv":
                self._emit(_csv_line(self._csv_cells(outcome)))
            elif outcome.outcome in NEEDS_ATTENTION and (len(self._attention) < MAX_TABLE_ROWS):
                self._attention.append(outcome)
            self._progress.row_ended(outcome.outcome in NEEDS_ATTENTION)

    def summary(self, *, not_started: int = 0, run: str | None = None) -> str:
        seconds = time.monotonic() - self._started
        done = sum(self.counts.values())
        parts = [f"{self.counts[name]} {name}" for name in OUTCOMES if self.counts[name]]
        rate = f", {done / seconds:.0f} rows/s" if seconds > 0 and done else ""
        text = f"{self.command}: {done} of {self.total} rows: {', '.join(parts) or 'none'}"
        text += f" in {seconds:.1f} s{rate}"
        if not_started:
            text += (
                f"; {not_started} not started, printed as skipped (run the same command "
                "again to go on)"
            )
        if run:
            text += f"; run {run}"
        return text

    def _csv_cells(self, outcome: Outcome) -> list[Any]:
        record = outcome.record()
        values = [record["line"], record["outcome"], record["exit_code"], outcome.error]
        values += [outcome.row.input.get(column) for column in self.columns]
        values.append(outcome.result)
        return values

    def _emit_queried(self, outcome: Outcome) -> None:
        try:
            text = output.queried(self.env, outcome.record(), one_line=True)
        except VoucherctlError as exc:
            self.output_error = f"{exc.message}; no more rows were started"
            return
        self._emit(text)

    def _emit(self, text: str, end: str = "\n") -> None:
        """To stdout; once stdout fails (closed, its reader gone), nothing more is tried and
        ``output_error`` says why, so that the run stops starting rows."""
        if self.output_error:
            return
        try:
            self.env.stdout.write(text + end)
            self.env.stdout.flush()
        except (OSError, ValueError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            self.output_error = (
                f"stdout stopped taking the rows' outcomes ({reason}); no more rows were "
                "started. The ledger has every outcome: run the same command again to go on"
            )

    def _print_table(self) -> None:
        if not self._attention:
            return
        columns = [
            output.field("Line", "line"),
            output.field("Outcome", "outcome"),
            output.field("Exit", "exit_code"),
            output.Column(
                "Input",
                lambda r: ", ".join(f"{k}={v}" for k, v in r["input"].items()),
                words=True,  # identifiers: wrapped between them, never inside one
            ),
            output.Column("Error", lambda r: (r["error"] or {}).get("message")),
        ]
        records = [outcome.record() for outcome in sorted(self._attention, key=_line)]
        # A stdout that fails: the summary on stderr still counts them, the ledger has them.
        with suppress(OSError, ValueError):
            output.print_list(self.env, records, columns, title="Rows that need attention")


def _line(outcome: Outcome) -> int:
    return outcome.row.line


def _csv_line(cells: list[Any]) -> str:
    buffer = io.StringIO()
    # lineterminator "\n" also makes the writer quote a cell holding a newline, so a server's
    # text cannot start a row of its own.
    csv.writer(buffer, lineterminator="\n").writerow(output.csv_cell(cell) for cell in cells)
    return buffer.getvalue()[:-1]
