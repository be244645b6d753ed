"""The ``--from`` options that turn handout, claim, unclaim, lock and unlock into bulk runs."""

import math
from typing import Annotated, Any

import typer

from voucherctl.bulk.operation import BulkOptions
from voucherctl.errors import UsageError

MAX_CONCURRENCY = 64
MIN_RATE = 0.01  # one request every 100 s; slower than that is a typo, not a quota

BULK_PARAMETERS: dict[str, tuple[Any, Any]] = {
    "source": (
        Annotated[
            str | None,
            typer.Option(
                "--from",
                metavar="FILE",
                help="Run every row of a CSV file ('-' for stdin) whose header names the "
                "API's columns, instead of the single-item options.",
            ),
        ],
        None,
    ),
    "concurrency": (
        Annotated[
            int | None,
            typer.Option(
                "--concurrency", metavar="N", help="Requests in flight at once.", show_default="4"
            ),
        ],
        None,
    ),
    "journal": (
        Annotated[
            str | None,
            typer.Option(
                "--journal",
                metavar="PATH",
                help="Record of every row's outcome; the same command with the same journal "
                "skips rows already done.",
                show_default="one per input file in the data directory",
            ),
        ],
        None,
    ),
    "retry_unknown": (
        Annotated[
            bool,
            typer.Option(
                "--retry-unknown",
                help="Also resend rows sent earlier with no answer (a resent handout "
                "can give a second voucher).",
            ),
        ],
        False,
    ),
    "dry_run": (
        Annotated[
            bool,
            typer.Option("--dry-run", help="Validate and print what would be sent; send nothing."),
        ],
        False,
    ),
    "skip_invalid": (
        Annotated[
            bool,
            typer.Option(
                "--skip-invalid",
                help="Send the valid rows; report invalid ones as failed (exit 2).",
            ),
        ],
        False,
    ),
    "max_rate": (
        Annotated[
            float | None,
            typer.Option("--max-rate", metavar="N", help="At most N requests per second."),
        ],
        None,
    ),
}


def bulk_options(given: dict[str, Any]) -> BulkOptions:
    """Check the bulk options together and gather them."""
    if given["source"] is None:
        only_bulk = [
            flag
            for name, flag in (
                ("concurrency", "--concurrency"),
                ("journal", "--journal"),
                ("retry_unknown", "--retry-unknown"),
                ("skip_invalid", "--skip-invalid"),
                ("max_rate", "--max-rate"),
            )
            if given[name]
        ]
        if only_bulk:
            raise UsageError(f"{', '.join(only_bulk)} only go with --from FILE")
        return BulkOptions(dry_run=given["dry_run"])
    concurrency = 4 if given["concurrency"] is None else given["concurrency"]
    if not 1 <= concurrency <= MAX_CONCURRENCY:
        raise UsageError(f"--concurrency must be from 1 to {MAX_CONCURRENCY}, not {concurrency}")
    max_rate = given["max_rate"]
    if max_rate is not None and (not math.isfinite(max_rate) or max_rate < MIN_RATE):
        raise UsageError(f"--max-rate must be a number of requests per second from {MIN_RATE} up")
    return BulkOptions(
        source=given["source"],
        concurrency=concurrency,
        journal=given["journal"],
        retry_unknown=given["retry_unknown"],
        dry_run=given["dry_run"],
        skip_invalid=given["skip_invalid"],
        max_rate=max_rate,
    )
