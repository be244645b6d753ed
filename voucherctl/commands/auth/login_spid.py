"""SPiD's part of ``voucherctl auth``: client credentials checked, then stored."""

from typing import TYPE_CHECKING, Any

from voucherctl.cli import clients, prompt
from voucherctl.commands.auth.login import (
    Storage,
    backend_report,
    host_url,
    retire,
    save,
    show_login,
)
from voucherctl.core.errors import VoucherctlError
from voucherctl.secrets.entries import SpidEntries, discard_old_spid, forget_spid
from voucherctl.secrets.keychain import Keychain
from voucherctl.secrets.resolve import SPID_ENV_HINT, KeyringTokenCache, check_client_id, signatures
from voucherctl.secrets.sets import MemoryTokenCache, SpidCredentials
from voucherctl.storage import config
from voucherctl.ui.environment import Environment

if TYPE_CHECKING:
    from voucherctl.api.spid.client import SpidClient


def login(
    env: Environment,
    profile: config.Profile,
    storage: Storage,
    host: str | None,
    client_id: str | None,
    *,
    sign_secret: bool = False,
) -> None:
    """Fetch a token with the client credentials; only then store id, secret and token (and
    with ``sign_secret`` the client's sign secret, asked for after the client secret). The
    client the profile named before is forgotten."""
    previous = SpidEntries.of(profile)
    base_url = host_url(env, host, profile.spid.base_url, config.SPID_HOSTS)
    client_id = client_id or profile.spid.client_id
    if not client_id and env.stdin_isatty:
        client_id = prompt.ask(env, "SPiD client id")
    if not client_id:
        from voucherctl.core.errors import UsageError

        raise UsageError("--client-id is required when not on a terminal")
    client_id = check_client_id(client_id, "--client-id")
    secret = prompt.secret(env, f"Client secret of {client_id}", what="client secret")
    signing = None  # read after the client secret, as stdin carries them in that order
    if sign_secret:
        signing = prompt.secret(env, f"Sign secret of {client_id}", what="sign secret")

    credentials = SpidCredentials(
        source="login", client_id=client_id, client_secret=secret, cache=MemoryTokenCache()
    )
    token = clients.build_spid(env, base_url, credentials).fetch_token()

    storage.warn(env)
    keychain, entries = storage.keychain, SpidEntries(base_url, client_id)
    keychain.set(entries.client_secret, secret)
    KeyringTokenCache(keychain, entries.token, entries.owner).store(token)
    if signing:
        keychain.set(entries.sign_secret, signing)
    profile.spid.base_url = base_url
    profile.spid.client_id = client_id
    save(env, profile)
    _retire(env, storage.keychain, profile.name, previous, entries)
    stored = "secret and sign secret" if signing else "secret"
    env.info(
        f"Logged in to SPiD at {base_url} as client {client_id}; profile {profile.name!r} "
        f"saved, {stored} stored in {storage.where()}."
    )
    show_login(env, profile, "spid", base_url)


def _retire(
    env: Environment,
    keychain: Keychain,
    profile: str,
    previous: SpidEntries | None,
    entries: SpidEntries,
) -> None:
    """Forget the client the profile named before this login, and old-named entries."""
    if previous is not None and previous.client_secret == entries.client_secret:  # however spelt
        retire(env, "old-named SPiD entries", lambda: discard_old_spid(keychain, profile, entries))
    elif previous is not None:
        old = previous
        what = f"the secret of SPiD client {old.client_id} at {old.base_url}"
        retire(env, what, lambda: forget_spid(keychain, profile, old))


def status(env: Environment) -> dict[str, Any]:
    """Where SPiD credentials come from, and whether the API takes them (a read of groups)."""
    from voucherctl.cli import clients

    report: dict[str, Any] = {"api": "spid", "host": None, "source": None, "configured": False}
    report.update(backend_report(None, SPID_ENV_HINT), verifies_signatures=None, signatures=None)
    try:
        report["host"] = clients.spid_base_url(env)  # shown even when credentials are missing
        client = clients.spid(env)
    except VoucherctlError as exc:
        return {**report, "ok": False, "detail": exc.message, "exit_code": int(exc.exit_code)}
    source = client.credentials.source
    report.update(host=client.base_url, source=source, configured=True)
    report.update(backend_report(source, SPID_ENV_HINT))
    report.update(
        verifies_signatures=bool(client.credentials.sign_secret),
        signatures=signatures(client.credentials),
    )
    try:
        groups = client.groups()
    except VoucherctlError as exc:
        report.update(_signatures_seen(client))
        return {**report, "ok": False, "detail": exc.message, "exit_code": int(exc.exit_code)}
    detail = f"token accepted; {len(groups)} voucher groups"
    return {**report, "ok": True, "detail": detail, "exit_code": 0}


def _signatures_seen(client: "SpidClient") -> dict[str, Any]:
    """What the answers showed of the sign secret, when that belies what it is said to do."""
    from voucherctl.api.spid.client import SIGNATURE_FAILED

    if SIGNATURE_FAILED not in client.signatures_seen:
        return {}
    source = client.credentials.sign_secret_source
    return {
        "verifies_signatures": False,
        "signatures": f"failed: SPiD's answer does not match the sign secret from {source}",
    }


def forget(env: Environment, profile: config.Profile) -> bool:
    """Remove the profile's client's secret, cached token and sign secret at its host (never
    another host's or client's); True when anything was stored."""
    entries = SpidEntries.of(profile)
    removed = entries is not None and forget_spid(Keychain(SPID_ENV_HINT), profile.name, entries)
    if profile.defined and profile.spid.client_id:
        profile.spid.client_id = None
        save(env, profile)
    return removed
