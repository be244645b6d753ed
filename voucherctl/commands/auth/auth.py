"""``voucherctl auth login|status|logout``: credentials into and out of the OS keyring.

The work per API lives in ``login_spid`` and ``login_spaaza``; this module is the commands.
"""

from enum import StrEnum
from typing import Annotated, Any

import typer

from voucherctl.cli.command import environment
from voucherctl.commands.auth.login import login_profile, storage
from voucherctl.core.errors import ExitCode, NotConfiguredError, UsageError
from voucherctl.secrets.resolve import SPID_ENV_HINT
from voucherctl.secrets.sets import SPAAZA_ENV_HINT
from voucherctl.ui import output
from voucherctl.ui.environment import Environment


class Api(StrEnum):
    spid = "spid"
    spaaza = "spaaza"


API_NAMES = {"spid": "SPiD", "spaaza": "Spaaza"}


def _keyring_cell(record: dict[str, Any]) -> str | None:
    backend, warning = record.get("backend"), record.get("backend_warning")
    if backend and warning:
        return f"{backend} ({warning})"
    return backend or warning or "not used"


STATUS_VIEW = [
    output.id_field("Host", "host"),
    output.field("Credentials", "source"),
    output.Column("Keyring", _keyring_cell),
    output.Column("Works", lambda r: r.get("ok")),
    output.field("Detail", "detail"),
]
SPID_STATUS_VIEW = [*STATUS_VIEW[:3], output.field("Signatures", "signatures"), *STATUS_VIEW[3:]]

Host = Annotated[
    str | None,
    typer.Option(
        "--host",
        metavar="NAME|URL",
        help="production, pre-production (SPiD), staging (Spaaza), or a base URL.",
    ),
]
ClientId = Annotated[
    str | None, typer.Option("--client-id", metavar="ID", help="SPiD: the client id.")
]
Username = Annotated[
    str | None,
    typer.Option("--username", metavar="EMAIL", help="Spaaza: log in with this account."),
]
Session = Annotated[
    bool, typer.Option("--session", help="Spaaza: store an existing session instead.")
]
SessionUserId = Annotated[
    str | None,
    typer.Option("--session-user-id", metavar="N", help="Spaaza: the session's user id."),
]
Token = Annotated[
    bool, typer.Option("--token", help="Spaaza: store a privileged bearer token instead.")
]
ChainId = Annotated[
    str | None, typer.Option("--chain-id", metavar="N", help="Spaaza: default chain id.")
]
AppHostname = Annotated[
    str | None,
    typer.Option(
        "--app-hostname",
        metavar="HOST",
        help="Spaaza: app hostname, for user and privileged auth (admins leave it unset).",
    ),
]
ApiVersion = Annotated[
    str | None,
    typer.Option("--api-version", metavar="X.Y.Z", help="Spaaza: API version to send."),
]
SignSecret = Annotated[
    bool,
    typer.Option(
        "--sign-secret",
        help="SPiD: also store the client's sign secret (read after the client secret), "
        "to verify signed answers.",
    ),
]
InsecureStorage = Annotated[
    bool,
    typer.Option(
        "--insecure-storage",
        help="Store secrets even in a keyring backend that keeps them in a plain file "
        "(keyrings.alt's PlaintextKeyring and the like).",
    ),
]


def login(
    ctx: typer.Context,
    api: Annotated[Api, typer.Argument(help="Which API to log in to.")],
    host: Host = None,
    client_id: ClientId = None,
    username: Username = None,
    session: Session = False,
    session_user_id: SessionUserId = None,
    token: Token = False,
    chain_id: ChainId = None,
    app_hostname: AppHostname = None,
    api_version: ApiVersion = None,
    sign_secret: SignSecret = False,
    insecure_storage: InsecureStorage = False,
) -> None:
    """Store credentials in the OS keyring, once they were shown to work.

    SPiD: a client id and its secret; a token is fetched with them before anything is stored.
    With --sign-secret the client's sign secret is read next and stored too, so that signed
    answers are verified.

    Spaaza: --username logs in with the password (and the emailed passcode when the account has
    two-factor login), which ends every other session of that user; --session stores an
    existing session key, --token a privileged token, once Spaaza has accepted it. Only the
    session key or token is stored, never the password.

    Secrets are read from a hidden prompt, or line by line from stdin when it is not a
    terminal; never from the command line. A keyring backend that keeps secrets in a plain
    file is refused unless --insecure-storage is given.

    Examples:

    \b
      voucherctl auth login spid --host production --client-id ID --sign-secret
      voucherctl auth login spaaza --host production --username you@example.com
      printf '%s\\n' "$TOKEN" | voucherctl auth login spaaza --host staging --token
    """
    env = environment(ctx)
    profile = login_profile(env)
    if api is Api.spid:
        from voucherctl.commands.auth import login_spid

        keychain = storage(env, SPID_ENV_HINT, insecure_storage=insecure_storage)
        login_spid.login(env, profile, keychain, host, client_id, sign_secret=sign_secret)
        return
    from voucherctl.commands.auth import login_spaaza

    if sign_secret:
        raise UsageError("--sign-secret is for SPiD: 'voucherctl auth login spid --sign-secret'")
    settings = login_spaaza.Settings(host, chain_id, app_hostname, api_version)
    if token and session:
        raise UsageError("give --session or --token, not both")
    keychain = storage(env, SPAAZA_ENV_HINT, insecure_storage=insecure_storage)
    if token:
        login_spaaza.store_token(env, profile, keychain, settings)
    elif session:
        login_spaaza.store_session(env, profile, keychain, settings, session_user_id)
    else:
        login_spaaza.password_login(env, profile, keychain, settings, username)


