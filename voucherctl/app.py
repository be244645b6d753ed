"""The ``voucherctl`` Typer application, built from the commands' specs (voucherctl.commands).

Each command lives in its own module. A run imports only the module of the command it runs
(``build_app(only=...)``, used by ``__main__``), so a command pays for its own imports and not
for its siblings'. ``--help``, completion and the tests use the whole app.
"""

import importlib
from collections.abc import Sequence
from typing import Annotated, Any

import typer

from voucherctl import __version__
from voucherctl.cli.command import BulkCommand, Command, RootGroup
from voucherctl.commands import GROUPS, SPECS, Spec
from voucherctl.core.errors import EXIT_CODE_HELP

ENVIRONMENT_HELP = """\
Environment: VOUCHERCTL_PROFILE, VOUCHERCTL_OUTPUT, VOUCHERCTL_TIMEOUT, VOUCHERCTL_CONFIG_DIR,
VOUCHERCTL_DATA_DIR, VOUCHERCTL_LEDGER; SPiD: VOUCHERCTL_SPID_URL, VOUCHERCTL_SPID_TOKEN,
VOUCHERCTL_SPID_CLIENT_ID, VOUCHERCTL_SPID_CLIENT_SECRET, VOUCHERCTL_SPID_SIGN_SECRET; Spaaza:
VOUCHERCTL_SPAAZA_URL, VOUCHERCTL_SPAAZA_TOKEN, VOUCHERCTL_SPAAZA_USER_ID,
VOUCHERCTL_SPAAZA_SESSION_KEY, VOUCHERCTL_SPAAZA_CHAIN_ID, VOUCHERCTL_SPAAZA_APP_HOSTNAME,
VOUCHERCTL_SPAAZA_API_VERSION."""

ROOT_HELP = """Administer SPiD and Spaaza vouchers from the command line.

Examples:

\b
  voucherctl show 64-HB2I-OPBL --sandbox
  voucherctl vouchers --user-id 1107604 --voucher-id 35735 --sandbox
  voucherctl help auth login"""

EPILOG = f"{EXIT_CODE_HELP}\n\n{ENVIRONMENT_HELP}"
# A command's --help is about the command: the full lists are in 'voucherctl --help'.
COMMAND_EPILOG = (
    "Exit codes: 0 ok, 1 error, 2 usage, 3 not found, 4 credentials, 5 rejected, "
    "6 rate limited, 7 outcome unknown, 8 rows failed, 130 interrupted; what each means and "
    "the environment variables: voucherctl --help."
)

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


def _register(group: typer.Typer, spec: Spec) -> None:
    """Add a command, with the common options and the exit codes in its --help."""
    module, function = spec.target.split(":")
    func = getattr(importlib.import_module(f"voucherctl.commands.{module}"), function)
    cls = BulkCommand if spec.bulk else Command
    group.command(spec.path[-1], cls=cls, epilog=COMMAND_EPILOG)(func)


def build_app(only: str | None = None) -> typer.Typer:
    """The application; with ``only``, just that command or command group."""
    if only == "help":
        only = None  # 'help COMMAND' shows any command's help
    app = typer.Typer(
        name="voucherctl",
        help=ROOT_HELP,
        epilog=EPILOG,
        no_args_is_help=True,
        add_completion=False,
        cls=RootGroup,
        pretty_exceptions_enable=False,
        rich_markup_mode=None,
        context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    )
    app.callback()(_main)
    groups: dict[str, typer.Typer] = {}
    for spec in SPECS:
        if only not in (None, spec.path[0]):
            continue
        if len(spec.path) == 1:
            _register(app, spec)
            continue
        if spec.path[0] not in groups:
            groups[spec.path[0]] = typer.Typer(
                help=GROUPS[spec.path[0]], epilog=COMMAND_EPILOG, no_args_is_help=True
            )
            app.add_typer(groups[spec.path[0]], name=spec.path[0])
        _register(groups[spec.path[0]], spec)
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
            return word if any(spec.path[0] == word for spec in SPECS) else None
    return None


def __getattr__(name: str) -> Any:
    # ``app``, the whole application, is built on first use (tests, docs, completion).
    if name == "app":
        globals()["app"] = build_app()
        return globals()["app"]
    raise AttributeError(name)
