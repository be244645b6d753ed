"""Running the rows of a bulk file: validate all, then send each at most once, N at a time."""

import csv
import hashlib
import json
import signal
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic

from voucherctl import config, output
from voucherctl.bulk.journal import OK, UNKNOWN, Journal
from voucherctl.bulk.report import Outcome, Report
from voucherctl.bulk.rows import FirstLines, Row, Source
from voucherctl.env import Environment
from voucherctl.errors import ExitCode, UsageError, VoucherctlError
from voucherctl.operation import BulkOptions, Client, Fills, Operation
from voucherctl.pacing import Pacer

MAX_LISTED_INVALID = 20
MAX_LISTED_REPEATS = 20


@dataclass(frozen=True)
class Target(Generic[Client]):
    """Where a run sends: the API client, and the host its journal records."""

    client: Client
    host: str


def run(
    env: Environment,
    operation: Operation[Client],
    fills: Fills,
    options: BulkOptions,
    start: Callable[[Pacer], Target[Client]],
) -> ExitCode:
    """Validate every row, then send them; the exit code the run ends with
    (docs/contract.md#row-records-and-summary)."""
    assert options.source is not None
    source = Source(options.source, env.stdin)
    try:
        total = _validate(env, source, operation, fills, options)
        if options.dry_run:
            return _dry_run(env, source, operation, fills)
        target = start(Pacer(options.max_rate))
        target.client.authenticate()  # a refused credential stops the run before any row
        path = _journal_path(env, options, operation, source, target, fills)
        try:
            journal = Journal(path, _journal_header(operation, target, fills))
        except OSError as exc:  # nothing was sent yet: a journal we cannot keep stops the run
            raise UsageError(
                f"cannot use {path} as the journal: {exc.strerror or exc}; "
                "nothing was sent (give another --journal PATH)"
            ) from None
        try:
            return _send_rows(env, source, operation, fills, options, target.client, journal, total)
        finally:
            journal.close()
    finally:
        source.close()


def _validate(
    env: Environment,
    source: Source,
    operation: Operation[Any],
    fills: Fills,
    options: BulkOptions,
) -> int:
    """Read the whole input once; invalid rows stop the run before anything is sent.

    Rows that would send the same request as an earlier row are sent too (two lines are two
    rows, in the journal as well), but named in a warning first: a handout repeated gives the
    user a second voucher, a claim repeated fails.
    """
    total = invalid = repeated = 0
    first_lines = FirstLines()
    repeats: list[tuple[int, int]] = []  # (line, first line) of the first few repeats
    for row in source.rows(operation, fills):
        total += 1
        if row.error:
            invalid += 1
            if invalid <= MAX_LISTED_INVALID and not options.skip_invalid:
                env.error(f"{source.name}: line {row.line}: {row.error}")
            continue
        first = first_lines.first(row.params, row.line)
        if first != row.line:
            repeated += 1
            if repeated <= MAX_LISTED_REPEATS:
                repeats.append((row.line, first))
    if invalid and not options.skip_invalid:
        more = f" (the first {MAX_LISTED_INVALID} listed)" if invalid > MAX_LISTED_INVALID else ""
        raise UsageError(
            f"{invalid} of {total} rows are invalid{more}; nothing was sent. Fix them, or "
            "add --skip-invalid to send the valid rows and report the others as failed"
        )
    if invalid:
        env.warn(f"{invalid} invalid rows will be reported as failed and not sent")
    if not total:
        env.warn(f"{source.name} has no rows under its header: nothing to do")
    _warn_repeats(env, source.name, operation, repeats, repeated)
    return total


def _warn_repeats(
    env: Environment,
    name: str,
    operation: Operation[Any],
    repeats: list[tuple[int, int]],
    repeated: int,
) -> None:
    for line, first in repeats:
        env.warn(f"{name}: line {line} repeats line {first}")
    if not repeated:
        return
    more = f" (the first {MAX_LISTED_REPEATS} listed)" if repeated > MAX_LISTED_REPEATS else ""
    consequence = (
        "a user named twice gets a voucher for each"
        if operation.command == "handout"
        else "the repeats will likely be refused"
    )
    env.warn(
        f"{repeated} rows repeat an earlier row{more}; every row is sent, so "
        f"{consequence}; remove the repeats you do not mean"
    )


def _dry_run(env: Environment, source: Source, operation: Operation[Any], fills: Fills) -> ExitCode:
    """Print the request each row would make; send nothing."""
    fmt = env.output_format(bulk=True)
    records = (
        {
            "line": row.line,
            "input": row.input,
            "request": None
            if row.error
            else {
                "method": operation.method,
                "path": operation.path,
                "form": row.params,
            },
            "error": row.error,
        }
        for row in source.rows(operation, fills)
    )
    if fmt == "table":
        columns = [
            output.field("Line", "line"),
            output.Column("Would send", lambda r: _describe_request(r["request"])),
            output.field("Error", "error"),
        ]
        output.print_list(env, list(_first(records, 500)), columns, title="Dry run")
    elif fmt == "json":
        env.stdout.write("[\n" + ",\n".join(output.to_json(r) for r in records) + "\n]\n")
    elif fmt == "csv":
        _dry_run_csv(env, source.rows(operation, fills), operation)
    else:
        for record in records:
            env.stdout.write(output.to_json(record) + "\n")
    env.info(f"{operation.command}: dry run, nothing was sent")
    return ExitCode.OK


