"""API clients built from an Environment: which host to talk to, with which credentials.

Every command gets its SPiD and Spaaza clients here (``auth login`` too, with the credentials
it is about to store), so they all share one HTTP setup and one way of reporting warnings.
Nothing goes to a production host that no profile or variable names, and ``--sandbox`` never
looks at variables, keyring or config at all (docs/contract.md#sandbox).
"""

from typing import TYPE_CHECKING

from voucherctl.core.errors import NotConfiguredError, UsageError
from voucherctl.secrets.resolve import resolve_spaaza, resolve_spid
from voucherctl.secrets.sets import MemoryTokenCache, SpaazaCredentials, SpidCredentials
from voucherctl.storage import config
from voucherctl.ui.environment import Environment

if TYPE_CHECKING:  # each client is imported when built: a SPiD command never loads Spaaza's
    from pathlib import Path

    from voucherctl.api.spaaza.client import SpaazaClient
    from voucherctl.api.spid.client import SpidClient
    from voucherctl.api.transport.pacing import Pacer


def spid_base_url(env: Environment) -> str:
    """The SPiD base URL: ``VOUCHERCTL_SPID_URL``, else the profile's; exit 2 when neither."""
    return _base_url(env, "SPiD", "spid", env.profile.spid.base_url, config.SPID_HOSTS)


def _base_url(
    env: Environment, api: str, name: str, profile_url: str | None, hosts: dict[str, str]
) -> str:
    if env.options.sandbox:
        return sandbox_url(env)
    variable = f"VOUCHERCTL_{name.upper()}_URL"
    url = env.var(variable) or profile_url
    if not url:
        raise NotConfiguredError(
            f"no {api} host is configured: run 'voucherctl auth login {name}', or set "
            f"{variable} (e.g. {hosts['production']}), or try --sandbox"
        )
    return config.validate_base_url(url, what=f"{api} base URL")


def recorded_host(env: Environment, base_url: str) -> str:
    """The host a change is recorded under (journals, the audit log): its base URL, or
    ``sandbox`` for the sandbox, whatever port it has this time."""
    return config.SANDBOX_NAME if env.options.sandbox else base_url


def spid(env: Environment, pacer: "Pacer | None" = None) -> "SpidClient":
    """A SPiD client for this invocation (``pacer``: shared by the workers of a bulk run)."""
    base_url = spid_base_url(env)
    if env.options.sandbox:
        from voucherctl.sandbox import SANDBOX

        credentials = SpidCredentials(
            source="sandbox",
            client_id=SANDBOX.spid_client_id,
            client_secret=SANDBOX.spid_client_secret,
            cache=MemoryTokenCache(),
        )
    else:
        credentials = resolve_spid(env.environ, env.profile, base_url)
    return build_spid(env, base_url, credentials, pacer)


def build_spid(
    env: Environment, base_url: str, credentials: SpidCredentials, pacer: "Pacer | None" = None
) -> "SpidClient":
    """A SPiD client for these credentials (``auth login`` checks new ones with it)."""
    from voucherctl.api.spid.client import SpidClient

    return SpidClient(env.http(pacer), base_url, credentials)


def spaaza_base_url(env: Environment) -> str:
    """The Spaaza base URL: ``VOUCHERCTL_SPAAZA_URL``, else the profile's; exit 2 when neither."""
    return _base_url(env, "Spaaza", "spaaza", env.profile.spaaza.base_url, config.SPAAZA_HOSTS)


def spaaza_chain_id(env: Environment, given: str | None) -> str | None:
    """``--chain-id``, else ``VOUCHERCTL_SPAAZA_CHAIN_ID``, else the profile's chain id."""
    if env.options.sandbox:
        from voucherctl.sandbox import SANDBOX

        return given or str(SANDBOX.spaaza_chain_id)
    return given or env.var("VOUCHERCTL_SPAAZA_CHAIN_ID") or env.profile.spaaza.chain_id


def spaaza(env: Environment, pacer: "Pacer | None" = None) -> "SpaazaClient":
    """A Spaaza client for this invocation (``pacer``: shared by the workers of a bulk run)."""
    base_url = spaaza_base_url(env)
    if env.options.sandbox:
        from voucherctl.sandbox import SANDBOX

        credentials = SpaazaCredentials(
            source="sandbox",
            user_id=str(SANDBOX.spaaza_session_user_id),
            session_key=SANDBOX.spaaza_session_key,
        )
        return build_spaaza(env, base_url, credentials, pacer=pacer)
    settings = env.profile.spaaza
    return build_spaaza(
        env,
        base_url,
        resolve_spaaza(env.environ, env.profile, base_url),
        api_version=env.var("VOUCHERCTL_SPAAZA_API_VERSION") or settings.api_version,
        app_hostname=env.var("VOUCHERCTL_SPAAZA_APP_HOSTNAME") or settings.app_hostname,
        pacer=pacer,
    )


