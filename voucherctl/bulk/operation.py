"""What a bulk run is made of, kept apart so the CLI can declare it without loading the runner."""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

Params = Callable[[Mapping[str, str | None], Mapping[str, str]], dict[str, str]]
"""Values by API name, and the names to speak of them by in errors -> request parameters."""


@dataclass(frozen=True)
class Operation:
    """One change command in a form that single runs and bulk runs share."""

    command: str
    columns: tuple[str, ...]  # every column a bulk file may have, in the API's own names
    params: Params  # validates; raises UsageError
    send: Callable[[Any, Mapping[str, str]], dict[str, Any]]
    method: str
    path: str
    # Resending cannot repeat the change (a voucher is claimed or locked once), so a row whose
    # outcome is unknown is resent to settle it. A handout could give a second voucher: never.
    idempotent: bool = False
    # After a refused resend of an unknown row: the API's record of the change, if it was made.
    settle: Callable[[Any, Mapping[str, str]], dict[str, Any] | None] | None = None


@dataclass(frozen=True)
class BulkOptions:
    """SPEC "Bulk runs": ``--from`` and the options that go with it."""

    source: str | None = None  # --from; None: not a bulk run
    concurrency: int = 4
    journal: str | None = None
    retry_unknown: bool = False
    dry_run: bool = False
    skip_invalid: bool = False
    max_rate: float | None = None


class Fills(dict[str, str]):
    """Values for the columns of a bulk file, beyond what its rows say.

    ``given`` were typed as options: a file that has the column too is refused, since one of the
    two is a mistake. The others are fallbacks from variables or the profile (a chain id): they
    fill the column only where the file lacks it.
    """

    def __init__(self, given: Mapping[str, str], defaults: Mapping[str, str] | None = None):
        super().__init__({**(defaults or {}), **given})
        self.given = dict(given)
