"""The ``--from`` option group that turns a change command into a bulk run: every command whose
spec says ``bulk`` (voucherctl.commands: handout, claim, unclaim, lock, unlock, redeem)
(docs/contract.md#bulk-runs)."""

import math
from typing import Annotated

import typer

from voucherctl.changes.operation import BulkOptions
from voucherctl.core.errors import UsageError

MAX_CONCURRENCY = 64
DEFAULT_CONCURRENCY = 4
MIN_RATE = 0.01  # one request every 100 s; slower than that is a typo, not a quota


Source = Annotated[
    str | None,
    typer.Option(
        "--from",
        metavar="FILE",
        help="Run every row of a CSV file ('-' for stdin) whose header names the API's "
        "columns, instead of the single-item options.",
    ),
]
Concurrency = Annotated[
    int | None,
    typer.Option(
        "--concurrency",
        metavar="N",
        show_default=str(DEFAULT_CONCURRENCY),
        help="Requests in flight at once.",
    ),
]
RunName = Annotated[
    str | None,
    typer.Option(
        "--run",
        metavar="NAME",
        show_default="one per command, host, options and input",
        help="Name the run in the ledger; the same command with the same name skips rows that "
        "run already did.",
    ),
]
Journal = Annotated[
    str | None,
    typer.Option(
        "--journal",
        metavar="PATH",
        help="The earlier spelling of --run: names the run by PATH (never written; a journal "
        "an earlier version wrote there is imported once).",
    ),
]
Again = Annotated[
    bool,
    typer.Option(
        "--again",
        help="A new run of the same input: rows done before (by any run) are sent again.",
    ),
]
Resume = Annotated[
    bool,
    typer.Option(
        "--resume",
        help="Go on with the last run of this command on this input even when it finished: "
        "done rows are skipped, failed rows sent again.",
    ),
]
RetryUnknown = Annotated[
    bool,
    typer.Option(
        "--retry-unknown",
        help="Also resend rows sent earlier that got no answer (the change may be made twice).",
    ),
]
DryRun = Annotated[
    bool,
    typer.Option("--dry-run", help="Validate and print what would be sent; send nothing."),
]
SkipInvalid = Annotated[
    bool,
    typer.Option(
        "--skip-invalid",
        help="Send the valid rows; report invalid ones as failed rows (exit_code 2).",
    ),
]
MaxRate = Annotated[
    float | None,
    typer.Option("--max-rate", metavar="N", help="At most N requests per second."),
]


def bulk_options(
    source: Source = None,
    concurrency: Concurrency = None,
    run: RunName = None,
    journal: Journal = None,
    again: Again = False,
    resume: Resume = False,
    retry_unknown: RetryUnknown = False,
    dry_run: DryRun = False,
    skip_invalid: SkipInvalid = False,
    max_rate: MaxRate = None,
) -> BulkOptions:
    """Options of bulk runs, checked together."""
    if source is None:
        only_bulk = [
            flag
            for flag, given in (
                ("--concurrency", concurrency is not None),
                ("--run", run is not None),
                ("--journal", journal is not None),
                ("--again", again),
                ("--resume", resume),
                ("--retry-unknown", retry_unknown),
                ("--skip-invalid", skip_invalid),
                ("--max-rate", max_rate is not None),
            )
            if given
        ]
        if only_bulk:
            raise UsageError(f"{', '.join(only_bulk)} can only be used with --from FILE")
        return BulkOptions(dry_run=dry_run)
    if journal is not None and not journal.strip():
        raise UsageError("--journal needs a path; leave it out to use the default run")
    if run is not None and not run.strip():
        raise UsageError("--run needs a name; leave it out to use the default run")
    if run is not None and journal is not None:
        raise UsageError("--run and --journal both name the run: give one of them")
    if again and (resume or run is not None or journal is not None):
        raise UsageError(
            "--again starts a new run of the input: not with --resume, --run or --journal "
            "(a named run already sends what it has not done itself)"
        )
    if concurrency is None:
        concurrency = DEFAULT_CONCURRENCY
    if not 1 <= concurrency <= MAX_CONCURRENCY:
        raise UsageError(f"--concurrency must be from 1 to {MAX_CONCURRENCY}, not {concurrency}")
    if max_rate is not None and (not math.isfinite(max_rate) or max_rate < MIN_RATE):
        raise UsageError(f"--max-rate must be a number of requests per second from {MIN_RATE} up")
    return BulkOptions(
        source=source,
        concurrency=concurrency,
        journal=journal,
        run=run.strip() if run is not None else None,
        again=again,
        resume=resume,
        retry_unknown=retry_unknown,
        dry_run=dry_run,
        skip_invalid=skip_invalid,
        max_rate=max_rate,
    )
