"""Where credentials come from, in one documented order (docs/contract.md#credentials).

SPiD: ``VOUCHERCTL_SPID_TOKEN``, else ``VOUCHERCTL_SPID_CLIENT_ID`` +
``VOUCHERCTL_SPID_CLIENT_SECRET``, else the profile's client id with its secret from the keyring.

Spaaza: ``VOUCHERCTL_SPAAZA_TOKEN`` (privileged), else ``VOUCHERCTL_SPAAZA_USER_ID`` +
``VOUCHERCTL_SPAAZA_SESSION_KEY``, else the profile's session (or token) from the keyring.

Credentials resolve as a set: a source is used whole or not at all. When they come from the
environment the keyring is never touched, not even imported, so cron and CI need none. Keyring
entries are looked up by API, host and client or user id (see ``keyring_entries``), for the
host the command talks to: a secret stored for one host is never sent to another.
"""

import json
import time
from collections.abc import Mapping

from voucherctl.core import redact
from voucherctl.core.errors import AuthError, CredentialsMissingError
from voucherctl.secrets.entries import (
    SpaazaEntry,
    SpidEntries,
    adopt_spid,
    legacy_spaaza,
    same_host,
)
from voucherctl.secrets.keychain import Keychain
from voucherctl.secrets.sets import (
    SPAAZA_ENV_HINT,
    SPAAZA_RENEW_HINT,
    CachedToken,
    MemoryTokenCache,
    SpaazaCredentials,
    SpidCredentials,
)
from voucherctl.storage import config

SIGN_SECRET_VARIABLE = "VOUCHERCTL_SPID_SIGN_SECRET"
SPID_ENV_HINT = (
    "VOUCHERCTL_SPID_TOKEN, or VOUCHERCTL_SPID_CLIENT_ID and VOUCHERCTL_SPID_CLIENT_SECRET"
)


def keyring_source(profile: str) -> str:
    """The ``source`` of credentials found in the keyring for ``profile``."""
    return f"keyring (profile {profile!r})"


def from_keyring(source: str) -> bool:
    """True when credentials with this ``source`` came from the keyring."""
    return source.startswith("keyring (")


class KeyringTokenCache:
    """For credentials from the keyring: the token is cached there too, never in a file."""

    def __init__(self, keychain: Keychain, key: str, owner: str) -> None:
        self._keychain = keychain
        self._key = key
        self._owner = owner  # the client and host the token was issued to
        self._memory = MemoryTokenCache()

    def load(self) -> CachedToken | None:
        token = self._memory.load()
        if token:
            return token
        stored = self._keychain.get(self._key)
        if not stored:
            return None
        try:
            record = json.loads(stored)
            if record.get("owner") != self._owner:
                return None
            token = CachedToken(
                str(record["access_token"]),
                float(record["expires_at"]),
                float(record.get("lifetime", 3600.0)),
            )
        except (ValueError, KeyError, TypeError, AttributeError):
            return None  # an unreadable cache entry is simply not a cache hit
        redact.register(token.access_token)
        self._memory.store(token)
        return token

    def store(self, token: CachedToken) -> None:
        self._memory.store(token)
        record = {"owner": self._owner, **vars(token)}
        self._keychain.set(self._key, json.dumps(record))

    def clear(self) -> None:
        self._memory.clear()
        self._keychain.delete(self._key)


def check_client_id(client_id: str, name: str) -> str:
    """A client id HTTP Basic authentication can carry (Latin-1 text, no colon)."""
    from voucherctl.core.errors import UsageError
    from voucherctl.core.text import escape_control

    try:
        client_id.encode("latin-1")
    except UnicodeEncodeError:
        usable = False
    else:
        usable = client_id.isprintable() and ":" not in client_id and bool(client_id.strip())
    if not usable:
        raise UsageError(
            f"{name} {escape_control(client_id)!r} is not a SPiD client id (printable Latin-1 "
            "text without ':')"
        )
    return client_id.strip()


