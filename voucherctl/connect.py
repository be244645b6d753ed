"""Which host to talk to, with which credentials: API clients built from an Environment.

Nothing goes to a production host that no profile or variable names, and ``--sandbox`` never
looks at variables, keyring or config at all.
"""

from voucherctl import config
from voucherctl.credentials import resolve_spid
from voucherctl.env import Environment
from voucherctl.errors import UsageError
from voucherctl.spid import SpidClient


def spid_base_url(env: Environment) -> str:
    """The SPiD base URL: ``VOUCHERCTL_SPID_URL``, else the profile's; exit 2 when neither."""
    url = env.var("VOUCHERCTL_SPID_URL") or env.profile.spid.base_url
    if not url:
        raise UsageError(
            "no SPiD host is configured: run 'voucherctl auth login spid', or set "
            f"VOUCHERCTL_SPID_URL (e.g. {config.SPID_HOSTS['production']}), or try --sandbox"
        )
    return config.validate_base_url(url, what="SPiD base URL")


def spid(env: Environment) -> SpidClient:
    """A SPiD client for this invocation."""
    base_url = spid_base_url(env)
    credentials = resolve_spid(env.environ, env.profile)
    return SpidClient(env.http(), base_url, credentials)
