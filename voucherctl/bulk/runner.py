"""A bulk run from start to end: validate every row, find the run's journal, send the rows.

What users are promised (docs/contract.md#bulk-runs): no row is ever sent twice unless
``--retry-unknown``, every row ends ok, failed, skipped or unknown, a run that did not finish
goes on where it stopped, and a finished one is not run again by accident.
"""

import hashlib
import io
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic

from voucherctl.api.transport.pacing import Pacer
from voucherctl.bulk.dry_run import print_dry_run
from voucherctl.bulk.journal import Journal
from voucherctl.bulk.rows import Source, digest
from voucherctl.bulk.sending import send_rows
from voucherctl.changes.operation import BulkOptions, Client, Fills, Operation
from voucherctl.core.errors import (
    DoneElsewhereError,
    ExitCode,
    InvalidRowsError,
    RunFinishedError,
    UsageError,
)
from voucherctl.core.text import escape_control
from voucherctl.storage import audit_log, config
from voucherctl.ui.environment import Environment

MAX_LISTED_INVALID = 20
MAX_LISTED_REPEATS = 20
JOURNALS_FOLDER = "journals"


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
            print_dry_run(env, source, operation, fills)
            return ExitCode.OK
        pacer = Pacer(options.max_rate)
        target = start(pacer)
        target.client.authenticate()  # a refused credential stops the run before any row
        _check_rows(env, source, operation, fills, target.client)
        journal = _open_journal(env, options, operation, source, target, fills)
        try:
            _check_legacy_rows(journal, source, operation, fills)
            return send_rows(
                env, source, operation, fills, options, target.client, journal, total, pacer
            )
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
    for row in source.rows(operation, fills):
        total += 1
        if row.error:
            invalid += 1
            if invalid <= MAX_LISTED_INVALID and not options.skip_invalid:
                env.error(f"{source.name}: line {row.line}: {row.error}")
        elif row.first_line != row.line:
            repeated += 1
            if repeated <= MAX_LISTED_REPEATS:
                env.warn(f"{source.name}: line {row.line} repeats line {row.first_line}")
    unused = source.unused_columns(operation)
    if unused:
        listed = ", ".join(escape_control(column) or "(blank)" for column in unused[:5])
        more = f" and {len(unused) - 5} more" if len(unused) > 5 else ""
        env.warn(f"{source.name}: {operation.command} ignores the column(s) {listed}{more}")
    if invalid and not options.skip_invalid:
        more = f" (the first {MAX_LISTED_INVALID} listed)" if invalid > MAX_LISTED_INVALID else ""
        raise InvalidRowsError(
            f"{invalid} of {total} rows are invalid{more}; nothing was sent. Fix them, or "
            "add --skip-invalid to send the valid rows and report the others as failed"
        )
    if invalid:
        env.warn(f"{_rows(invalid)} invalid: reported as failed, not sent")
    if not total:
        env.warn(f"{source.name} has no rows under its header: nothing to do")
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
    for row in source.rows(operation, fills, identify=False):
        if row.error is None:
            try:
                operation.check(client, row.params)
            except UsageError as exc:
                failed += 1
                if failed <= MAX_LISTED_INVALID:
                    env.error(f"{source.name}: line {row.line}: {exc.message}")
    if failed:
        raise UsageError(f"{_rows(failed)} of {source.name} cannot be sent; nothing was sent")


def _rows(count: int) -> str:
    return f"{count} row" if count == 1 else f"{count} rows"


