"""Sending the rows of a bulk run, N at a time, each at most once, each recorded before and after.

A run stops starting rows when it is interrupted (Ctrl-C, SIGTERM), when the credentials are
refused, when the API's quota is spent until later than ``--max-wait``, or when the journal
stops accepting records; rows in flight finish, and the summary counts the rest as not started.
"""

import secrets
import signal
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from voucherctl.api.transport.pacing import Pacer, clock_time
from voucherctl.bulk.journal import FAILED, OK, UNKNOWN, Journal, JournalWriteError
from voucherctl.bulk.report import Outcome, Report
from voucherctl.bulk.rows import Row, Source
from voucherctl.changes.operation import BulkOptions, Client, Fills, Operation
from voucherctl.core.errors import ExitCode, NotSentError, QuotaSpentError, VoucherctlError
from voucherctl.storage import audit_log
from voucherctl.ui.environment import Environment

NOT_RESENT = (
    "an earlier run sent this row and got no answer, and the voucher's state does not show "
    "the change; not resent, because it could be made twice (check it, then add "
    "--retry-unknown to resend)"
)


class _Stop:
    """Why the run stops starting rows, if it does; the first reason wins."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self.code: ExitCode | None = None
        self.message: str | None = None
        self._lock = threading.Lock()

    def now(self, code: ExitCode, message: str | None = None) -> None:
        with self._lock:
            if self.code is None:
                self.code, self.message = code, message
        self.event.set()

    def after(self, outcome: Outcome, output_error: str | None) -> None:
        """Stop starting rows when how this row ended says the run cannot go on."""
        if outcome.exit_code == ExitCode.AUTH:
            self.now(ExitCode.AUTH)
        if outcome.stops_run is not None:
            self.now(*outcome.stops_run)
        if outcome.journal_error or output_error:
            self.now(ExitCode.ERROR, outcome.journal_error or output_error)


def send_rows(
    env: Environment,
    source: Source,
    operation: Operation[Client],
    fills: Fills,
    options: BulkOptions,
    client: Client,
    journal: Journal,
    total: int,
    pacer: Pacer | None = None,
) -> ExitCode:
    """Send every row; the exit code of the run."""
    stop = _Stop()
    history = History(journal, audit_log.log_path(env.environ))

    def process(row: Row) -> None:
        if stop.event.is_set():
            return  # stopped while this row waited for a worker: it is not started
        try:
            outcome = _run_row(row, operation, options, client, history)
        except JournalWriteError as exc:  # before the row was sent: it is not started
            stop.now(ExitCode.ERROR, exc.message)
            return
        report.add(outcome)
        stop.after(outcome, report.output_error)

    journal.begin_run()
    with (
        Report(env, operation.command, operation.columns, total, pacer) as report,
        _stopped_by_signals(stop),
    ):
        _dispatch(source.rows(operation, fills), options.concurrency, process, stop)
    not_started = total - sum(report.counts.values())
    _end_run(journal, stop, not_started)
    if stop.message:
        env.error(stop.message)
    env.info(report.summary(not_started=not_started, journal=journal.shown))
    if stop.code is not None:
        return stop.code
    if report.counts["failed"] or report.counts["unknown"]:
        return ExitCode.BULK_FAILED
    return ExitCode.OK


def _dispatch(
    rows: Iterator[Row], concurrency: int, process: Callable[[Row], None], stop: "_Stop"
) -> None:
    """``process`` every row on ``concurrency`` workers, the input read only a little ahead;
    once the run stops, no more rows start."""
    in_flight: set[Future[None]] = set()
    with ThreadPoolExecutor(concurrency, thread_name_prefix="bulk") as pool:
        for row in rows:
            if stop.event.is_set():
                break
            while len(in_flight) >= concurrency * 2:
                _, in_flight = wait(in_flight, return_when=FIRST_COMPLETED)
            in_flight.add(pool.submit(process, row))
        for future in in_flight:
            future.result()


def _end_run(journal: Journal, stop: _Stop, not_started: int) -> None:
    # Left unwritten, the run counts as not finished, so running it again resumes it.
    with suppress(JournalWriteError):
        journal.end_run(finished=stop.code is None and not not_started, reason=stop.message)


class History:
    """What earlier runs did with a row: the journal, and the audit log where the journal lost
    an outcome (a full disk, a kill between the answer and its record)."""

    def __init__(self, journal: Journal, audit_log: Path) -> None:
        self.journal = journal
        self._audit_log = audit_log
        self._audited: dict[str, str] | None = None
        self._lock = threading.Lock()

    def state(self, row: Row) -> str | None:
        state = self.journal.state(row)
        if state != UNKNOWN:
            return state
        change = self.journal.change_of(row)
        if change is None:
            return state
        with self._lock:
            if self._audited is None:
                self._audited = audit_log.outcomes(self._audit_log)
        audited = self._audited.get(change)
        return audited if audited in (OK, FAILED) else UNKNOWN


def _run_row(
    row: Row, operation: Operation[Client], options: BulkOptions, client: Client, history: History
) -> Outcome:
    """Send one row at most once, recording it in the journal before and after."""
    if row.error:
        return Outcome(row, "failed", int(ExitCode.USAGE), row.error)
    journal = history.journal
    previous = history.state(row)
    if previous == OK:
        if journal.state(row) != OK:  # done, as the audit log knows: the journal learns it
            _recorded(Outcome(row, OK, int(ExitCode.OK)), journal)
        return Outcome(row, "skipped", int(ExitCode.OK))
    if previous == UNKNOWN:
        settled = _settle(row, operation, client)
        if settled or not options.retry_unknown:
            outcome = settled or Outcome(
                row, "unknown", int(ExitCode.OUTCOME_UNKNOWN), NOT_RESENT, api_error="not_resent"
            )
            return _recorded(outcome, journal)
    change = secrets.token_hex(8)  # ties the journal's record to the audit log's
    journal.sent(row, change)  # raises JournalWriteError: then nothing was sent
    token = audit_log.CHANGE_ID.set(change)
    try:
        outcome = _attempt(row, operation, client, resent=previous == UNKNOWN)
    finally:
        audit_log.CHANGE_ID.reset(token)
    return _recorded(outcome, journal)


def _attempt(row: Row, operation: Operation[Client], client: Client, *, resent: bool) -> Outcome:
    """Send the row's request once; how it ended, and whether the run can go on."""
    try:
        return Outcome(row, "ok", int(ExitCode.OK), result=operation.call(client, row.params))
    except QuotaSpentError as exc:  # not carried out, sent or not: the row failed, safely
        resets = clock_time(exc.resets_at)
        return _stopping(
            Outcome.failure(row, "failed", exc),
            ExitCode.RATE_LIMITED,
            f"the API's quota is spent until {resets}, later than --max-wait allows: no more "
            f"rows were started. Run the same command again after {resets} to go on (or give "
            "a --max-wait long enough to wait for it)",
        )
    except NotSentError as exc:  # the host is unreachable: this row and the rest wait for it
        return _stopping(
            Outcome.failure(row, "failed", exc),
            ExitCode.OUTCOME_UNKNOWN,
            f"{exc.message}: no more rows were started. Run the same command again once the "
            "host can be reached, to go on",
        )
    except audit_log.AuditWriteError as exc:  # not sent: no change goes unaudited
        return _stopping(Outcome.failure(row, "failed", exc), ExitCode.ERROR, exc.message)
    except VoucherctlError as exc:
        refused_resend = resent and exc.exit_code == ExitCode.REJECTED
        settled = _settle(row, operation, client) if refused_resend else None
        unknown = exc.exit_code == ExitCode.OUTCOME_UNKNOWN
        return settled or Outcome.failure(row, "unknown" if unknown else "failed", exc)
    except Exception as exc:  # a bug must not lose the row: it was sent, so its fate is unknown
        return Outcome(row, "unknown", int(ExitCode.ERROR), f"unexpected error: {exc!r}")


