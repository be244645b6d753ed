"""SPiD's part of ``voucherctl auth``: client credentials checked, then stored."""

from typing import Any

from voucherctl import clients, config
from voucherctl.cli import prompt
from voucherctl.cli.login import Storage, backend_report, host_url, save, show_login
from voucherctl.credential_sets import MemoryTokenCache, SpidCredentials
from voucherctl.credentials import SPID_ENV_HINT, KeyringTokenCache, check_client_id, spid_keys
from voucherctl.env import Environment
from voucherctl.errors import VoucherctlError
from voucherctl.keychain import Keychain


def login(
    env: Environment,
    profile: config.Profile,
    storage: Storage,
    host: str | None,
    client_id: str | None,
) -> None:
    """Fetch a token with the client credentials; only then store id, secret and token."""
    base_url = host_url(env, host, profile.spid.base_url, config.SPID_HOSTS)
    client_id = client_id or profile.spid.client_id
    if not client_id and env.stdin_isatty:
        client_id = prompt.ask(env, "SPiD client id")
    if not client_id:
        from voucherctl.errors import UsageError

        raise UsageError("--client-id is required when not on a terminal")
    client_id = check_client_id(client_id, "--client-id")
    secret = prompt.secret(env, f"Client secret of {client_id}", what="client secret")

    credentials = SpidCredentials(
        source="login", client_id=client_id, client_secret=secret, cache=MemoryTokenCache()
    )
    token = clients.build_spid(env, base_url, credentials).fetch_token()

    storage.warn(env)
    keychain = storage.keychain
    secret_key, token_key = spid_keys(profile.name)
    keychain.set(secret_key, secret)
    KeyringTokenCache(keychain, token_key, f"{client_id}@{base_url}").store(token)
    profile.spid.base_url = base_url
    profile.spid.client_id = client_id
    save(env, profile)
    env.info(
        f"Logged in to SPiD at {base_url} as client {client_id}; profile {profile.name!r} "
        "saved, secret stored in the OS keyring."
    )
    show_login(env, profile, "spid", base_url)


def status(env: Environment) -> dict[str, Any]:
    """Where SPiD credentials come from, and whether the API takes them (a read of groups)."""
    from voucherctl import clients

    report: dict[str, Any] = {"api": "spid", "host": None, "source": None, "configured": False}
    report.update(backend_report(None, SPID_ENV_HINT))
    try:
        client = clients.spid(env)
    except VoucherctlError as exc:
        return {**report, "ok": False, "detail": exc.message}
    source = client.credentials.source
    report.update(host=client.base_url, source=source, configured=True)
    report.update(backend_report(source, SPID_ENV_HINT))
    try:
        groups = client.groups()
    except VoucherctlError as exc:
        return {**report, "ok": False, "detail": exc.message}
    return {**report, "ok": True, "detail": f"token accepted; {len(groups)} voucher groups"}


def forget(env: Environment, profile: config.Profile) -> bool:
    """Remove the secret and cached token; True when anything was stored."""
    keychain = Keychain(SPID_ENV_HINT)
    removed = [keychain.delete(key) for key in spid_keys(profile.name)]
    if profile.defined and profile.spid.client_id:
        profile.spid.client_id = None
        save(env, profile)
    return any(removed)
