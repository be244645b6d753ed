"""What logging in to either API shares: the profile written to, the host chosen, the keyring
stored into (refused when it keeps secrets in a plain file), the record shown.

``login_spid`` and ``login_spaaza`` do each API's part of ``voucherctl auth``; ``auth`` is the
commands.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from voucherctl.cli import prompt
from voucherctl.core.errors import UsageError, VoucherctlError
from voucherctl.secrets.keychain import Backend, Keychain
from voucherctl.secrets.resolve import from_keyring
from voucherctl.storage import config
from voucherctl.ui import output
from voucherctl.ui.environment import Environment

INSECURE_STORAGE = "--insecure-storage"

LOGIN_VIEW = [
    output.id_field("Profile", "profile"),
    output.field("API", "api"),
    output.id_field("Host", "host"),
]


def login_profile(env: Environment) -> config.Profile:
    """The profile a login writes to: it may not exist yet."""
    if env.options.sandbox:
        raise UsageError("the sandbox needs no login: add --sandbox to any command instead")
    return config.load_profile(env.environ, env.options.profile, must_exist=False)


def host_url(
    env: Environment, given: str | None, current: str | None, hosts: dict[str, str]
) -> str:
    """A base URL from a host's name (production, ...) or a URL; asked for on a terminal."""
    choice = given
    if not choice and env.stdin_isatty:
        names = ", ".join(hosts)
        choice = prompt.ask(env, f"Host ({names}, or a URL)", default=current or "production")
    choice = choice or current
    if not choice:
        raise UsageError(f"--host is required: one of {', '.join(hosts)}, or a base URL")
    return config.validate_base_url(hosts.get(choice, choice), what="--host")


def save(env: Environment, profile: config.Profile) -> None:
    """Write the profile into config.toml, keeping every other profile as it was."""
    config.ConfigFile(config.config_dir(env.environ) / "config.toml").save_profile(profile)


def show_login(env: Environment, profile: config.Profile, api: str, host: str | None) -> None:
    """For scripts: what was logged in to (a terminal got the sentence on stderr)."""
    if env.output_format() != "table":
        record = {"profile": profile.name, "api": api, "host": host}
        output.print_record(env, record, LOGIN_VIEW)


@dataclass
class Storage:
    """The keyring a login stores into, and what kind of backend it is."""

    keychain: Keychain
    backend: Backend

    def where(self) -> str:
        """Where a secret went, truthfully: the backend by its name, and when it is insecure,
        "the keyring (PlaintextKeyring, insecure: it keeps secrets unencrypted in a file)"."""
        short = self.backend.name.rsplit(".", 1)[-1]
        if self.backend.insecure:
            return f"the keyring ({short}, insecure: it {self.backend.insecure})"
        return f"the keyring ({short})"

    def warn(self, env: Environment) -> None:
        """Said as the secrets are stored, when the user consented to an insecure backend."""
        if self.backend.insecure:
            env.warn(
                f"storing in {self.backend.name}, which {self.backend.insecure} "
                f"({INSECURE_STORAGE})"
            )


def storage(env: Environment, alternative: str, *, insecure_storage: bool) -> Storage:
    """The keyring to store into, checked before anything is asked or sent: a backend that keeps
    secrets in a plain file is refused (exit 2) without ``--insecure-storage``, one that keeps
    nothing always (docs/contract.md#credentials). ``alternative``: the variables instead."""
    keychain = Keychain(alternative)
    backend = keychain.require_safe_storage(
        insecure_storage=insecure_storage, option=INSECURE_STORAGE
    )
    return Storage(keychain, backend)


def backend_report(source: str | None, alternative: str) -> dict[str, Any]:
    """``auth status``'s keys on the keyring: the backend, and why it is insecure when it is.
    Both are null unless the credentials came from the keyring (with variables it is not even
    imported)."""
    if not source or not from_keyring(source):
        return {"backend": None, "backend_warning": None}
    try:
        backend = Keychain(alternative).backend()
    except VoucherctlError as exc:
        return {"backend": None, "backend_warning": exc.message}
    warning = f"insecure: it {backend.insecure}" if backend.insecure else None
    return {"backend": backend.name, "backend_warning": warning}


def retire(env: Environment, what: str, forget: Callable[[], object]) -> None:
    """After a login stored its credentials: remove those the profile named before. The new
    ones work and are saved, so a keyring that refuses only earns a warning."""
    try:
        forget()
    except VoucherctlError as exc:
        env.warn(f"could not remove {what} from the OS keyring: {exc.message}")
