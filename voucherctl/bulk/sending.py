"""Sending the rows of a bulk run, N at a time, each at most once, each recorded before and after.

Each row is decided in the ledger at the moment it is sent (docs/contract.md#bulk-runs): never
while an identical request is in flight elsewhere, skipped when its run did it, and in an
unnamed run when another run did it. A run stops starting rows when it is interrupted (Ctrl-C,
SIGTERM), when the credentials are refused, when the API's quota is spent until later than
``--max-wait``, or when the ledger stops accepting records; rows in flight finish, and the
summary counts the rest as not started.
"""

import signal
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import contextmanager, suppress
from itertools import islice
from typing import Any, Generic

from voucherctl.api.transport.pacing import Pacer, clock_time
from voucherctl.bulk.report import Outcome, Report, RowOutcome
from voucherctl.bulk.rows import Row, Source
from voucherctl.changes.operation import BulkOptions, Client, Fills, Operation
from voucherctl.changes.recording import error_object
from voucherctl.core.errors import (
    DoneElsewhereRowError,
    ExitCode,
    LedgerLostError,
    NotSentError,
    NotStartedError,
    OutputClosedError,
    QuotaSpentError,
    RowsFailedError,
    VoucherctlError,
)
from voucherctl.core.text import escape_control
from voucherctl.storage.engines import LedgerError
from voucherctl.storage.ledger import Decision, Ledger, Request, Run
from voucherctl.ui.environment import Environment

NOT_RESENT = (
    "an earlier run sent this row and got no answer, and the voucher's state does not show "
    "the change; not resent, because it could be made twice (check it, then add "
    "--retry-unknown to resend)"
)
WAIT_SECONDS = 0.05  # between looks at an identical request in flight elsewhere


class _Stop:
    """Why the run stops starting rows, if it does; the first reason wins. ``error`` is what
    the run ends with: the one error line (docs/contract.md#row-records-and-summary)."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self.code: ExitCode | None = None
        self.message: str | None = None
        self.error: VoucherctlError | None = None
        self._lock = threading.Lock()

    def now(self, error: VoucherctlError) -> None:
        with self._lock:
            if self.code is None:
                self.code, self.message, self.error = error.exit_code, error.message, error
        self.event.set()

    def after(self, outcome: Outcome, output_error: str | None) -> None:
        """Stop starting rows when how this row ended says the run cannot go on."""
        if outcome.exit_code == ExitCode.AUTH:
            why = f"{outcome.error}: no more rows were started"
            self.now(_like(outcome, ExitCode.AUTH, why))
        if outcome.stops_run is not None:
            self.now(_like(outcome, *outcome.stops_run))
        if outcome.journal_error:
            self.now(LedgerLostError(outcome.journal_error))
        if output_error:
            self.now(OutputClosedError(output_error))

    def not_started(self, row: Row) -> Outcome:
        """A row the stopped run did not start: ``skipped``, its error saying why."""
        if row.error:  # an invalid row (--skip-invalid) is failed, started or not
            return Outcome(row, RowOutcome.FAILED, int(ExitCode.USAGE), row.error)
        code = self.code if self.code is not None else ExitCode.ERROR
        why = f"not started: {self.message or 'the run stopped'}"
        return Outcome(row, RowOutcome.SKIPPED, int(code), why, api_error=NotStartedError.api_error)


def _like(outcome: Outcome, code: ExitCode, why: str) -> VoucherctlError:
    """The run's error, named as the row that stopped it was (``quota_spent``, ``auth_failed``)."""
    return VoucherctlError(
        why, exit_code=code, http_status=outcome.http_status, api_error=outcome.api_error
    )


def send_rows(
    env: Environment,
    source: Source,
    operation: Operation[Client],
    options: BulkOptions,
    client: Client,
    ledger: Ledger,
    run: Run,
    host: str,
    total: int,
    pacer: Pacer | None,
    fills: Fills,
) -> ExitCode:
    """Send every row; the exit code of the run."""
    stop = _Stop()
    rows = _Rows(operation, options, client, ledger, run, host, stop)

    def process(row: Row) -> None:
        if stop.event.is_set():  # stopped while this row waited for a worker
            report.add(stop.not_started(row))
            return
        try:
            outcome = rows.run_row(row)
        except LedgerError as exc:  # before the row was sent: it is not started
            stop.now(LedgerLostError(_lost(ledger, exc)))
            report.add(stop.not_started(row))
            return
        if outcome is None:  # stopped while an identical request was in flight elsewhere
            report.add(stop.not_started(row))
            return
        report.add(outcome)
        stop.after(outcome, report.output_error)

    with (
        Report(env, operation.command, operation.columns, total, pacer) as report,
        _stopped_by_signals(stop),
    ):
        rows_to_send = source.rows(operation, fills)
        if run.earlier is not None:  # going on with a run: what it did is skipped in batches
            rows_to_send = _not_done(rows_to_send, ledger, run, report, stop)
        _dispatch(rows_to_send, options.concurrency, process, stop)
        for row in rows_to_send:  # every row of the file prints, those not started too
            report.add(stop.not_started(row))
    not_started = total - sum(report.counts.values())
    with suppress(LedgerError):  # left unwritten, the run counts as not finished: it resumes
        ledger.end_run(run, finished=stop.code is None and not not_started, reason=stop.message)
    env.info(report.summary(not_started=not_started, run=escape_control(run.name)))
    if stop.error is not None:
        raise stop.error  # the one error line: text, or the error object under -o json|jsonl
    failed = report.counts[RowOutcome.FAILED] + report.counts[RowOutcome.UNKNOWN]
    if failed and env.options.output in ("json", "jsonl"):
        raise RowsFailedError(
            f"{failed} of {total} rows of {source.name} failed or have an unknown outcome; "
            "each has its error on stdout"
        )
    return ExitCode.BULK_FAILED if failed else ExitCode.OK


