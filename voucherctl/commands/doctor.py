"""``voucherctl doctor``: one command that says what is set up, and what is broken."""

import platform
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Annotated, Any, TypeVar

import typer

from voucherctl import __version__
from voucherctl.api.spaaza.client import SpaazaClient
from voucherctl.api.spid.client import PAGE_LIMIT, SpidClient
from voucherctl.cli import clients
from voucherctl.cli.command import environment
from voucherctl.core.errors import (
    ExitCode,
    NotSentError,
    OutcomeUnknownError,
    UsageError,
    VoucherctlError,
)
from voucherctl.core.text import escape_control
from voucherctl.secrets.resolve import signatures
from voucherctl.storage import config
from voucherctl.ui import output
from voucherctl.ui.environment import Environment

Api = TypeVar("Api", SpidClient, SpaazaClient)

SKEW_WARNING_SECONDS = 30
SKEW_LIMIT_SECONDS = 300  # tokens, sessions and lock times go wrong beyond this

CHECK_COLUMNS = [
    output.id_field("Check", "name"),
    output.Column("OK", lambda c: c.get("ok")),
    output.field("Detail", "detail"),
]


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    exit_code: ExitCode = ExitCode.OK

    def record(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "ok": self.ok,
            "detail": self.detail,
            "exit_code": int(self.exit_code or (ExitCode.OK if self.ok else ExitCode.ERROR)),
        }


Require = Annotated[
    str | None,
    typer.Option(
        "--require",
        metavar="spid,spaaza",
        help="APIs that must be configured: one that is not is a failure (exit 2).",
    ),
]


def doctor(ctx: typer.Context, require: Require = None) -> None:
    """Check configuration, the ledger, credentials and reachability of both APIs.

    Prints every check (name, ok, detail, exit_code; never a secret) and exits 0 when all pass,
    else the exit code of the first failure (2 configuration, 4 credentials, 7 network, ...).
    An API that is not configured is skipped, unless --require names it. -o json prints
    {"ok": ..., "exit_code": ..., "checks": [...]}.

    Examples:

    \b
      voucherctl doctor --sandbox
      voucherctl doctor --profile prod --require spid,spaaza -o json
    """
    required = _required(require)
    env = environment(ctx)
    checks = [_versions(), *_configuration(env), _ledger(env)]
    configured = 0
    for api, probe in (("spid", _spid), ("spaaza", _spaaza)):
        found = probe(env)
        configured += bool(found)
        checks += found or [_not_configured(api, required)]
    if not configured:
        checks.append(
            Check(
                "apis",
                False,
                "neither SPiD nor Spaaza is configured; run "
                "'voucherctl auth login' or set the VOUCHERCTL_* variables",
                ExitCode.AUTH,
            )
        )
    failed = [check for check in checks if not check.ok]
    code = int(failed[0].exit_code or ExitCode.ERROR) if failed else int(ExitCode.OK)
    records = [check.record() for check in checks]
    if env.output_format() == "table" and env.options.query is None:
        output.print_list(env, records, CHECK_COLUMNS, title="voucherctl doctor")
    else:
        output.print_record(env, {"ok": not failed, "exit_code": code, "checks": records}, [])
    if failed:
        raise typer.Exit(code)


def _required(require: str | None) -> set[str]:
    """The APIs ``--require`` names; anything else is a usage error."""
    if require is None:
        return set()
    names = {name.strip().lower() for name in require.split(",") if name.strip()}
    unknown = names - {"spid", "spaaza"}
    if unknown or not names:
        raise UsageError(
            f"--require {escape_control(require)!r}: name spid, spaaza or both, "
            "e.g. --require spid,spaaza"
        )
    return names


def _not_configured(api: str, required: set[str]) -> Check:
    if api not in required:
        return Check(api, True, "not configured (skipped)")
    return Check(
        api,
        False,
        f"not configured, and --require names it: run 'voucherctl auth login {api}' or set "
        f"VOUCHERCTL_{api.upper()}_URL and its credentials",
        ExitCode.USAGE,
    )


def _versions() -> Check:
    import requests

    python = platform.python_version()
    return Check(
        "versions",
        True,
        f"voucherctl {__version__}, Python {python}, "
        f"requests {requests.__version__}, {sys.platform}",
    )


