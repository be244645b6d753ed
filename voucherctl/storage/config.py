"""Profiles, paths and the environment overrides that relocate them.

``config.toml`` in the config directory holds one table per profile
(docs/contract.md#configuration). It never holds a secret: those live in the OS keyring (see
``credentials``).
"""

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from voucherctl.core.errors import ProfileUnknownError, UsageError

APP_NAME = "voucherctl"
DEFAULT_PROFILE = "default"
DEFAULT_SPAAZA_API_VERSION = "1.6.3"
# What journals and the audit log name as the host of --sandbox runs: the in-process
# sandbox has a new port every run, so its URL would make every run another host.
SANDBOX_NAME = "sandbox"

SPID_HOSTS = {
    "production": "https://login.schibsted.com",
    "pre-production": "https://identity-pre.schibsted.com",
}
SPAAZA_HOSTS = {
    "production": "https://api0.spaaza.com",
    "staging": "https://apistage0.spaaza.com",
}


def env_value(environ: Mapping[str, str], name: str) -> str | None:
    """A variable's value; an empty variable counts as unset."""
    value = environ.get(name)
    return value if value else None


def config_dir(environ: Mapping[str, str]) -> Path:
    """Where ``config.toml`` lives: ``VOUCHERCTL_CONFIG_DIR``, else the platform's place."""
    explicit = env_value(environ, "VOUCHERCTL_CONFIG_DIR")
    if explicit:
        return Path(explicit).expanduser()
    return _user_dir(environ, "config")


def data_dir(environ: Mapping[str, str]) -> Path:
    """Journals, the audit log and sandbox state: ``VOUCHERCTL_DATA_DIR``, else the platform's."""
    explicit = env_value(environ, "VOUCHERCTL_DATA_DIR")
    if explicit:
        return Path(explicit).expanduser()
    return _user_dir(environ, "data")


def _user_dir(environ: Mapping[str, str], kind: str) -> Path:
    """The user's config or data directory for voucherctl, by the platform's convention."""
    if sys.platform.startswith("linux"):
        # The XDG rule, as platformdirs applies it, without the 12 ms its import costs.
        variable, fallback = {
            "config": ("XDG_CONFIG_HOME", ".config"),
            "data": ("XDG_DATA_HOME", ".local/share"),
        }[kind]
        base = env_value(environ, variable)
        return (Path(base) if base else Path.home() / fallback) / APP_NAME
    import platformdirs

    if kind == "config":
        return platformdirs.user_config_path(APP_NAME, appauthor=False)
    return platformdirs.user_data_path(APP_NAME, appauthor=False)


@dataclass
class SpidSettings:
    base_url: str | None = None
    client_id: str | None = None


@dataclass
class SpaazaSettings:
    base_url: str | None = None
    user_id: str | None = None
    chain_id: str | None = None
    app_hostname: str | None = None
    api_version: str | None = None


@dataclass
class Profile:
    """One ``[profiles.NAME]`` table, with its SPiD and Spaaza sub-tables."""

    name: str
    protected: bool = False
    spid: SpidSettings = field(default_factory=SpidSettings)
    spaaza: SpaazaSettings = field(default_factory=SpaazaSettings)
    defined: bool = False  # False when the config file has no table for this profile