def _dry_run_csv(env: Environment, rows: Iterator[Row], operation: Operation[Any]) -> None:
    """The dry run as CSV: like a run's report, with the request where the outcome would be."""
    writer = csv.writer(env.stdout, lineterminator="\n")
    writer.writerow(["line", "error", *operation.columns, "request"])
    for row in rows:
        request = (
            None
            if row.error
            else {"method": operation.method, "path": operation.path, "form": row.params}
        )
        cells = [row.line, row.error, *(row.input.get(c) for c in operation.columns), request]
        writer.writerow(output.csv_cell(cell) for cell in cells)


def _describe_request(request: dict[str, Any] | None) -> str:
    if request is None:
        return ""
    form = "&".join(f"{k}={v}" for k, v in request["form"].items())
    return f"{request['method']} {request['path']} {form}"


def _first(records: Iterator[dict[str, Any]], limit: int) -> Iterator[dict[str, Any]]:
    for count, record in enumerate(records):
        if count == limit:
            return
        yield record


def _journal_header(operation: Operation[Any], target: Target[Any], fills: Fills) -> dict[str, Any]:
    return {"command": operation.command, "host": target.host, "fixed": fills.fixed()}


def _journal_path(
    env: Environment,
    options: BulkOptions,
    operation: Operation[Any],
    source: Source,
    target: Target[Any],
    fills: Fills,
) -> Path:
    """``--journal``, else one per input, command, host and options in the data directory, so
    that running the same command on the same file again resumes even without ``--journal``."""
    if options.journal:
        try:
            return Path(options.journal).expanduser()
        except RuntimeError:  # ~someone, and no one has that name
            raise UsageError(f"--journal {options.journal}: no such user") from None
    key = json.dumps([operation.command, target.host, fills.fixed(), source.identity()])
    name = f"{operation.command}-{hashlib.sha256(key.encode()).hexdigest()[:16]}.jsonl"
    return config.data_dir(env.environ) / "journals" / name


def _send_rows(
    env: Environment,
    source: Source,
    operation: Operation[Any],
    fills: Fills,
    options: BulkOptions,
    client: Client,
    journal: Journal,
    total: int,
) -> ExitCode:
    stop = threading.Event()
    credentials_refused = threading.Event()

    def process(row: Row) -> None:
        outcome = _run_row(row, operation, options, client, journal)
        if outcome.exit_code == ExitCode.AUTH:
            credentials_refused.set()
            stop.set()
        report.add(outcome)

    with (
        Report(env, operation.command, operation.columns, total) as report,
        _stopped_by_signals(stop) as interrupted,
    ):
        in_flight: set[Future[None]] = set()
        with ThreadPoolExecutor(options.concurrency, thread_name_prefix="bulk") as pool:
            for row in source.rows(operation, fills):
                if stop.is_set():
                    break
                while len(in_flight) >= options.concurrency * 2:
                    _, in_flight = wait(in_flight, return_when=FIRST_COMPLETED)
                in_flight.add(pool.submit(process, row))
            for future in in_flight:
                future.result()
    not_started = total - sum(report.counts.values())
    env.info(report.summary(not_started=not_started, journal=str(journal.path)))
    if interrupted():
        return ExitCode.INTERRUPTED
    if credentials_refused.is_set():
        return ExitCode.AUTH
    if report.counts["failed"] or report.counts["unknown"]:
        return ExitCode.BULK_FAILED
    return ExitCode.OK


def _run_row(
    row: Row, operation: Operation[Client], options: BulkOptions, client: Client, journal: Journal
) -> Outcome:
    """Send one row at most once, recording it in the journal before and after."""
    if row.error:
        return Outcome(row, "failed", int(ExitCode.USAGE), row.error)
    previous = journal.state(row)
    if previous == OK:
        return Outcome(row, "skipped", int(ExitCode.OK))
    if previous == UNKNOWN and not (options.retry_unknown or operation.idempotent):
        return Outcome(
            row,
            "unknown",
            int(ExitCode.OUTCOME_UNKNOWN),
            "an earlier run sent this row and got no answer; not resent, because it could "
            "be done twice (check it, then use --retry-unknown to resend)",
        )
    journal.sent(row)
    try:
        outcome = Outcome(row, "ok", int(ExitCode.OK), result=operation.call(client, row.params))
    except VoucherctlError as exc:
        settled = _settle(row, operation, client, exc) if previous == UNKNOWN else None
        unknown = exc.exit_code == ExitCode.OUTCOME_UNKNOWN
        outcome = settled or Outcome(
            row, "unknown" if unknown else "failed", int(exc.exit_code), exc.message
        )
    except Exception as exc:  # a bug must not lose the row: it was sent, so its fate is unknown
        outcome = Outcome(row, "unknown", int(ExitCode.ERROR), f"unexpected error: {exc!r}")
    journal.finished(row, outcome.outcome, outcome.exit_code, outcome.error)
    return outcome


def _settle(
    row: Row, operation: Operation[Client], client: Client, exc: VoucherctlError
) -> Outcome | None:
    """An earlier attempt got no answer and the resend was refused: ask the API what is so."""
    if operation.settle is None or exc.exit_code != ExitCode.REJECTED:
        return None
    try:
        result = operation.settle(client, row.params)
    except VoucherctlError:
        return None
    return Outcome(row, "ok", int(ExitCode.OK), result=result) if result else None


@contextmanager
def _stopped_by_signals(stop: threading.Event) -> Iterator[Callable[[], bool]]:
    """Ctrl-C and SIGTERM stop new rows from starting; rows in flight finish."""
    received: list[int] = []

    def handle(signum: int, frame: object) -> None:
        received.append(signum)
        stop.set()

    if threading.current_thread() is not threading.main_thread():
        yield lambda: False
        return
    previous = {sig: signal.signal(sig, handle) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield lambda: bool(received)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