def _configuration(env: Environment) -> list[Check]:
    if env.options.sandbox:
        return [Check("config", True, "--sandbox: config.toml, variables and keyring ignored")]
    path = config.config_dir(env.environ) / "config.toml"
    try:
        profile = env.profile
    except VoucherctlError as exc:
        return [Check("config", False, exc.message, exc.exit_code)]
    where = f"{path}" if path.exists() else f"{path} (absent; variables only)"
    state = "defined" if profile.defined else "not defined"
    protected = ", protected" if profile.protected else ""
    return [Check("config", True, f"{where}; profile {profile.name!r} {state}{protected}")]


def _ledger(env: Environment) -> Check:
    """The ledger opens and takes records (docs/contract.md#the-ledger)."""
    from voucherctl.storage.location import open_ledger

    try:
        ledger = open_ledger(env.environ, env.profile.name, changes=False)
    except VoucherctlError as exc:
        return Check("ledger", False, exc.message, exc.exit_code)
    try:
        engine = "PostgreSQL" if ledger.engine.kind == "postgresql" else "SQLite"
        return Check("ledger", True, f"{ledger.shown} ({engine})")
    finally:
        ledger.close()


def _spid(env: Environment) -> list[Check]:
    from voucherctl.cli import clients

    if not (env.options.sandbox or env.var("VOUCHERCTL_SPID_URL") or env.profile.spid.base_url):
        return []
    build, read = (lambda: clients.spid(env)), _spid_read
    return _api_checks(env, "spid", build, read, _spid_signatures) or _unbuilt(
        env, "spid", lambda: clients.spid_base_url(env)
    )


def _spid_read(client: SpidClient) -> str:
    client.authenticate()
    groups = client.groups(pages=1)  # a check: a client with many groups need not list them all
    more = "+" if len(groups) >= PAGE_LIMIT else ""
    return f"token accepted; {len(groups)}{more} voucher groups readable"


def _spid_signatures(client: SpidClient) -> list[Check]:
    """Whether the answers just read were signed, and verified (docs/contract.md#credentials)."""
    from voucherctl.api.spid.answers import UNSIGNED, UNVERIFIED

    seen = client.signatures_seen
    if not seen:
        detail = "no answer carried data; whether SPiD signs its answers is not known"
    elif seen == {UNSIGNED}:  # with a sign secret, an unsigned answer fails the read
        detail = "SPiD's answers are not signed"
    elif UNVERIFIED in seen:
        detail = (
            "SPiD's answers are signed (HMAC-SHA256) but not verified: no sign secret is known; "
            "set VOUCHERCTL_SPID_SIGN_SECRET or run 'voucherctl auth login spid --sign-secret'"
        )
    else:
        detail = "SPiD's answers are signed (HMAC-SHA256) and verified with the sign secret"
    return [Check("spid signatures", True, detail)]


def _spaaza(env: Environment) -> list[Check]:
    from voucherctl.cli import clients

    if not (env.options.sandbox or env.var("VOUCHERCTL_SPAAZA_URL") or env.profile.spaaza.base_url):
        return []
    return _api_checks(env, "spaaza", lambda: clients.spaaza(env), _spaaza_read(env)) or _unbuilt(
        env, "spaaza", lambda: clients.spaaza_base_url(env)
    )


def _spaaza_read(env: Environment) -> Callable[[SpaazaClient], str]:
    def read(client: SpaazaClient) -> str:
        client.check_session(clients.spaaza_chain_id(env, None))
        return "session accepted"

    return read


def _api_checks(
    env: Environment,
    api: str,
    build: Callable[[], Api],
    read: Callable[[Api], str],
    after_read: Callable[[Api], list[Check]] | None = None,
) -> list[Check]:
    try:
        client = build()
    except VoucherctlError:
        return []  # _unbuilt says why, and runs the checks that need no credentials
    source = client.credentials.source if client.credentials else "nowhere"
    checks = [
        Check(f"{api} host", True, client.base_url),
        Check(f"{api} credentials", True, f"from {source}"),
    ]
    if "keyring" in source:
        checks.append(_keyring_check())
    if isinstance(client, SpidClient):
        checks.append(Check(f"{api} sign secret", True, signatures(client.credentials)))
    try:
        detail = read(client)
    except VoucherctlError as exc:
        checks.append(Check(f"{api} read", False, exc.message, exc.exit_code))
        return [_sign_secret_failed(client, check) for check in checks]
    checks.append(Check(f"{api} read", True, detail))
    if after_read is not None:
        checks += after_read(client)
    checks.append(_clock(api, client.http.last_server_date))
    return checks


