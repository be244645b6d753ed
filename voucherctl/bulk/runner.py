"""A bulk run from start to end: validate every row, find the run in the ledger, send the rows.

What users are promised (docs/contract.md#bulk-runs): no row is ever sent twice unless
``--retry-unknown``, every row ends ok, failed, skipped or unknown, a run that did not finish
goes on where it stopped, and a finished one is not run again by accident.
"""

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic

from voucherctl.api.transport.pacing import Pacer
from voucherctl.bulk.dry_run import print_dry_run
from voucherctl.bulk.rows import Source
from voucherctl.bulk.sending import send_rows
from voucherctl.changes.operation import BulkOptions, Client, Fills, Operation
from voucherctl.core.errors import DoneElsewhereError, ExitCode, InvalidRowsError, UsageError
from voucherctl.core.text import escape_control
from voucherctl.storage import config
from voucherctl.storage.ledger import REPEATABLE, Ledger, Request, Run, RunSpec, digest
from voucherctl.ui.environment import Environment

MAX_LISTED_INVALID = 20
MAX_LISTED_REPEATS = 20
JOURNALS_FOLDER = "journals"
STDIN_FOLDER = "stdin"


@dataclass(frozen=True)
class Target(Generic[Client]):
    """Where a run sends: the API client, the host its records name, the ledger."""

    client: Client
    host: str
    ledger: Ledger


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
    spool = config.data_dir(env.environ) / STDIN_FOLDER
    source = Source(options.source, env.stdin, spool=spool)
    try:
        total = _validate(env, source, operation, fills, options)
        if options.dry_run:
            print_dry_run(env, source, operation, fills)
            return ExitCode.OK
        pacer = Pacer(options.max_rate)
        target = start(pacer)  # the ledger is open: a run it cannot record never starts
        target.client.authenticate()  # a refused credential stops the run before any row
        _check_rows(env, source, operation, fills, target.client)
        ledger = target.ledger
        held = _open_run(env, ledger, options, operation, source, target, fills)
        _refuse_rows_done_elsewhere(ledger, held, source, operation, fills, target.host)
        return send_rows(
            env,
            source,
            operation,
            options,
            target.client,
            ledger,
            held,
            target.host,
            total,
            pacer,
            fills,
        )
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
    listed = _Listed(env, source.name)
    for row in source.rows(operation, fills):
        total += 1
        if row.error:
            invalid += 1
            if not options.skip_invalid:
                listed.add(row.line, row.error)
        elif row.first_line != row.line:
            repeated += 1
            if repeated <= MAX_LISTED_REPEATS:
                env.warn(f"{source.name}: line {row.line} repeats line {row.first_line}")
    unused = source.unused_columns(operation)
    if unused:
        names = ", ".join(escape_control(column) or "(blank)" for column in unused[:5])
        more = f" and {len(unused) - 5} more" if len(unused) > 5 else ""
        env.warn(f"{source.name}: {operation.command} ignores the column(s) {names}{more}")
    if invalid and not options.skip_invalid:
        more = f" (the first {MAX_LISTED_INVALID} listed)" if invalid > MAX_LISTED_INVALID else ""
        raise InvalidRowsError(
            f"{invalid} of {total} rows are invalid{more}; nothing was sent. Fix them, or "
            "add --skip-invalid to send the valid rows and report the others as failed"
            + listed.text()
        )
    if invalid:
        env.warn(f"{_rows(invalid)} invalid: reported as failed, not sent")
    if not total:
        env.warn(f"{source.name} has no rows under its header: nothing to do")
    source.unique = not repeated
    if repeated:
        more = f" (the first {MAX_LISTED_REPEATS} listed)" if repeated > MAX_LISTED_REPEATS else ""
        consequence = (
            "a user named twice gets a voucher for each"
            if operation.command == "handout"
            else "the repeats will likely be refused"
        )
        env.warn(
            f"{_rows(repeated)} repeat an earlier row{more}; every row is sent, so "
            f"{consequence}; remove the repeats you do not mean"
        )
    return total


def _check_rows(
    env: Environment, source: Source, operation: Operation[Client], fills: Fills, client: Client
) -> None:
    """The operation's checks against the client (an admin session needs a user and chain),
    on every valid row, before any is sent."""
    if operation.check is None:
        return
    failed = 0
    listed = _Listed(env, source.name)
    for row in source.rows(operation, fills, identify=False):
        if row.error is None:
            try:
                operation.check(client, row.params)
            except UsageError as exc:
                failed += 1
                listed.add(row.line, exc.message)
    if failed:
        raise UsageError(
            f"{_rows(failed)} of {source.name} cannot be sent; nothing was sent" + listed.text()
        )