class ConfigFile:
    """``config.toml``: read once, written back whole (atomically) when a profile changes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._data: dict[str, Any] = self._read()

    def _read(self) -> dict[str, Any]:
        try:
            # utf-8-sig: a BOM that an editor put at the start is not part of the TOML
            text = self.path.read_text(encoding="utf-8-sig")
        except FileNotFoundError:
            return {}
        except OSError as exc:
            raise UsageError(f"cannot read {self.path}: {exc.strerror}") from None
        import tomllib  # only a config file that exists pays for the parser

        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise UsageError(f"{self.path} is not valid TOML ({exc}); fix or remove it") from None
        if not isinstance(data.get("profiles", {}), dict):
            raise UsageError(f"{self.path}: 'profiles' must be a table of [profiles.NAME] tables")
        return data

    def setting(self, key: str) -> str | None:
        """A setting at the top of the file (outside the profiles), e.g. ``ledger``."""
        value = self._data.get(key)
        if value is not None and not isinstance(value, str):
            raise UsageError(f"{self.path}: '{key}' must be a string")
        return value or None

    def profile_names(self) -> list[str]:
        return sorted(self._data.get("profiles", {}))

    def profile(self, name: str) -> Profile:
        """The named profile; an undefined one comes back empty with ``defined=False``."""
        table = self._data.get("profiles", {}).get(name)
        if table is None:
            return Profile(name=name)
        if not isinstance(table, dict):
            raise UsageError(f"{self.path}: [profiles.{name}] must be a table")
        try:
            return Profile(
                name=name,
                protected=bool(table.get("protected", False)),
                spid=SpidSettings(**_strings(table.get("spid", {}))),
                spaaza=SpaazaSettings(**_strings(table.get("spaaza", {}))),
                defined=True,
            )
        except TypeError as exc:
            raise UsageError(f"{self.path}: [profiles.{name}] has an unknown key ({exc})") from None

    def save_profile(self, profile: Profile) -> None:
        """Write ``profile``'s settings into the file (``auth login``): what it sets is written,
        every other key and profile kept as it is in the file now."""
        changes: dict[str, object] = {"protected": True} if profile.protected else {}
        for api, settings in (("spid", profile.spid), ("spaaza", profile.spaaza)):
            changes.update({f"{api}.{k}": v for k, v in vars(settings).items() if v is not None})
        edit_profile(self.path, profile.name, changes, must_exist=False)

    def _apply(self, name: str, changes: Mapping[str, object]) -> None:
        """Set each dotted key of ``changes`` in profile ``name`` (None removes it); every key
        this does not name, hand-added ones included, stays as it was."""
        table = self._data.setdefault("profiles", {}).setdefault(name, {})
        for key, value in changes.items():
            *path, leaf = key.split(".")
            parent = table
            for part in path:
                parent = parent.setdefault(part, {})
            if value is None:
                parent.pop(leaf, None)
            else:
                parent[leaf] = value
            if path and not parent:
                table.pop(path[0])

    def _write(self) -> None:
        import tomli_w

        from voucherctl.storage.private_files import write_private_text

        # 0600 in a 0700 folder whatever the umask, and a looser file made so by this write
        # (docs/contract.md#files-and-audit-log): the file names clients and user ids.
        write_private_text(self.path, tomli_w.dumps(self._data))


def edit_profile(
    path: Path, name: str, changes: Mapping[str, object], *, must_exist: bool
) -> Profile:
    """Read config.toml, change profile ``name`` and write it back, as one step across
    processes: an OS lock on ``.config.toml.lock`` beside it is held from the read to the
    atomic rename, so concurrent ``config set`` and ``auth login`` runs each keep their
    setting (docs/contract.md#configuration). Returns the profile as written."""
    from voucherctl.storage.private_files import locked, private_folder

    try:
        private_folder(path.parent)
        with locked(path.with_name(f".{path.name}.lock")):
            file = ConfigFile(path)
            if must_exist and not file.profile(name).defined:
                raise ProfileUnknownError(
                    f"profile {name!r} is not defined in {path}; "
                    f"'voucherctl config set KEY VALUE --profile {name}' creates it"
                )
            file._apply(name, changes)
            profile = file.profile(name)  # refuses a profile the file makes unreadable
            file._write()
            return profile
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None


def _strings(table: object) -> dict[str, str]:
    if not isinstance(table, dict):
        raise TypeError("expected a table")
    return {str(k): str(v) for k, v in table.items()}


def load_profile(environ: Mapping[str, str], name: str | None, *, must_exist: bool) -> Profile:
    """The active profile: ``name`` (from ``--profile``), else ``VOUCHERCTL_PROFILE``, else default.

    A profile asked for by name that the file does not define is a usage error when
    ``must_exist``; the default profile may be absent (everything then comes from variables).
    """
    chosen = name or env_value(environ, "VOUCHERCTL_PROFILE")
    path = config_dir(environ) / "config.toml"
    profile = ConfigFile(path).profile(chosen or DEFAULT_PROFILE)
    if chosen and must_exist and not profile.defined:
        raise ProfileUnknownError(
            f"profile {chosen!r} is not defined in {path}; "
            f"create it with 'voucherctl auth login spid --profile {chosen}'"
        )
    return profile


def validate_base_url(url: str, *, what: str) -> str:
    """A base URL in one spelling: scheme and host in lower case, no default port, no trailing
    slash (journals and the audit log name hosts by it); ``http://`` only for loopback hosts."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"{what} {url!r} is not an http(s) URL, e.g. https://login.schibsted.com")
    if scheme == "http" and not is_loopback(parts.hostname):
        raise UsageError(f"{what} {url!r} uses plain http; only loopback hosts may, use https://")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise UsageError(f"{what} {url!r} must be a bare base URL (no query, fragment or login)")
    try:
        port = parts.port
    except ValueError:
        raise UsageError(
            f"{what} {url!r} has a port that is not a number from 0 to 65535"
        ) from None
    host = parts.hostname.lower()
    host = f"[{host}]" if ":" in host else host
    if port is not None and port != {"http": 80, "https": 443}[scheme]:
        host = f"{host}:{port}"
    return f"{scheme}://{host}{parts.path.rstrip('/')}"


def is_loopback(host: str) -> bool:
    """True for localhost, 127.0.0.0/8 and ::1."""
    import ipaddress

    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def environ_snapshot() -> dict[str, str]:
    """The process environment, copied so later changes do not leak into a running command."""
    return dict(os.environ)
