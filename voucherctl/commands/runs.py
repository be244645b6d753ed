"""``voucherctl runs``: the ledger's bulk runs, and ``runs show NAME``: one run's rows."""

from typing import Annotated, Any

import typer

from voucherctl.cli.command import environment
from voucherctl.cli.listing import checked_limit, counted, limit_option
from voucherctl.commands import CHANGE_COMMANDS
from voucherctl.core.errors import NotFoundError, UsageError
from voucherctl.core.text import escape_control
from voucherctl.ui import output


def _rows(run: dict[str, Any]) -> str:
    return ", ".join(f"{count} {outcome}" for outcome, count in sorted(run["rows"].items()))


RUN_COLUMNS = [
    output.Column("Name", lambda r: r.get("name"), no_wrap=True),
    output.Column("Command", lambda r: r.get("command"), no_wrap=True),
    output.Column("State", lambda r: r.get("state"), no_wrap=True),
    output.Column("Rows", _rows, min_width=8),
    output.Column("Started (UTC)", lambda r: str(r.get("started", "")).replace("T", " ")),
    output.Column("Ended (UTC)", lambda r: str(r.get("ended") or "").replace("T", " ")),
    output.Column("User", lambda r: r.get("user"), min_width=4),
    output.Column("Machine", lambda r: r.get("machine"), min_width=7),
    output.Column("Host", lambda r: r.get("host"), min_width=7),
]
ROW_COLUMNS = [
    output.Column("Line", lambda r: r.get("line"), no_wrap=True),
    output.Column("Outcome", lambda r: r.get("outcome"), no_wrap=True),
    output.Column(
        "Identifiers",
        lambda r: " ".join(f"{k}={v}" for k, v in (r.get("identifiers") or {}).items()),
        min_width=16,
    ),
    output.Column("Time (UTC)", lambda r: str(r.get("time", "")).replace("T", " ")),
    output.Column(
        "Error",
        lambda r: (r.get("error") or {}).get("message") if isinstance(r.get("error"), dict) else "",
        min_width=5,
    ),
]

Action = Annotated[
    str | None,
    typer.Argument(
        metavar="[show NAME | import LEDGER]",
        show_default=False,
        help="None: list the runs. show NAME: one run's rows. import LEDGER: copy another "
        "ledger's runs and changes into this one.",
    ),
]
Name = Annotated[str | None, typer.Argument(metavar="", show_default=False, hidden=True)]
Live = Annotated[bool, typer.Option("--live", help="Only runs a voucherctl is running now.")]
Command = Annotated[
    str | None,
    typer.Option("--command", metavar="NAME", help="Only runs of this command (handout, ...)."),
]
Limit = Annotated[int | None, limit_option("runs")]


def runs(
    ctx: typer.Context,
    action: Action = None,
    name: Name = None,
    live: Live = False,
    command: Command = None,
    limit: Limit = None,
) -> None:
    """The bulk runs in the ledger, newest first: name, command, state, rows by outcome, who
    ran it on which machine, against which host. `runs show NAME` lists one run's rows.
    `runs import LEDGER` copies the runs and changes of another ledger (a machine's
    ledger.sqlite3) into this one, once: how a machine's history joins a team's ledger.

    On a PostgreSQL ledger these are the team's runs.

    Examples:

    \b
      voucherctl runs --live                  # what is running now, here or elsewhere
      voucherctl runs --command handout --limit 5
      voucherctl runs show monthly-2026-11 -o json
      VOUCHERCTL_LEDGER=postgresql://ledger.example/voucherctl \\
        voucherctl runs import ~/.local/share/voucherctl/ledger.sqlite3
    """
    from voucherctl.storage.location import open_ledger

    env = environment(ctx)
    if action not in (None, "show", "import") or bool(action) != bool(name):
        raise UsageError(
            "give 'voucherctl runs' to list the runs, 'voucherctl runs show NAME' for one run's "
            "rows, or 'voucherctl runs import LEDGER' to copy another ledger into this one"
        )
    if command is not None and command not in CHANGE_COMMANDS:
        raise UsageError(
            f"--command {escape_control(command)!r}: give one of {', '.join(CHANGE_COMMANDS)}"
        )
    limit = checked_limit(env, limit)
    ledger = open_ledger(env.environ, env.profile.name, changes=False)
    try:
        if action == "import":
            assert name is not None
            _import(env, ledger, name)
            return
        _show(env, ledger, name, command=command, live=live, limit=limit)
    finally:
        ledger.close()


def _import(env: Any, ledger: Any, name: str) -> None:
    from pathlib import Path

    from voucherctl.storage.moving import import_ledger

    path = Path(name).expanduser()
    if not path.is_file():
        raise UsageError(f"runs import {escape_control(name)}: no such ledger file")
    counted = import_ledger(ledger, path)
    if counted is None:
        env.info(f"{escape_control(name)} was already imported into {ledger.shown}; nothing to do")
        return
    runs, changes = counted
    env.info(
        f"imported {runs} run(s) and {changes} changes from {escape_control(name)} into "
        f"{ledger.shown}; {escape_control(name)} is unchanged"
    )


def _show(
    env: Any, ledger: Any, name: str | None, *, command: str | None, live: bool, limit: int | None
) -> None:
    from voucherctl.storage.reading import run_named
    from voucherctl.storage.reading import runs as read

    if name is not None:
        found = run_named(ledger, name)
        if found is None:
            raise NotFoundError(f"no run named {escape_control(name)!r} in the ledger")
        run, rows = found
        title = f"Run {escape_control(name)}: {run['command']} on {run['host']}, {_rows(run)}"
        output.print_list(env, rows, ROW_COLUMNS, title=title)
        return
    listed, total = read(ledger, command=command, live=live, limit=limit)
    title = counted("Runs, newest first", len(listed), total)
    output.print_list(env, listed, RUN_COLUMNS, title=title)
