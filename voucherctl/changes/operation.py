"""What a change command is made of, in a form that single runs and bulk runs share.

A command module describes its change once, as an :class:`Operation` over the API client it
needs; ``cli/change.py`` runs it for one item and ``bulk/runner.py`` for every row of a file.
Nothing here imports an API client, so declaring an operation costs a command nothing.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

if TYPE_CHECKING:
    from voucherctl.api.transport.pacing import Pacer
    from voucherctl.ui.environment import Environment


class ApiClient(Protocol):
    """What every API client offers the code that runs changes."""

    @property
    def base_url(self) -> str: ...

    def authenticate(self) -> None:
        """Make sure the credentials are usable, so a refusal shows before a bulk run starts."""


Client = TypeVar("Client", bound=ApiClient)

Params = Callable[[Mapping[str, str | None], Mapping[str, str]], dict[str, str]]
"""Values by API name, and the names to speak of them by in errors -> request parameters."""


@dataclass(frozen=True)
class Operation(Generic[Client]):
    """One change: how to reach its API, validate its parameters, and make it."""

    command: str
    columns: tuple[str, ...]  # every column a bulk file may have, in the API's own names
    params: Params  # validates; raises UsageError
    client_for: "Callable[[Environment, Pacer | None], Client]"
    call: Callable[[Client, Mapping[str, str]], dict[str, Any]]
    method: str
    path: str
    # For a row whose earlier attempt got no answer: the voucher as the API shows it when the
    # change was made (the row is then done, not resent), else None.
    settle: Callable[[Client, Mapping[str, str]], dict[str, Any] | None] | None = None
    # Columns that name the same thing, best first: a bulk row with several sends the first.
    preferred: tuple[str, ...] = ()
    # Checks a request against the client (its kind of session) before anything is sent;
    # raises UsageError.
    check: Callable[[Client, Mapping[str, str]], None] | None = None
    # Where a request goes and the form it sends, when part of it rides in the path (a dry
    # run shows them); None: to ``path``, the request as the form.
    sent_as: Callable[[Mapping[str, str]], tuple[str, dict[str, str]]] | None = None
    # What the audit log records of a call's result beyond its request (where codes were
    # kept; never the codes themselves).
    recorded: Callable[[dict[str, Any]], Mapping[str, str]] | None = None


@dataclass(frozen=True)
class BulkOptions:
    """``--from`` and the options that go with it (docs/contract.md#bulk-runs)."""

    source: str | None = None  # --from; None: not a bulk run
    concurrency: int = 4
    journal: str | None = None
    retry_unknown: bool = False
    dry_run: bool = False
    skip_invalid: bool = False
    max_rate: float | None = None
    resume: bool = False
    run: str | None = None  # --run NAME
    again: bool = False


@dataclass(frozen=True)
class Fills:
    """Values for the columns of a bulk file, beyond what its rows say.

    ``given`` were typed as options: a file that has the column too is refused, since one of the
    two is a mistake. ``defaults`` come from variables or the profile (a chain id): they fill the
    column only where a row leaves it empty.
    """

    given: Mapping[str, str] = field(default_factory=dict)
    defaults: Mapping[str, str] = field(default_factory=dict)

    def apply(self, values: Mapping[str, str]) -> dict[str, str]:
        """A row's values with the fills applied."""
        filled = {**self.defaults, **values}
        filled.update(self.given)
        return filled

    def fixed(self) -> dict[str, str]:
        """Every fill, for naming a run: the same file with other fills is another run."""
        return dict(sorted({**self.defaults, **self.given}.items()))