class _Listed:
    """The bad rows named: a text line each, or under ``-o json|jsonl``, where stderr holds the
    one error object (docs/contract.md#for-scripts), in that object's message."""

    def __init__(self, env: Environment, name: str) -> None:
        self.env, self.name = env, name
        self.structured = env.options.output in ("json", "jsonl")
        self.lines: list[str] = []

    def add(self, line: int, error: str) -> None:
        if len(self.lines) >= MAX_LISTED_INVALID:
            return
        self.lines.append(f"line {line}: {error}")
        if not self.structured:
            self.env.error(f"{self.name}: line {line}: {error}")

    def text(self) -> str:
        return f" ({'; '.join(self.lines)})" if self.structured and self.lines else ""


def _rows(count: int) -> str:
    return f"{count} row" if count == 1 else f"{count} rows"


def run_spec(
    options: BulkOptions, operation: Operation[Any], source: Source, host: str, fills: Fills
) -> tuple[RunSpec, Path | None]:
    """The run asked for, and the journal file an earlier version may have left for it.

    ``--run`` names it; ``--journal PATH`` names it by the path; else it is named by command,
    host, fixed options and input, so that running the same command on the same file finds it.
    """
    fixed = sorted(fills.fixed().items())
    # The key voucherctl 0.1 and 0.2 named their default journals by, so those are found.
    key = json.dumps([operation.command, host, fixed, source.identity()])
    identity = hashlib.sha256(key.encode()).hexdigest()[:16]
    name, journal = f"{operation.command}-{identity}", None
    if options.journal:
        try:
            # One name however the path is spelled: jd/../jd/j.jsonl, a linked folder.
            journal = Path(options.journal).expanduser().resolve()
        except RuntimeError:  # ~someone, and no one has that name
            raise UsageError(f"--journal {options.journal}: no such user") from None
        name = str(journal)
    elif options.run:
        name = options.run
    spec = RunSpec(
        name=name,
        identity=identity,
        command=operation.command,
        host=host,
        fixed=dict(fixed),
        named=bool(options.journal or options.run),
        again=options.again,
        resume=options.resume,
        source=source.name,
    )
    return spec, journal


def _open_run(
    env: Environment,
    ledger: Ledger,
    options: BulkOptions,
    operation: Operation[Any],
    source: Source,
    target: Target[Any],
    fills: Fills,
) -> Run:
    """The run, held by this process; a finished unnamed run is not run again by accident."""
    from voucherctl.storage.imports import import_journal

    spec, journal = run_spec(options, operation, source, target.host, fills)
    if journal is None:
        journal = config.data_dir(env.environ) / JOURNALS_FOLDER / f"{spec.name}.jsonl"

    def legacy() -> dict[int, tuple[str, str]]:
        return {
            row.line: (row.key, digest(row.input))
            for row in source.rows(operation, fills)
            if row.error is None
        }

    import_journal(
        ledger,
        journal,
        name=spec.name,
        named=spec.named,
        expect=(operation.command, target.host),
        legacy=legacy,
    )
    held = ledger.open_run(spec)
    if held.earlier is not None:
        started, finished, done = held.earlier
        how = "going on with the run" if finished else "resuming the run"
        stopped = "finished" if finished else "did not finish"
        env.info(
            f"{operation.command}: {how} started {started}, which {stopped}: "
            f"{_rows(done)} done are skipped (run {escape_control(held.name)})"
        )
    return held


def _refuse_rows_done_elsewhere(
    ledger: Ledger, held: Run, source: Source, operation: Operation[Any], fills: Fills, host: str
) -> None:
    """An unnamed run every row of which another run did (a copy of the file, an option moved
    into it, stdin piped anew): nothing is sent, exit 2, as for a finished run. Rows are decided
    again as each is sent; this only spares a run that has nothing to do."""
    if held.named or held.again or operation.command in REPEATABLE:
        return
    count, by = 0, None
    for row in source.rows(operation, fills):
        if row.error is not None:
            continue
        request = Request(operation.command, host, row.params, row.key.partition("/")[0])
        by = ledger.done_elsewhere(request, held)
        if by is None:
            return
        count += 1
    if count:
        ledger.discard_run(held)
        raise DoneElsewhereError(
            f"all {_rows(count)} of {source.name} were done before on {escape_control(host)} "
            f"(the last by {by}; see voucherctl audit); nothing was sent. To do them again, "
            "add --again"
        )


def journals_folder(env: Environment) -> Path:
    return config.data_dir(env.environ) / JOURNALS_FOLDER
