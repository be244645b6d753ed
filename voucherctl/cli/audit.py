"""``voucherctl audit``: the changes voucherctl made from this machine, newest last."""

import calendar
import re
import time
from typing import Annotated

import typer

from voucherctl import audit_log, output
from voucherctl.cli.command import environment
from voucherctl.errors import UsageError
from voucherctl.text import escape_control

AUDIT_COLUMNS = [
    output.field("Time (UTC)", "time"),
    output.field("User", "user"),
    output.field("Profile", "profile"),
    output.field("Command", "command"),
    output.Column(
        "Identifiers",
        lambda r: " ".join(f"{k}={v}" for k, v in (r.get("identifiers") or {}).items()),
    ),
    output.field("Outcome", "outcome"),
    output.field("Host", "host"),
]
_RELATIVE = re.compile(r"^(\d+)\s*([mhdw])$")
_UNITS = {"m": 60, "h": 3600, "d": 86400, "w": 604800}


def since_epoch(text: str, *, now: float | None = None) -> float:
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
        f"--since {escape_control(text)!r}: give a span like 24h, 7d, 30m, or a UTC date "
        "like 2026-11-23 or 2026-11-23T10:00"
    )


def audit(
    ctx: typer.Context,
    since: Annotated[
        str | None,
        typer.Option(
            "--since", metavar="WHEN", help="Only changes since 24h, 7d, ... or a UTC date."
        ),
    ] = None,
    command: Annotated[
        str | None,
        typer.Option("--command", metavar="NAME", help="Only this command (handout, claim, ...)."),
    ] = None,
) -> None:
    """Show the audit log: every change made with voucherctl on this machine.

    Each entry has the time (UTC), OS user, profile, host, command, the request's identifiers
    and the outcome. The log is audit.jsonl in the data directory (VOUCHERCTL_DATA_DIR).
    """
    env = environment(ctx)
    start = since_epoch(since) if since else None
    entries = audit_log.read(audit_log.log_path(env.environ), since=start, command=command)
    fmt = env.output_format()
    if fmt == "jsonl":
        for entry in entries:
            env.stdout.write(output.to_json(entry) + "\n")
        return
    output.print_list(env, list(entries), AUDIT_COLUMNS, title="Audit log")