def _lost(ledger: Ledger, exc: LedgerError) -> str:
    return (
        f"the ledger {ledger.shown} stopped accepting records ({exc.message}); "
        "no more rows were started"
    )


DONE_BATCH = 500  # rows looked up in the ledger at once when going on with a run


def _not_done(
    rows: Iterator[Row], ledger: Ledger, run: Run, report: Report, stop: _Stop
) -> Iterator[Row]:
    """The rows ``run`` has not done yet; those it did are reported skipped here, a batch at a
    time, without a worker or a transaction each (a finished 100,000-row run resumed in
    seconds). Every row yielded is still decided by the ledger as it is sent."""
    for batch in batched(rows, DONE_BATCH):
        done: set[str] = set()
        if not stop.event.is_set():  # stopped: the rest go on, to be reported not started
            try:
                done = ledger.done_rows(run, [row.key for row in batch if row.error is None])
            except LedgerError as exc:
                stop.now(LedgerLostError(_lost(ledger, exc)))
        for row in batch:
            if row.error is None and row.key in done:
                report.add(Outcome(row, RowOutcome.SKIPPED, int(ExitCode.OK)))
            else:
                yield row


def batched(rows: Iterator[Row], size: int) -> Iterator[list[Row]]:
    while batch := list(islice(rows, size)):
        yield batch


def _dispatch(
    rows: Iterator[Row], concurrency: int, process: Callable[[Row], None], stop: "_Stop"
) -> None:
    """``process`` every row on ``concurrency`` workers, the input read only a little ahead;
    once the run stops, no more rows start (``rows`` keeps those not taken)."""
    in_flight: set[Future[None]] = set()
    with ThreadPoolExecutor(concurrency, thread_name_prefix="bulk") as pool:
        while not stop.event.is_set():
            row = next(rows, None)
            if row is None:
                break
            while len(in_flight) >= concurrency * 2:
                _, in_flight = wait(in_flight, return_when=FIRST_COMPLETED)
            in_flight.add(pool.submit(process, row))
        for future in in_flight:
            future.result()


