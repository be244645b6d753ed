"""The names of voucherctl's keyring entries, and the move from the names used before.

An entry is named by API, host and client or user id, never by a profile name alone
(docs/contract.md#credentials): ``spid/HOST/CLIENT/client_secret``, ``.../token`` (the cached
server token) and ``.../sign_secret``; ``spaaza/HOST/USER/session`` and ``spaaza/HOST/token`` (a
privileged token belongs to a host). So two configurations (two ``VOUCHERCTL_CONFIG_DIR``, each
with a profile ``default``) that name different hosts or clients never read, replace or remove
each other's secrets. Configurations that name the same client at the same host share its
entries: that is one secret.

Earlier versions named entries ``PROFILE/spid/client_secret``, ``PROFILE/spid/token``,
``PROFILE/spaaza/session`` and ``PROFILE/spaaza/token``, which every configuration with that
profile name shared. A secret is only ever sent to the host it was stored for, so an old entry
is used only when what was stored with it proves its host: SPiD's client secret is read when the
new name is missing and moved to it once (written there first, then deleted) when the token
cached beside it was issued to this client at this host. Old Spaaza entries recorded no host:
they are never sent, moved or removed (another configuration, at another host, may have stored
them); the error asking to log in again says one is there.
"""

import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import quote, urlsplit

from voucherctl.core.errors import VoucherctlError

if TYPE_CHECKING:
    from voucherctl.secrets.keychain import Keychain
    from voucherctl.storage import config


def host(base_url: str) -> str:
    """A base URL as names carry it: scheme and host in lower case, no trailing slash."""
    parts = urlsplit(base_url.strip())
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}{parts.path.rstrip('/')}"


def _part(value: str) -> str:
    # No "/" inside an id, so a name reads unambiguously from its end even when the base URL
    # has a path. Upper-case letters are spelled "^a": some backends (keyrings.alt's files)
    # fold names to lower case, and clientA must never share an entry with CLIENTA.
    return quote(re.sub(r"[A-Z^]", lambda m: "^" + m.group().lower(), value), safe="^")


@dataclass(frozen=True)
class SpidEntries:
    """The entries of one SPiD client at one host."""

    base_url: str
    client_id: str

    @classmethod
    def of(cls, profile: "config.Profile") -> "SpidEntries | None":
        """The entries a profile's SPiD settings name; None when it names no host and client."""
        spid = profile.spid
        return cls(spid.base_url, spid.client_id) if spid.base_url and spid.client_id else None

    def _name(self, what: str) -> str:
        return f"spid/{host(self.base_url)}/{_part(self.client_id)}/{what}"

    @property
    def client_secret(self) -> str:
        return self._name("client_secret")

    @property
    def token(self) -> str:
        return self._name("token")

    @property
    def sign_secret(self) -> str:
        return self._name("sign_secret")

    @property
    def owner(self) -> str:
        """Recorded with a cached token: the client and host it was issued to."""
        return f"{self.client_id}@{self.base_url}"

    def names(self) -> tuple[str, ...]:
        return self.client_secret, self.token, self.sign_secret


@dataclass(frozen=True)
class SpaazaEntry:
    """The one Spaaza credential a profile names: a user's session at a host (``user_id``
    given), or the host's privileged token."""

    base_url: str
    user_id: str | None

    @classmethod
    def of(cls, profile: "config.Profile") -> "SpaazaEntry | None":
        """The entry a profile's Spaaza settings name; None when it names no host."""
        spaaza = profile.spaaza
        return cls(spaaza.base_url, spaaza.user_id) if spaaza.base_url else None

    @property
    def name(self) -> str:
        if self.user_id:
            return f"spaaza/{host(self.base_url)}/{_part(self.user_id)}/session"
        return f"spaaza/{host(self.base_url)}/token"


def same_host(one: str | None, other: str | None) -> bool:
    return bool(one and other) and host(one or "") == host(other or "")


# -- the names of before -------------------------------------------------------------------


def legacy_spid(profile: str) -> tuple[str, str]:
    """The names a profile's SPiD client secret and cached token had before."""
    return f"{profile}/spid/client_secret", f"{profile}/spid/token"


def legacy_spaaza(profile: str, entry: SpaazaEntry) -> str:
    """The name a profile's Spaaza session (``entry`` with a user) or token had before."""
    return f"{profile}/spaaza/session" if entry.user_id else f"{profile}/spaaza/token"


@dataclass(frozen=True)
class _OldSpid:
    secret: str
    token: str | None  # the cached token record, when it was issued to this client and host
    names: tuple[str, ...]  # the old names to delete once moved


def _old_spid(keychain: "Keychain", profile: str, entries: SpidEntries) -> _OldSpid | None:
    """The profile's old-named SPiD entries when they may be these: not when the token cached
    beside the secret was issued to another client or host."""
    old_secret, old_token = legacy_spid(profile)
    secret = keychain.get(old_secret)
    if not secret:
        return None
    token = keychain.get(old_token)
    # voucherctl 0.1 cached a token beside every secret it stored, recording the client and
    # host it was issued to: the only proof that the old secret belongs to this client at this
    # host. Without it the secret could be another configuration's, for another host: it is
    # not sent anywhere (log in again).
    owner = _field(token, "owner") if token else None
    if owner != entries.owner:
        return None
    return _OldSpid(secret, token, (old_secret, old_token))


def _field(record: str, key: str) -> str | None:
    try:
        value = json.loads(record).get(key)
    except (ValueError, AttributeError):
        return None
    return None if value is None else str(value)


def adopt_spid(keychain: "Keychain", profile: str, entries: SpidEntries) -> str | None:
    """The client secret stored under the profile's old name, moved to ``entries`` (with its
    cached token); None when there is none that may be this client's at this host."""
    old = _old_spid(keychain, profile, entries)
    if not old:
        return None
    new = {entries.client_secret: old.secret}
    if old.token:
        new[entries.token] = old.token
    _move(keychain, new, list(old.names))
    return old.secret


def _move(keychain: "Keychain", new: dict[str, str], old: list[str]) -> None:
    """Write the new names, and only then delete the old. A keyring that refuses is left as it
    was: the value read is used all the same, and the move is tried again next time."""
    try:
        for name, value in new.items():
            keychain.set(name, value)
        for name in old:
            keychain.delete(name)
    except VoucherctlError:
        pass


def forget_spid(keychain: "Keychain", profile: str, entries: SpidEntries) -> bool:
    """Remove a client's entries at a host, and the profile's old-named ones when they may be
    these; True when anything was removed."""
    removed = [keychain.delete(name) for name in entries.names()]
    return discard_old_spid(keychain, profile, entries) or any(removed)


def discard_old_spid(keychain: "Keychain", profile: str, entries: SpidEntries) -> bool:
    """Remove the profile's old-named SPiD entries when they may be these."""
    old = _old_spid(keychain, profile, entries)
    return any([keychain.delete(name) for name in old.names]) if old else False


def forget_spaaza(keychain: "Keychain", entry: SpaazaEntry) -> bool:
    """Remove a Spaaza session or token (never an old-named one: see the module's doc)."""
    return keychain.delete(entry.name)
