"""The ``voucherctl`` Typer application: commands registered, top-level options handled."""

from typing import Annotated, Any

import typer

from voucherctl import __version__
from voucherctl.cli import (
    audit,
    auth,
    claim,
    completion,
    doctor,
    groups,
    handout,
    lock,
    sandbox,
    show,
    vouchers,
)
from voucherctl.cli.common import COMMON_PARAMETERS, command
from voucherctl.errors import EXIT_CODE_HELP

ENVIRONMENT_HELP = """\
Environment: VOUCHERCTL_PROFILE, VOUCHERCTL_OUTPUT, VOUCHERCTL_TIMEOUT, VOUCHERCTL_CONFIG_DIR,
VOUCHERCTL_DATA_DIR; SPiD: VOUCHERCTL_SPID_URL, VOUCHERCTL_SPID_TOKEN, VOUCHERCTL_SPID_CLIENT_ID,
VOUCHERCTL_SPID_CLIENT_SECRET; Spaaza: VOUCHERCTL_SPAAZA_URL, VOUCHERCTL_SPAAZA_TOKEN,
VOUCHERCTL_SPAAZA_USER_ID, VOUCHERCTL_SPAAZA_SESSION_KEY, VOUCHERCTL_SPAAZA_CHAIN_ID,
VOUCHERCTL_SPAAZA_APP_HOSTNAME, VOUCHERCTL_SPAAZA_API_VERSION."""

EPILOG = f"{EXIT_CODE_HELP}\n\n{ENVIRONMENT_HELP}"

app = typer.Typer(
    name="voucherctl",
    help="Administer SPiD and Spaaza vouchers from the command line.",
    epilog=EPILOG,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
auth_app = typer.Typer(
    help="Store, check and remove credentials (OS keyring).", no_args_is_help=True
)
app.add_typer(auth_app, name="auth")
sandbox_app = typer.Typer(
    help="The built-in sandbox: a stateful emulator of SPiD and Spaaza.", no_args_is_help=True
)
app.add_typer(sandbox_app, name="sandbox")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"voucherctl {__version__}")
        raise typer.Exit()


def _main(
    ctx: typer.Context,
    version: Annotated[
        bool | None,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = None,
    **common: Any,
) -> None:
    """Administer SPiD and Spaaza vouchers from the command line."""
    # Common options typed before the command; each command merges them with its own.
    ctx.obj = common


def _with_common_options(func: Any) -> Any:
    import inspect

    signature = inspect.signature(func)
    params = [p for p in signature.parameters.values() if p.kind != p.VAR_KEYWORD]
    params += [
        inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=hint, default=default)
        for name, (hint, default) in COMMON_PARAMETERS.items()
    ]
    func.__signature__ = signature.replace(parameters=params)
    func.__annotations__ = {p.name: p.annotation for p in params}
    return func


def register(group: typer.Typer, name: str, func: Any) -> None:
    """Add a command, with the common options and the exit codes in its --help."""
    group.command(name, epilog=EPILOG)(command(func))


app.callback()(_with_common_options(_main))
register(app, "show", show.show)
register(app, "handout", handout.handout)
register(app, "groups", groups.groups)
register(app, "group", groups.group)
register(app, "claim", claim.claim)
register(app, "unclaim", claim.unclaim)
register(app, "lock", lock.lock)
register(app, "unlock", lock.unlock)
register(app, "vouchers", vouchers.vouchers)
register(app, "doctor", doctor.doctor)
register(app, "audit", audit.audit)
register(app, "completion", completion.completion)
register(auth_app, "login", auth.login)
register(auth_app, "status", auth.status)
register(auth_app, "logout", auth.logout)
register(sandbox_app, "serve", sandbox.serve)
register(sandbox_app, "reset", sandbox.reset)
register(sandbox_app, "info", sandbox.info)
