"""Which host to talk to, with which credentials: API clients built from an Environment.

Nothing goes to a production host that no profile or variable names, and ``--sandbox`` never
looks at variables, keyring or config at all.
"""

from typing import TYPE_CHECKING

from voucherctl import config
from voucherctl.credentials import resolve_spaaza, resolve_spid
from voucherctl.env import Environment
from voucherctl.errors import UsageError
from voucherctl.spaaza import SpaazaClient
from voucherctl.spid import SpidClient

if TYPE_CHECKING:
    from voucherctl.http import Pacer


def spid_base_url(env: Environment) -> str:
    """The SPiD base URL: ``VOUCHERCTL_SPID_URL``, else the profile's; exit 2 when neither."""
    url = env.var("VOUCHERCTL_SPID_URL") or env.profile.spid.base_url
    if not url:
        raise UsageError(
            "no SPiD host is configured: run 'voucherctl auth login spid', or set "
            f"VOUCHERCTL_SPID_URL (e.g. {config.SPID_HOSTS['production']}), or try --sandbox"
        )
    return config.validate_base_url(url, what="SPiD base URL")


def spid(env: Environment, pacer: "Pacer | None" = None) -> SpidClient:
    """A SPiD client for this invocation (``pacer``: shared by the workers of a bulk run)."""
    base_url = spid_base_url(env)
    credentials = resolve_spid(env.environ, env.profile)
    return SpidClient(env.http(pacer), base_url, credentials)


def spaaza_base_url(env: Environment) -> str:
    """The Spaaza base URL: ``VOUCHERCTL_SPAAZA_URL``, else the profile's; exit 2 when neither."""
    url = env.var("VOUCHERCTL_SPAAZA_URL") or env.profile.spaaza.base_url
    if not url:
        raise UsageError(
            "no Spaaza host is configured: run 'voucherctl auth login spaaza', or set "
            f"VOUCHERCTL_SPAAZA_URL (e.g. {config.SPAAZA_HOSTS['production']}), or try --sandbox"
        )
    return config.validate_base_url(url, what="Spaaza base URL")


def spaaza_chain_id(env: Environment, given: str | None) -> str | None:
    """``--chain-id``, else ``VOUCHERCTL_SPAAZA_CHAIN_ID``, else the profile's chain id."""
    return given or env.var("VOUCHERCTL_SPAAZA_CHAIN_ID") or env.profile.spaaza.chain_id


def spaaza(
    env: Environment, pacer: "Pacer | None" = None, *, authenticated: bool = True
) -> SpaazaClient:
    """A Spaaza client for this invocation (``pacer``: shared by the workers of a bulk run)."""
    base_url = spaaza_base_url(env)
    settings = env.profile.spaaza
    credentials = resolve_spaaza(env.environ, env.profile) if authenticated else None
    return SpaazaClient(
        env.http(pacer),
        base_url,
        credentials,
        api_version=env.var("VOUCHERCTL_SPAAZA_API_VERSION")
        or settings.api_version
        or config.DEFAULT_SPAAZA_API_VERSION,
        app_hostname=env.var("VOUCHERCTL_SPAAZA_APP_HOSTNAME") or settings.app_hostname,
        on_warning=env.warn,
    )