def _open_journal(
    env: Environment,
    options: BulkOptions,
    operation: Operation[Any],
    source: Source,
    target: Target[Any],
    fills: Fills,
) -> Journal:
    """The run's journal, locked; a finished run of the default journal is not run again.

    ``--journal`` names it; else there is one per command, host, fixed options and input in the
    data directory, so that running the same command on the same file resumes the run.
    """
    header = {"command": operation.command, "host": target.host, "fixed": fills.fixed()}
    default = not options.journal
    journal = Journal(journal_path(env, options, operation, source, target, fills), header)
    if _is_stdout(env, journal.path):
        journal.close()
        raise UsageError(
            f"the journal {journal.shown} is also where stdout goes; nothing was sent. Give "
            "the journal and the output different files"
        )
    last = journal.last_run
    if last is None:
        if default and target.host != config.SANDBOX_NAME:
            _refuse_rows_done_elsewhere(env, journal, source, operation, fills, target.host)
        return journal
    if default and last.finished and not options.resume:
        journal.close()
        raise RunFinishedError(
            f"{source.name} was already run to the end with {operation.command} on {target.host} "
            f"(started {last.started}, {_rows(last.done)} done); nothing was sent. To go on with "
            f"that run (done rows skipped, failed rows sent again) add --resume; to run the file "
            f"anew, give a new journal, e.g. --journal {operation.command}-$(date +%Y-%m).jsonl"
        )
    how = "resuming the run" if not last.finished else "going on with the run"
    stopped = "finished" if last.finished else "did not finish"
    env.info(
        f"{operation.command}: {how} started {last.started}, which {stopped}: "
        f"{_rows(last.done)} done are skipped (journal {journal.shown})"
    )
    return journal


def _refuse_rows_done_elsewhere(
    env: Environment,
    journal: Journal,
    source: Source,
    operation: Operation[Any],
    fills: Fills,
    host: str,
) -> None:
    """A new run without --journal whose rows the audit log shows done on this host (the same
    rows under another name, with an option moved into the file, piped in anew): refused, so
    that nothing is done twice by accident. A journal given by hand says a new run is meant."""
    done = audit_log.done_requests(audit_log.log_path(env.environ), operation.command, host)
    if not done:
        return
    repeated = [
        row.line
        for row in source.rows(operation, fills)
        if row.error is None and row.key.partition("/")[0] in done
    ]
    if repeated:
        journal.discard()
        raise DoneElsewhereError(
            f"{_rows(len(repeated))} of {source.name} (line {repeated[0]} first) were done "
            f"before on {host} by another {operation.command} run (see voucherctl audit); "
            "nothing was sent. To do them again, give this run a journal of its own: "
            f"--journal {operation.command}-$(date +%Y-%m-%d).jsonl"
        )


def _is_stdout(env: Environment, path: Path) -> bool:
    """True when ``path`` is the file stdout writes to (``--journal j.jsonl > j.jsonl``: the
    shell emptied it before the run, and the rows' records would mix with the journal's)."""
    try:
        out, journal = os.fstat(env.stdout.fileno()), path.stat()
    except (OSError, ValueError, AttributeError, io.UnsupportedOperation):
        return False
    return (out.st_dev, out.st_ino) == (journal.st_dev, journal.st_ino)


def journal_path(
    env: Environment,
    options: BulkOptions,
    operation: Operation[Any],
    source: Source,
    target: Target[Any],
    fills: Fills,
) -> Path:
    """``--journal``, else the default journal of this command, host, fills and input."""
    if options.journal:
        try:
            return Path(options.journal).expanduser()
        except RuntimeError:  # ~someone, and no one has that name
            raise UsageError(f"--journal {options.journal}: no such user") from None
    # The same key as voucherctl 0.1 used, so that its journals are found and read.
    fixed = sorted(fills.fixed().items())
    key = json.dumps([operation.command, target.host, fixed, source.identity()])
    name = f"{operation.command}-{hashlib.sha256(key.encode()).hexdigest()[:16]}.jsonl"
    return journals_folder(env) / name


def journals_folder(env: Environment) -> Path:
    return config.data_dir(env.environ) / JOURNALS_FOLDER


def _check_legacy_rows(
    journal: Journal, source: Source, operation: Operation[Any], fills: Fills
) -> None:
    """A journal of voucherctl 0.1 knows rows by line: usable only while every row it recorded
    still stands on its line, unchanged; otherwise which rows were sent cannot be told."""
    recorded = journal.legacy_lines
    if not recorded:
        return
    for row in source.rows(operation, fills):
        if recorded.get(row.line) == digest(row.input):
            del recorded[row.line]
    if recorded:
        raise UsageError(
            f"the journal {journal.shown} was written by voucherctl 0.1, which knew rows by "
            f"their line, and {_rows(len(recorded))} it recorded (line {min(recorded)} first) "
            f"no longer stand on their line in {source.name}; nothing was sent. Restore the "
            "file as it was to go on, or give a new --journal after checking those rows"
        )