def status(
    ctx: typer.Context,
    api: Annotated[
        Api | None, typer.Argument(help="Which API to check; every configured one when left out.")
    ] = None,
) -> None:
    """Show which credentials each API would use, from where, and whether they work.

    Shows the APIs in use (a host or credentials are set for them; both when neither is) and
    exits 0 only when every one shown works, else with the first failure's code: 4 nothing
    configured or credentials refused, 2 a bad host, 1 a server error, 7 unreachable. Naming an
    API checks only that one, and is a usage error (2) when it is not configured.

    Examples:

    \b
      voucherctl auth status
      voucherctl auth status spid --profile prod -o json
    """
    from voucherctl.commands.auth import login_spaaza, login_spid

    env = environment(ctx)
    configured = [name for name in API_NAMES if in_use(env, name)]
    named = [api.value] if api else configured
    if api and api.value not in configured:
        raise NotConfiguredError(
            f"{API_NAMES[api.value]} is not configured for this profile: run 'voucherctl auth "
            f"login {api.value}', or set VOUCHERCTL_{api.value.upper()}_URL and its credentials"
        )
    probes = {"spid": login_spid.status, "spaaza": login_spaaza.status}
    reports = [probes[name](env) for name in named or API_NAMES]
    if env.output_format() == "table":
        profile = "sandbox" if env.options.sandbox else env.profile.name
        for report in reports:
            title = f"{API_NAMES[report['api']]}, profile {profile!r}"
            view = SPID_STATUS_VIEW if report["api"] == "spid" else STATUS_VIEW
            output.print_record(env, report, view, title=title)
    else:
        output.print_list(env, reports, [])
    failed = [r for r in reports if not r["ok"]]
    if not named:
        raise typer.Exit(int(ExitCode.AUTH))  # nothing configured: no credentials at all
    if failed:
        raise typer.Exit(int(failed[0]["exit_code"]) or int(ExitCode.AUTH))


# The variables that put an API in use, besides its host in the profile.
_API_VARIABLES = {
    "spid": (
        "VOUCHERCTL_SPID_URL",
        "VOUCHERCTL_SPID_TOKEN",
        "VOUCHERCTL_SPID_CLIENT_ID",
        "VOUCHERCTL_SPID_CLIENT_SECRET",
    ),
    "spaaza": (
        "VOUCHERCTL_SPAAZA_URL",
        "VOUCHERCTL_SPAAZA_TOKEN",
        "VOUCHERCTL_SPAAZA_USER_ID",
        "VOUCHERCTL_SPAAZA_SESSION_KEY",
    ),
}


def in_use(env: Environment, api: str) -> bool:
    """Whether the API is configured at all: the sandbox, its host in the profile, or any of
    its host and credential variables (docs/contract.md#commands)."""
    if env.options.sandbox:
        return True
    settings = env.profile.spid if api == "spid" else env.profile.spaaza
    return bool(settings.base_url or any(env.var(name) for name in _API_VARIABLES[api]))


def logout(
    ctx: typer.Context,
    api: Annotated[
        Api | None, typer.Argument(help="Which API to log out of; both when left out.")
    ] = None,
) -> None:
    """Remove the profile's stored credentials and cached tokens from the OS keyring.

    Examples:

    \b
      voucherctl auth logout                     # both APIs of the default profile
      voucherctl auth logout spaaza --profile staging
    """
    from voucherctl.commands.auth import login_spaaza, login_spid

    env = environment(ctx)
    profile = login_profile(env)
    removed = []
    if api in (None, Api.spid) and login_spid.forget(env, profile):
        removed.append("SPiD")
    if api in (None, Api.spaaza) and login_spaaza.forget(env, profile):
        removed.append("Spaaza")
    if removed:
        env.info(f"Removed the {' and '.join(removed)} credentials of profile {profile.name!r}.")
    else:
        env.info(f"No stored credentials for profile {profile.name!r}; nothing to remove.")
    if env.output_format() != "table":  # for scripts: what was removed (schema auth-logout)
        names = [name for name, shown in API_NAMES.items() if shown in removed]
        output.print_record(env, {"profile": profile.name, "removed": names}, [])
