"""``voucherctl audit``: the changes voucherctl made, from the ledger, newest first."""

import calendar
import re
import time
from typing import Annotated, Any

import typer

from voucherctl.cli.command import environment
from voucherctl.cli.listing import checked_limit, counted, limit_option
from voucherctl.commands import CHANGE_COMMANDS
from voucherctl.core.errors import UsageError
from voucherctl.core.text import escape_control
from voucherctl.storage import config
from voucherctl.ui import output


def _error(entry: dict[str, Any]) -> str:
    error = entry.get("error")
    return str(error.get("message") or "") if isinstance(error, dict) else ""


def _identifiers(entry: dict[str, Any]) -> str:
    """The request's identifiers, long ones (voucher keys) shortened: -o json has them whole."""
    ids = entry.get("identifiers") if isinstance(entry.get("identifiers"), dict) else {}
    assert isinstance(ids, dict)
    shown = []
    for key, value in ids.items():
        text = str(value)
        if len(text) > output.MAX_LISTED_ID:
            text = output.shorten(text)
        shown.append(f"{key}={text}")
    return " ".join(shown)


AUDIT_COLUMNS = [
    output.Column(  # date and time may go on two lines; UTC is said above the table
        "Time",
        lambda r: str(r.get("time", "")).replace("T", " ").rstrip("Z"),
        words=True,
        zone="UTC",
    ),
    output.Column("Command", lambda r: r.get("command"), no_wrap=True),
    output.Column("Outcome", lambda r: r.get("outcome"), no_wrap=True),
    output.Column("Identifiers", _identifiers, words=True),  # "voucher_id=35735" whole
    output.Column("Profile", lambda r: r.get("profile"), no_wrap=True, drop=3),
    output.Column("User", lambda r: r.get("user"), no_wrap=True, drop=1),
    output.Column("Machine", lambda r: r.get("machine"), no_wrap=True, drop=4),
    output.Column("Host", lambda r: r.get("host"), no_wrap=True, drop=2),
    output.Column("Error", _error, drop=5),
]
# -o csv: these columns, whichever entries are shown (docs/contract.md#csv-columns).
CSV_COLUMNS = (
    "time",
    "change",
    "user",
    "machine",
    "profile",
    "host",
    "command",
    "identifiers",
    "outcome",
    "exit_code",
    "error",
)
_RELATIVE = re.compile(r"^(\d+)\s*([mhdw])$")
_UNITS = {"m": 60, "h": 3600, "d": 86400, "w": 604800}


def since_epoch(text: str, *, now: float | None = None, option: str = "--since") -> float:
    """``24h``, ``7d``, ``30m``, ``2w`` ago, or a UTC date ``2026-11-23`` / ``2026-11-23T10:00``."""
    relative = _RELATIVE.match(text.strip().lower())
    if relative:
        amount, unit = relative.groups()
        return (time.time() if now is None else now) - int(amount) * _UNITS[unit]
    for layout in ("%Y-%m-%d", "%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"):
        try:
            return calendar.timegm(time.strptime(text.strip(), layout))
        except ValueError:
            continue
    raise UsageError(
        f"{option} {escape_control(text)!r}: give a span like 24h, 7d, 30m, or a UTC date "
        "like 2026-11-23 or 2026-11-23T10:00"
    )


def _option(name: str, metavar: str, text: str) -> Any:
    return typer.Option(name, metavar=metavar, help=text)


Since = Annotated[
    str | None, _option("--since", "WHEN", "Only changes since 24h, 7d, ... or a UTC date.")
]
Command = Annotated[
    str | None, _option("--command", "NAME", f"Only this command: {', '.join(CHANGE_COMMANDS)}.")
]
User = Annotated[
    str | None,
    typer.Option(
        "--user",
        "--user-id",
        metavar="ID",
        help="Only changes for this user (id, member number, email), and changes on vouchers "
        "that user held.",
    ),
]
Voucher = Annotated[str | None, _option("--voucher", "ID", "Only this voucher (key, id, code).")]
Group = Annotated[
    str | None, typer.Option("--group", "--group-id", metavar="ID", help="Only this voucher group.")
]
Until = Annotated[
    str | None,
    _option("--until", "WHEN", "Only changes up to 24h, 7d, ... ago or up to a UTC date."),
]
Host = Annotated[str | None, _option("--host", "URL", "Only changes sent to this host.")]
Limit = Annotated[int | None, limit_option("changes")]


def audit(
    ctx: typer.Context,
    since: Since = None,
    until: Until = None,
    command: Command = None,
    user: User = None,
    voucher: Voucher = None,
    group: Group = None,
    host: Host = None,
    limit: Limit = None,
) -> None:
    """Who changed what, and when: every change made with voucherctl, newest first, from the
    ledger (on PostgreSQL: the whole team's).

    Each entry has the time (UTC), OS user, machine, profile, host, command, the request's
    identifiers, the outcome and the error. The ledger is ledger.sqlite3 in the data directory
    (VOUCHERCTL_DATA_DIR), or where VOUCHERCTL_LEDGER points.
    --profile NAME (or VOUCHERCTL_PROFILE) shows only that profile's changes, --sandbox only
    the sandbox's.

    Examples:

    \b
      voucherctl audit --user 42                      # who handed user 42 a voucher, and when
      voucherctl audit --command claim --since 24h --until 1h
      voucherctl audit --voucher 35735 -o json
    """
    env = environment(ctx)
    if command is not None and command not in CHANGE_COMMANDS:
        raise UsageError(
            f"--command {escape_control(command)!r} is not a command that changes vouchers; "
            f"give one of {', '.join(CHANGE_COMMANDS)}"
        )
    limit = checked_limit(env, limit)
    from voucherctl.storage.location import open_ledger
    from voucherctl.storage.reading import Filter
    from voucherctl.storage.reading import audit as read

    where = Filter(
        since=_stamp(since_epoch(since)) if since else None,
        until=_stamp(since_epoch(until, option="--until")) if until else None,
        command=command,
        user=user,
        voucher=voucher,
        group=group,
        profile="sandbox" if env.options.sandbox else env.options.profile,
        host=_host(host) if host else None,
    )
    ledger = open_ledger(env.environ, env.profile.name, changes=False)
    try:
        entries, total = read(ledger, where, limit=limit)
    finally:
        ledger.close()
    title = counted("Audit log, newest first", len(entries), total)
    output.print_list(env, entries, AUDIT_COLUMNS, title=title, csv_columns=CSV_COLUMNS)


def _stamp(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def _host(url: str) -> str:
    """A host as records name it: the one spelling base URLs are given in; "sandbox" as is."""
    try:
        return config.validate_base_url(url, what="--host")
    except UsageError:
        return url
