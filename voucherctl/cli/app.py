"""The ``voucherctl`` Typer application: the command table, and the app built from it.

Each command lives in its own module. A run imports only the module of the command it runs
(``build_app(only=...)``, used by ``__main__``), so a command pays for its own imports and not
for its fifteen siblings'. ``--help``, completion and the tests use the whole app.
"""

import importlib
from collections.abc import Sequence
from typing import Annotated, Any

import typer

from voucherctl import __version__
from voucherctl.cli.command import BulkCommand, Command, RootGroup
from voucherctl.errors import EXIT_CODE_HELP

ENVIRONMENT_HELP = """\
Environment: VOUCHERCTL_PROFILE, VOUCHERCTL_OUTPUT, VOUCHERCTL_TIMEOUT, VOUCHERCTL_CONFIG_DIR,
VOUCHERCTL_DATA_DIR; SPiD: VOUCHERCTL_SPID_URL, VOUCHERCTL_SPID_TOKEN, VOUCHERCTL_SPID_CLIENT_ID,
VOUCHERCTL_SPID_CLIENT_SECRET; Spaaza: VOUCHERCTL_SPAAZA_URL, VOUCHERCTL_SPAAZA_TOKEN,
VOUCHERCTL_SPAAZA_USER_ID, VOUCHERCTL_SPAAZA_SESSION_KEY, VOUCHERCTL_SPAAZA_CHAIN_ID,
VOUCHERCTL_SPAAZA_APP_HOSTNAME, VOUCHERCTL_SPAAZA_API_VERSION."""

EPILOG = f"{EXIT_CODE_HELP}\n\n{ENVIRONMENT_HELP}"
# A command's --help is about the command: the full lists are in 'voucherctl --help'.
COMMAND_EPILOG = (
    "Exit codes: 0 ok, 2 usage, 3 not found, 4 credentials, 5 rejected, 6 rate limited, "
    "7 outcome unknown, 8 rows failed; all of them and the environment variables: "
    "voucherctl --help."
)

# Command name -> "module:function" under voucherctl.cli, in the order --help lists them.
COMMANDS = {
    "show": "show:show",
    "handout": "handout:handout",
    "groups": "groups:groups",
    "group": "groups:group",
    "generate": "generate:generate",
    "codes": "codes:codes",
    "claim": "claim:claim",
    "unclaim": "claim:unclaim",
    "lock": "lock:lock",
    "unlock": "lock:unlock",
    "redeem": "redeem:redeem",
    "vouchers": "vouchers:vouchers",
    "doctor": "doctor:doctor",
    "audit": "audit:audit",
    "runs": "runs:runs",
    "completion": "completion:completion",
}
GROUPS = {
    "auth": (
        "Store, check and remove credentials (OS keyring).",
        {"login": "auth:login", "status": "auth:status", "logout": "auth:logout"},
    ),
    "sandbox": (
        "The built-in sandbox: a stateful emulator of SPiD and Spaaza.",
        {"serve": "sandbox:serve", "reset": "sandbox:reset", "info": "sandbox:info"},
    ),
}
# Change commands that also run every row of a file (--from).
BULK_COMMANDS = frozenset({"handout", "claim", "unclaim", "lock", "unlock", "redeem"})
# Common options that take a value, to find the command name behind them in argv.
_VALUE_OPTIONS = frozenset(
    {"-p", "--profile", "-o", "--output", "--timeout", "--max-wait", "--query"}
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"voucherctl {__version__}")
        raise typer.Exit()


def _main(
    version: Annotated[
        bool | None,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = None,
) -> None:
    """Administer SPiD and Spaaza vouchers from the command line."""


def _register(group: typer.Typer, name: str, target: str) -> None:
    """Add a command, with the common options and the exit codes in its --help."""
    module, function = target.split(":")
    func = getattr(importlib.import_module(f"voucherctl.cli.{module}"), function)
    cls = BulkCommand if name in BULK_COMMANDS else Command
    group.command(name, cls=cls, epilog=COMMAND_EPILOG)(func)


def build_app(only: str | None = None) -> typer.Typer:
    """The application; with ``only``, just that command or command group."""
    app = typer.Typer(
        name="voucherctl",
        help="Administer SPiD and Spaaza vouchers from the command line.",
        epilog=EPILOG,
        no_args_is_help=True,
        add_completion=False,
        cls=RootGroup,
        pretty_exceptions_enable=False,
        rich_markup_mode=None,
        context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    )
    app.callback()(_main)
    for name, target in COMMANDS.items():
        if only in (None, name):
            _register(app, name, target)
    for name, (help_text, commands) in GROUPS.items():
        if only in (None, name):
            group = typer.Typer(help=help_text, no_args_is_help=True)
            for sub, target in commands.items():
                _register(group, sub, target)
            app.add_typer(group, name=name)
    return app


def command_in(argv: Sequence[str]) -> str | None:
    """The command or group named in ``argv``, if it is one voucherctl has."""
    skip = False
    for word in argv:
        if skip:
            skip = False
        elif word in _VALUE_OPTIONS:
            skip = True
        elif not word.startswith("-"):
            return word if word in COMMANDS or word in GROUPS else None
    return None


def __getattr__(name: str) -> Any:
    # ``app``, the whole application, is built on first use (tests, docs, completion).
    if name == "app":
        globals()["app"] = build_app()
        return globals()["app"]
    raise AttributeError(name)