def resolve_spid(
    environ: Mapping[str, str], profile: config.Profile, base_url: str
) -> SpidCredentials:
    """The first complete set of SPiD credentials for the host at ``base_url``, in the
    documented order; exit 4 when none. Its sign secret, which verifies signed answers, is
    ``VOUCHERCTL_SPID_SIGN_SECRET``, else (only for credentials from the keyring) the client's
    keyring entry, else unknown."""
    sign_secret = config.env_value(environ, SIGN_SECRET_VARIABLE)
    credentials = _spid_set(environ, profile, base_url, keyring_sign_secret=not sign_secret)
    if sign_secret:
        redact.register(sign_secret)
        credentials.sign_secret, credentials.sign_secret_source = sign_secret, SIGN_SECRET_VARIABLE
    return credentials


def _spid_set(
    environ: Mapping[str, str], profile: config.Profile, base_url: str, *, keyring_sign_secret: bool
) -> SpidCredentials:
    token = config.env_value(environ, "VOUCHERCTL_SPID_TOKEN")
    if token:
        redact.register(token)
        return SpidCredentials(source="VOUCHERCTL_SPID_TOKEN", access_token=token)

    client_id = config.env_value(environ, "VOUCHERCTL_SPID_CLIENT_ID")
    secret = config.env_value(environ, "VOUCHERCTL_SPID_CLIENT_SECRET")
    if client_id and secret:
        redact.register(secret)
        check_client_id(client_id, "VOUCHERCTL_SPID_CLIENT_ID")
        return SpidCredentials(
            source="VOUCHERCTL_SPID_CLIENT_ID/VOUCHERCTL_SPID_CLIENT_SECRET",
            client_id=client_id,
            client_secret=secret,
            cache=MemoryTokenCache(),
        )
    if client_id or secret:
        missing = "VOUCHERCTL_SPID_CLIENT_SECRET" if client_id else "VOUCHERCTL_SPID_CLIENT_ID"
        raise CredentialsMissingError(
            f"{missing} is not set; client credentials need both variables"
        )

    if profile.spid.client_id:
        entries = SpidEntries(base_url, profile.spid.client_id)
        return _spid_from_keyring(profile, entries, sign_secret=keyring_sign_secret)

    raise CredentialsMissingError(
        f"no SPiD credentials: set {SPID_ENV_HINT}, or run 'voucherctl auth login spid'"
    )


def _spid_from_keyring(
    profile: config.Profile, entries: SpidEntries, *, sign_secret: bool
) -> SpidCredentials:
    """The profile's client secret for this host, from the keyring (or its old name), with
    the client's sign secret when ``sign_secret`` and one is stored."""
    keychain = Keychain(SPID_ENV_HINT)
    secret = keychain.get(entries.client_secret)
    if not secret and same_host(entries.base_url, profile.spid.base_url):
        secret = adopt_spid(keychain, profile.name, entries)
    if not secret:
        raise CredentialsMissingError(
            f"no secret for SPiD client {entries.client_id} at {entries.base_url} in the OS "
            f"keyring (profile {profile.name!r}); run 'voucherctl auth login spid' "
            f"or set {SPID_ENV_HINT}"
        )
    source = keyring_source(profile.name)
    signing = keychain.get(entries.sign_secret) if sign_secret else None  # registered by get
    return SpidCredentials(
        source=source,
        client_id=entries.client_id,
        client_secret=secret,
        cache=KeyringTokenCache(keychain, entries.token, entries.owner),
        sign_secret=signing,
        sign_secret_source=source if signing else None,
    )


def signatures(credentials: SpidCredentials) -> str:
    """For ``auth status`` and ``doctor``: whether signed SPiD answers are verified, and with
    a sign secret from where (never the secret)."""
    if credentials.sign_secret:
        return f"verified (sign secret from {credentials.sign_secret_source})"
    return (
        f"not verified: no sign secret; set {SIGN_SECRET_VARIABLE} or run "
        "'voucherctl auth login spid --sign-secret'"
    )