def build_spaaza(
    env: Environment,
    base_url: str,
    credentials: SpaazaCredentials | None,
    *,
    api_version: str | None = None,
    app_hostname: str | None = None,
    pacer: "Pacer | None" = None,
) -> "SpaazaClient":
    """A Spaaza client for these credentials (None: for logging in)."""
    from voucherctl.api.spaaza.client import SpaazaClient

    return SpaazaClient(
        env.http(pacer),
        base_url,
        credentials,
        api_version=api_version or config.DEFAULT_SPAAZA_API_VERSION,
        app_hostname=_app_hostname(app_hostname),
        on_warning=env.warn,
    )


_sandbox_urls: dict[str, str] = {}  # state file -> base URL of the sandbox serving it


def sandbox_url(env: Environment) -> str:
    """The sandbox to use: one served on the default port over this data directory's state
    file (``voucherctl sandbox serve``), else one started in this process over that file, so
    state persists from one command to the next. A sandbox served over another state file
    (another user's, or another data directory's) is never used."""
    path = config.data_dir(env.environ) / SANDBOX_STATE_FILE
    if str(path) not in _sandbox_urls:
        _prepare_state(path)
        url = _served_sandbox(path)
        if url is None:
            env.debug(f"* no sandbox serves {path} on {SANDBOX_ADDRESS}:8765; starting one here")
            url = _start_sandbox(path)
        _sandbox_urls[str(path)] = url
    return _sandbox_urls[str(path)]


SANDBOX_STATE_FILE = "sandbox.sqlite3"
SANDBOX_ADDRESS = "127.0.0.1"


def served_sandbox_url(env: Environment) -> str | None:
    """The URL of ``voucherctl sandbox serve`` on the default port over this data directory's
    state file, if one runs."""
    path = config.data_dir(env.environ) / SANDBOX_STATE_FILE
    return _served_sandbox(path) if path.exists() else None


def _prepare_state(path: "Path") -> None:
    """The state file, seeded; made its owner's alone (it names users and their vouchers, and
    holds live tokens) by the sandbox's store, which makes it 0600 and its folders 0700."""
    from voucherctl.sandbox import NotAStateFile, ensure_state

    try:
        ensure_state(path)
    except NotAStateFile as exc:
        from voucherctl.core.text import escape_control

        shown = escape_control(str(path))
        raise UsageError(
            f"{shown} is not a sandbox state file ({exc.reason}); nothing was changed. "
            "Move it elsewhere and --sandbox starts a fresh one there"
        ) from None


def _served_sandbox(path: "Path") -> str | None:
    """The default port's sandbox, when it answers and serves exactly this state file."""
    import http.client
    import json

    from voucherctl.sandbox import DEFAULT_PORT

    connection = http.client.HTTPConnection(SANDBOX_ADDRESS, DEFAULT_PORT, timeout=0.5)
    try:
        connection.request("GET", "/__sandbox__")
        answer = connection.getresponse()
        body = json.loads(answer.read(65536))
        ours = path.stat()
    except (OSError, ValueError, http.client.HTTPException):
        return None
    finally:
        connection.close()
    serves_ours = (
        isinstance(body, dict)
        and body.get("sandbox") == "voucherctl"
        and body.get("state_device") == ours.st_dev
        and body.get("state_inode") == ours.st_ino
    )
    return (
        f"http://{SANDBOX_ADDRESS}:{DEFAULT_PORT}" if answer.status == 200 and serves_ours else None
    )


def _start_sandbox(path: "Path") -> str:
    from voucherctl.sandbox import start_background

    return start_background(path, host=SANDBOX_ADDRESS).url


def _app_hostname(value: str | None) -> str | None:
    """The app hostname, which travels in an HTTP header: ASCII, one word."""
    if value is not None and not (value.isascii() and value.isprintable() and " " not in value):
        from voucherctl.core.text import escape_control

        raise UsageError(
            f"the Spaaza app hostname {escape_control(value)!r} is not a host name; fix "
            "VOUCHERCTL_SPAAZA_APP_HOSTNAME or the profile's app_hostname"
        )
    return value