class _Rows(Generic[Client]):
    """One row at a time: decided in the ledger, sent at most once, its outcome recorded."""

    def __init__(
        self,
        operation: Operation[Client],
        options: BulkOptions,
        client: Client,
        ledger: Ledger,
        run: Run,
        host: str,
        stop: _Stop,
    ) -> None:
        self.operation, self.options, self.client = operation, options, client
        self.ledger, self.run, self.host, self.stop = ledger, run, host, stop

    def run_row(self, row: Row) -> Outcome | None:
        """How the row ended; None when the run stopped before it could start."""
        if row.error:
            return Outcome(row, RowOutcome.FAILED, int(ExitCode.USAGE), row.error)
        request = Request(self.operation.command, self.host, row.params, row.key.partition("/")[0])
        decision = self._decide(request, row, resend=False)
        if decision is None:
            return None
        if decision.kind == "done":
            return Outcome(row, RowOutcome.SKIPPED, int(ExitCode.OK))
        if decision.kind == "elsewhere":
            why = (
                f"done before on {escape_control(self.host)} by {decision.by}; not sent "
                "again (add --again to send it)"
            )
            return _done_elsewhere(row, why)
        if decision.kind == "unknown":
            assert decision.change is not None
            settled = _settle(row, self.operation, self.client)
            if settled or not self.options.retry_unknown:
                if settled is None:
                    return Outcome(
                        row, RowOutcome.UNKNOWN, int(ExitCode.OUTCOME_UNKNOWN), NOT_RESENT
                    )
                return self._recorded(settled, decision.change)  # the same record, settled
            decision = self._decide(request, row, resend=True)
            if decision is None:
                return None
            if decision.kind == "elsewhere":  # another run did it meanwhile
                why = f"done before on {escape_control(self.host)} by {decision.by}; not sent again"
                return _done_elsewhere(row, why)
        assert decision.change is not None
        outcome = _attempt(row, self.operation, self.client, resent=decision.kind != "send")
        return self._recorded(outcome, decision.change)

    def _decide(self, request: Request, row: Row, *, resend: bool) -> Decision | None:
        """The ledger's decision, waiting while an identical request is in flight elsewhere."""
        while True:
            decision = self.ledger.begin(
                request, run=self.run, row=(row.key, row.line), resend=resend
            )
            if decision.kind != "wait":
                if resend and decision.kind == "send":
                    return Decision("resend", decision.change)
                return decision
            if self.stop.event.is_set():
                return None
            time.sleep(WAIT_SECONDS)

    def _recorded(self, outcome: Outcome, change: int) -> Outcome:
        """The outcome, written onto the change's record; a ledger that fails does not change it."""
        error = None
        if outcome.outcome != RowOutcome.OK:
            error = error_object(None, outcome.error, outcome.exit_code)
            error.update(http_status=outcome.http_status, api_error=outcome.api_error)
        named = None  # what the answer names besides the request (a voucher's key and id)
        if (
            outcome.outcome == RowOutcome.OK
            and outcome.result is not None
            and self.operation.recorded
        ):
            named = {**outcome.row.params, **self.operation.recorded(outcome.result)}
        try:
            self.ledger.settle(change, outcome.outcome, outcome.exit_code, error, identifiers=named)
        except LedgerError as exc:
            outcome.journal_error = _lost(self.ledger, exc)
        return outcome


def _attempt(row: Row, operation: Operation[Client], client: Client, *, resent: bool) -> Outcome:
    """Send the row's request once; how it ended, and whether the run can go on."""
    try:
        return Outcome(
            row, RowOutcome.OK, int(ExitCode.OK), result=operation.call(client, row.params)
        )
    except QuotaSpentError as exc:  # not carried out, sent or not: the row failed, safely
        resets = clock_time(exc.resets_at)
        return _stopping(
            Outcome.failure(row, RowOutcome.FAILED, exc),
            ExitCode.RATE_LIMITED,
            f"the API's quota is spent until {resets}, later than --max-wait allows: no more "
            f"rows were started. Run the same command again after {resets} to go on (or give "
            "a --max-wait long enough to wait for it)",
        )
    except NotSentError as exc:  # the host is unreachable: this row and the rest wait for it
        return _stopping(
            Outcome.failure(row, RowOutcome.FAILED, exc),
            ExitCode.OUTCOME_UNKNOWN,
            f"{exc.message}: no more rows were started. Run the same command again once the "
            "host can be reached, to go on",
        )
    except VoucherctlError as exc:
        refused_resend = resent and exc.exit_code == ExitCode.REJECTED
        settled = _settle(row, operation, client) if refused_resend else None
        unknown = exc.exit_code == ExitCode.OUTCOME_UNKNOWN
        return settled or Outcome(
            row,
            RowOutcome.UNKNOWN if unknown else RowOutcome.FAILED,
            int(exc.exit_code),
            exc.message,
            http_status=exc.http_status,
            api_error=exc.api_error,
        )
    except Exception as exc:  # a bug must not lose the row: it was sent, so its fate is unknown
        return Outcome(row, RowOutcome.UNKNOWN, int(ExitCode.ERROR), f"unexpected error: {exc!r}")


def _done_elsewhere(row: Row, why: str) -> Outcome:
    """Skipped, another run did it: the note is the row's error object, named
    ``done_elsewhere``, exit code 0 (docs/contract.md#row-records-and-summary)."""
    return Outcome(
        row, RowOutcome.SKIPPED, int(ExitCode.OK), why, api_error=DoneElsewhereRowError.api_error
    )


def _stopping(outcome: Outcome, code: ExitCode, why: str) -> Outcome:
    outcome.stops_run = (code, why)
    return outcome


def _settle(row: Row, operation: Operation[Client], client: Client) -> Outcome | None:
    """The row as done, when the voucher's state shows its change was made."""
    if operation.settle is None:
        return None
    try:
        result = operation.settle(client, row.params)
    except VoucherctlError:
        return None
    return Outcome(row, RowOutcome.OK, int(ExitCode.OK), result=result) if result else None


@contextmanager
def _stopped_by_signals(stop: _Stop) -> Iterator[None]:
    """Ctrl-C and SIGTERM stop new rows from starting; rows in flight finish."""

    def handle(signum: int, frame: object) -> None:
        stop.now(VoucherctlError("interrupted", exit_code=ExitCode.INTERRUPTED))

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