def resolve_spaaza(
    environ: Mapping[str, str], profile: config.Profile, base_url: str
) -> SpaazaCredentials:
    """The first complete set of Spaaza credentials for the host at ``base_url``, in the
    documented order; exit 4 when none."""
    token = config.env_value(environ, "VOUCHERCTL_SPAAZA_TOKEN")
    if token:
        redact.register(token)
        return SpaazaCredentials(source="VOUCHERCTL_SPAAZA_TOKEN", token=token)

    user_id = config.env_value(environ, "VOUCHERCTL_SPAAZA_USER_ID")
    session_key = config.env_value(environ, "VOUCHERCTL_SPAAZA_SESSION_KEY")
    if user_id and session_key:
        redact.register(session_key)
        return SpaazaCredentials(
            source="VOUCHERCTL_SPAAZA_USER_ID/VOUCHERCTL_SPAAZA_SESSION_KEY",
            user_id=user_id,
            session_key=session_key,
        )
    if user_id or session_key:
        missing = "VOUCHERCTL_SPAAZA_SESSION_KEY" if user_id else "VOUCHERCTL_SPAAZA_USER_ID"
        raise CredentialsMissingError(
            f"{missing} is not set; a Spaaza session needs both variables"
        )

    if profile.spaaza.base_url:
        found = _spaaza_from_keyring(profile, SpaazaEntry(base_url, profile.spaaza.user_id))
        if found:
            return found
    raise CredentialsMissingError(f"no Spaaza credentials: {SPAAZA_RENEW_HINT}")


def _spaaza_from_keyring(profile: config.Profile, entry: SpaazaEntry) -> SpaazaCredentials | None:
    """The session of the profile's user at this host, or without a user the host's
    privileged token, from the keyring (never from its old name, which names no host)."""
    keychain = Keychain(SPAAZA_ENV_HINT)
    source = keyring_source(profile.name)
    stored = keychain.get(entry.name)
    if not stored:
        _refuse_old_spaaza(keychain, profile.name, entry)
        return None
    if not entry.user_id:
        return SpaazaCredentials(source=source, token=stored)
    try:
        record = json.loads(stored)
        session = SpaazaCredentials(
            source=source,
            user_id=str(record["user_id"]),
            session_key=str(record["session_key"]),
            expires=record.get("expires"),
        )
    except (ValueError, KeyError, TypeError):
        raise AuthError(
            f"the Spaaza session stored for profile {profile.name!r} is unreadable; "
            f"{SPAAZA_RENEW_HINT}"
        ) from None
    redact.register(session.session_key)
    if session.expires and _utc_passed(session.expires):
        raise AuthError(
            f"the Spaaza session of profile {profile.name!r} expired at {session.expires} "
            f"UTC; {SPAAZA_RENEW_HINT}"
        )
    return session


def _refuse_old_spaaza(keychain: Keychain, profile: str, entry: SpaazaEntry) -> None:
    """Exit 4, saying why, when the profile's Spaaza entry exists only under its old name: it
    records no host, so it is never sent (keyring_entries)."""
    old = legacy_spaaza(profile, entry)
    if keychain.get(old):
        raise AuthError(
            f"the Spaaza entry {old!r} that an earlier voucherctl stored for profile "
            f"{profile!r} does not record its host, so it is not sent to {entry.base_url} or "
            f"anywhere; {SPAAZA_RENEW_HINT}"
        )


def _utc_passed(moment: str) -> bool:
    """True when a Spaaza "YYYY-MM-DD HH:MM:SS" UTC time is in the past (unparsable: False)."""
    import calendar

    try:
        parsed = time.strptime(moment.strip(), "%Y-%m-%d %H:%M:%S")
    except ValueError:
        return False
    return calendar.timegm(parsed) <= time.time()