def _stopping(outcome: Outcome, code: ExitCode, why: str) -> Outcome:
    outcome.stops_run = (code, why)
    return outcome


def _recorded(outcome: Outcome, journal: Journal) -> Outcome:
    """The outcome, written to the journal; a journal that fails does not change it."""
    try:
        journal.finished(outcome.row, outcome.outcome, outcome.exit_code, outcome.error)
    except JournalWriteError as exc:
        outcome.journal_error = exc.message
    return outcome


def _settle(row: Row, operation: Operation[Client], client: Client) -> Outcome | None:
    """The row as done, when the voucher's state shows its change was made."""
    if operation.settle is None:
        return None
    try:
        result = operation.settle(client, row.params)
    except VoucherctlError:
        return None
    return Outcome(row, "ok", int(ExitCode.OK), result=result) if result else None


@contextmanager
def _stopped_by_signals(stop: _Stop) -> Iterator[None]:
    """Ctrl-C and SIGTERM stop new rows from starting; rows in flight finish."""

    def handle(signum: int, frame: object) -> None:
        stop.now(ExitCode.INTERRUPTED)

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous: dict[int, Callable[..., Any] | int | None] = {
        sig: signal.signal(sig, handle) for sig in (signal.SIGINT, signal.SIGTERM)
    }
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
