"""``voucherctl auth login|status|logout``: credentials into and out of the OS keyring."""

from enum import StrEnum
from typing import Annotated, Any

import typer

from voucherctl import config, output
from voucherctl.cli import prompt
from voucherctl.env import Environment
from voucherctl.errors import ExitCode, UsageError, VoucherctlError


class Api(StrEnum):
    spid = "spid"
    spaaza = "spaaza"


API_NAMES = {"spid": "SPiD", "spaaza": "Spaaza"}
STATUS_VIEW = [
    output.field("Host", "host"),
    output.field("Credentials", "source"),
    output.Column("Works", lambda r: r.get("ok")),
    output.field("Detail", "detail"),
]


def _login_profile(env: Environment) -> config.Profile:
    if env.options.sandbox:
        raise UsageError("the sandbox needs no login: add --sandbox to any command instead")
    return config.load_profile(env.environ, env.options.profile, must_exist=False)


def _host(env: Environment, given: str | None, current: str | None, hosts: dict[str, str]) -> str:
    """A base URL from a host name (production, ...) or a URL, asked for on a terminal."""
    choice = given
    if not choice and env.stdin_isatty:
        names = ", ".join(hosts)
        choice = prompt.ask(env, f"Host ({names}, or a URL)", default=current or "production")
    choice = choice or current
    if not choice:
        raise UsageError(f"--host is required: one of {', '.join(hosts)}, or a base URL")
    return config.validate_base_url(hosts.get(choice, choice), what="--host")


def login(
    env: Environment,
    api: Annotated[Api, typer.Argument(help="Which API to log in to.")],
    host: Annotated[
        str | None,
        typer.Option(
            "--host",
            metavar="NAME|URL",
            help="production, pre-production (SPiD) / staging (Spaaza), or a base URL.",
        ),
    ] = None,
    client_id: Annotated[
        str | None, typer.Option("--client-id", metavar="ID", help="SPiD client id.")
    ] = None,
) -> None:
    """Store credentials in the OS keyring, once they were shown to work.

    The secret is read from a hidden prompt, or from the first line of stdin when it is not a
    terminal; it is never taken from the command line.
    """
    profile = _login_profile(env)
    if api is Api.spid:
        _login_spid(env, profile, host, client_id)
    else:
        raise UsageError("Spaaza login is not available yet")


def _login_spid(
    env: Environment, profile: config.Profile, host: str | None, client_id: str | None
) -> None:
    from voucherctl.credentials import (
        SPID_ENV_HINT,
        KeyringTokenCache,
        MemoryTokenCache,
        SpidCredentials,
        spid_keys,
    )
    from voucherctl.keychain import Keychain
    from voucherctl.spid import SpidClient

    base_url = _host(env, host, profile.spid.base_url, config.SPID_HOSTS)
    client_id = client_id or profile.spid.client_id
    if not client_id and env.stdin_isatty:
        client_id = prompt.ask(env, "SPiD client id")
    if not client_id:
        raise UsageError("--client-id is required when not on a terminal")
    secret = prompt.secret(env, f"Client secret of {client_id}", what="client secret")

    credentials = SpidCredentials(
        source="login", client_id=client_id, client_secret=secret, cache=MemoryTokenCache()
    )
    token = SpidClient(env.http(), base_url, credentials).fetch_token()

    keychain = Keychain(SPID_ENV_HINT)
    secret_key, token_key = spid_keys(profile.name)
    keychain.set(secret_key, secret)
    KeyringTokenCache(keychain, token_key, f"{client_id}@{base_url}").store(token)
    profile.spid.base_url = base_url
    profile.spid.client_id = client_id
    config.ConfigFile(config.config_dir(env.environ) / "config.toml").save_profile(profile)
    env.info(
        f"Logged in to SPiD at {base_url} as client {client_id}; profile {profile.name!r} "
        "saved, secret stored in the OS keyring."
    )
    record = {"profile": profile.name, "api": "spid", "host": base_url, "client_id": client_id}
    if env.output_format() != "table":
        output.print_record(env, record, [])


def status(env: Environment) -> None:
    """Show which credentials each API would use, from where, and whether they work."""
    reports = [_spid_status(env)]
    if env.output_format() == "table":
        for report in reports:
            title = f"{API_NAMES[report['api']]}, profile {_profile_name(env)!r}"
            output.print_record(env, report, STATUS_VIEW, title=title)
    else:
        output.print_list(env, reports, STATUS_VIEW)
    configured = [r for r in reports if r["configured"]]
    if not configured or not all(r["ok"] for r in configured):
        raise typer.Exit(int(ExitCode.AUTH))


def _profile_name(env: Environment) -> str:
    return "sandbox" if env.options.sandbox else env.profile.name


def _spid_status(env: Environment) -> dict[str, Any]:
    from voucherctl import connect

    report: dict[str, Any] = {"api": "spid", "host": None, "source": None, "configured": False}
    try:
        client = connect.spid(env)
    except VoucherctlError as exc:
        return {**report, "ok": False, "detail": exc.message}
    report.update(host=client.base_url, source=client.credentials.source, configured=True)
    try:
        groups = client.groups()
    except VoucherctlError as exc:
        return {**report, "ok": False, "detail": exc.message}
    return {**report, "ok": True, "detail": f"token accepted; {len(groups)} voucher groups"}


def logout(
    env: Environment,
    api: Annotated[
        Api | None, typer.Argument(help="Which API to log out of; both when left out.")
    ] = None,
) -> None:
    """Remove stored credentials (and cached tokens) of the profile from the OS keyring."""
    profile = _login_profile(env)
    from voucherctl.credentials import SPID_ENV_HINT, spid_keys
    from voucherctl.keychain import Keychain

    removed = []
    if api in (None, Api.spid):
        keychain = Keychain(SPID_ENV_HINT)
        if any([keychain.delete(key) for key in spid_keys(profile.name)]):
            removed.append("SPiD")
        if profile.defined and profile.spid.client_id:
            profile.spid.client_id = None
            config.ConfigFile(config.config_dir(env.environ) / "config.toml").save_profile(profile)
    if removed:
        env.info(f"Removed the {' and '.join(removed)} credentials of profile {profile.name!r}.")
    else:
        env.info(f"No stored credentials for profile {profile.name!r}; nothing to remove.")