def _sign_secret_failed(client: Api, check: Check) -> Check:
    """The sign secret check, failed when an answer's signature did not match the secret."""
    from voucherctl.api.spid.client import SIGNATURE_FAILED

    if check.name != "spid sign secret" or not isinstance(client, SpidClient):
        return check
    if SIGNATURE_FAILED not in client.signatures_seen:
        return check
    source = client.credentials.sign_secret_source
    detail = (
        f"SPiD's answer does not match the sign secret from {source}; check it "
        "(VOUCHERCTL_SPID_SIGN_SECRET, or 'voucherctl auth login spid --sign-secret')"
    )
    return Check(check.name, False, detail, ExitCode.ERROR)


def _unbuilt(env: Environment, api: str, base_url: Callable[[], str]) -> list[Check]:
    """No client could be made (no host, or no credentials): run what can run without one, and
    say what was skipped and why."""
    try:
        host = base_url()
    except VoucherctlError as exc:
        return [Check(f"{api} host", False, exc.message, exc.exit_code)]
    checks = [Check(f"{api} host", True, host)]
    build = _spid_credentials if api == "spid" else _spaaza_credentials
    try:
        build(env, host)
    except VoucherctlError as exc:
        checks.append(Check(f"{api} credentials", False, exc.message, exc.exit_code))
    checks.append(_reachable(env, api, host))
    if not any(env.var(name) for name in _CREDENTIAL_VARIABLES[api]):
        checks.append(_keyring_check())
    skipped = "skipped: no usable credentials"
    checks += [Check(f"{api} read", True, skipped), Check(f"{api} clock", True, skipped)]
    return checks


_CREDENTIAL_VARIABLES = {
    "spid": ("VOUCHERCTL_SPID_TOKEN", "VOUCHERCTL_SPID_CLIENT_ID", "VOUCHERCTL_SPID_CLIENT_SECRET"),
    "spaaza": (
        "VOUCHERCTL_SPAAZA_TOKEN",
        "VOUCHERCTL_SPAAZA_USER_ID",
        "VOUCHERCTL_SPAAZA_SESSION_KEY",
    ),
}


def _spid_credentials(env: Environment, host: str) -> None:
    from voucherctl.secrets.resolve import resolve_spid

    resolve_spid(env.environ, env.profile, host)


def _spaaza_credentials(env: Environment, host: str) -> None:
    from voucherctl.secrets.resolve import resolve_spaaza

    resolve_spaaza(env.environ, env.profile, host)


def _reachable(env: Environment, api: str, host: str) -> Check:
    """Whether the host answers at all: any HTTP answer will do, no credentials sent."""
    try:
        answer = env.http().request("GET", host + "/", what=f"reach {host}", change=False)
    except (NotSentError, OutcomeUnknownError) as exc:  # refused, unresolved, timed out
        return Check(f"{api} reachable", False, exc.message, exc.exit_code)
    except VoucherctlError:  # it answered, with something we would not follow (a redirect)
        return Check(f"{api} reachable", True, f"{host} answers")
    return Check(f"{api} reachable", True, f"{host} answers (HTTP {answer.status})")


def _keyring_check() -> Check:
    from voucherctl.secrets.keychain import Keychain

    try:
        backend = Keychain("the VOUCHERCTL_* variables").backend()
    except VoucherctlError as exc:
        return Check("keyring", False, exc.message, exc.exit_code)
    if backend.insecure:
        # The user consented at login (--insecure-storage), so a warning, not a failure.
        advice = "install a real keyring, or use the VOUCHERCTL_* variables instead"
        return Check("keyring", True, f"{backend.describe()}; {advice}")
    return Check("keyring", True, backend.describe())


def _clock(api: str, date: str | None) -> Check:
    if not date:
        return Check(f"{api} clock", True, "the server sent no Date header; skew not checked")
    try:
        skew = time.time() - parsedate_to_datetime(date).timestamp()
    except (TypeError, ValueError):
        return Check(f"{api} clock", True, f"unreadable Date header {date!r}; skew not checked")
    detail = f"this machine is {abs(skew):.0f} s {'ahead of' if skew > 0 else 'behind'} the server"
    if abs(skew) > SKEW_LIMIT_SECONDS:
        return Check(f"{api} clock", False, detail + "; set the clock (NTP)", ExitCode.ERROR)
    if abs(skew) > SKEW_WARNING_SECONDS:
        detail += " (consider syncing the clock)"
    return Check(f"{api} clock", True, detail)
