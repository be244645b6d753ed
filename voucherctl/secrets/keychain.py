"""The OS keyring, bounded in time and with failures turned into clear messages.

keyring is slow to import (about 100 ms) and can hang on a locked desktop keyring, so it is
imported only here, only when a command really needs a stored secret, and every call runs with
a time limit.
"""

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from voucherctl.core import redact
from voucherctl.core.errors import AuthError

SERVICE = "voucherctl"
TIMEOUT_SECONDS = 5.0

T = TypeVar("T")

PLAIN_FILE = "keeps secrets unencrypted in a file"
WEAK_FILE = (
    "keeps secrets in a file encrypted under a password stretched by only 1000 PBKDF2 rounds, "
    "with no integrity check, which a copy of the file lets anyone attack offline"
)
# Backends by class (module.Class) that cannot keep a secret safe. keyrings.alt's
# EncryptedKeyring does encrypt, but with PyCryptodome's default PBKDF2 (1000 rounds of
# HMAC-SHA1) and unauthenticated AES-CFB: no real protection for a guessable password.
INSECURE = {
    "keyrings.alt.file.PlaintextKeyring": PLAIN_FILE,
    "keyrings.alt.file.EncryptedKeyring": WEAK_FILE,
    "keyrings.alt.pyfs.PlaintextKeyring": PLAIN_FILE,
    "keyrings.alt.pyfs.EncryptedKeyring": WEAK_FILE,
    "keyring.backends.file.PlaintextKeyring": PLAIN_FILE,
    "keyring.backends.file.EncryptedKeyring": WEAK_FILE,
}
KEEPS_NOTHING = "keyring.backends.null.Keyring"  # accepts a secret and forgets it
NO_KEYRING = "keyring.backends.fail.Keyring"  # keyring's stand-in when no backend is usable
REAL_KEYRINGS = (
    "Secret Service (GNOME Keyring), KWallet, macOS Keychain or Windows Credential Locker"
)


@dataclass(frozen=True)
class Backend:
    """The keyring backend in use, and why it cannot keep a secret safe (None: it can)."""

    name: str
    insecure: str | None = None
    keeps_nothing: bool = False
    missing: bool = False

    def describe(self) -> str:
        """For ``auth status`` and ``doctor``: the name, and the warning when there is one."""
        if self.keeps_nothing:
            return f"{self.name} (stores nothing)"
        if self.insecure:
            return f"{self.name} (insecure: it {self.insecure})"
        return self.name


def judge(backend: Any) -> Backend:
    """Whether ``backend`` keeps secrets safe, by its class. A chain or wrapper is judged by
    the backend it writes to: keyring's chainer stores in the first of its backends."""
    name = f"{type(backend).__module__}.{type(backend).__name__}"
    members = _members(backend)
    if members is not None:
        if not members:
            return Backend(name, keeps_nothing=True)  # a chain of no backends
        first = judge(members[0])
        label = f"{name} (storing in {first.name})"
        if first.insecure:
            return Backend(label, f"stores in {first.name}, which {first.insecure}")
        return Backend(label, keeps_nothing=first.keeps_nothing, missing=first.missing)
    if name == KEEPS_NOTHING:
        return Backend(name, keeps_nothing=True)
    if name == NO_KEYRING:
        return Backend(name, missing=True)
    reason = INSECURE.get(name)
    if reason is None and "plaintext" in type(backend).__name__.lower():
        reason = PLAIN_FILE  # a third party's plain-file backend, by its own name
    return Backend(name, reason)


def _members(backend: Any) -> list[Any] | None:
    """The backends a chaining or wrapping backend writes to, in order; None for a plain one."""
    name = type(backend).__name__
    if name == "ChainerBackend":
        return list(getattr(backend, "backends", []))
    if name == "MultipartKeyringWrapper":
        return [backend._keyring]
    return None


class Keychain:
    """Secrets of voucherctl in the OS keyring, under the names ``keyring_entries`` gives.

    ``alternative`` names the environment variables that can stand in for the keyring; every
    error message ends with it, because the usual cause is a headless machine with no keyring.
    """

    def __init__(self, alternative: str, timeout: float | None = None) -> None:
        self.alternative = alternative
        self.timeout = TIMEOUT_SECONDS if timeout is None else timeout

    def get(self, key: str) -> str | None:
        import keyring

        value = self._call("read", lambda: keyring.get_password(SERVICE, key))
        redact.register(value)
        return value

    def set(self, key: str, value: str) -> None:
        import keyring

        redact.register(value)
        self._call("write to", lambda: keyring.set_password(SERVICE, key, value))

    def delete(self, key: str) -> bool:
        """Remove ``key``; False when there was nothing to remove."""
        import keyring
        from keyring.errors import PasswordDeleteError

        def delete() -> bool:
            try:
                keyring.delete_password(SERVICE, key)
            except PasswordDeleteError:
                return False
            return True

        return self._call("delete from", delete)

    def backend(self) -> Backend:
        """The keyring backend in use and whether it keeps secrets safe."""
        import keyring

        return judge(self._call("open", keyring.get_keyring))

    def require_safe_storage(self, *, insecure_storage: bool, option: str) -> Backend:
        """The backend, when ``auth login`` may store secrets in it; checked before anything is
        asked or sent. One that keeps secrets in a plain file needs ``insecure_storage``
        (``option`` names the flag that gives it); one that keeps nothing is always refused."""
        from voucherctl.core.errors import UsageError

        backend = self.backend()
        if backend.missing:
            raise AuthError(f"no OS keyring is available on this machine; use {self.alternative}")
        if backend.keeps_nothing:
            raise UsageError(
                f"the keyring backend {backend.name} stores nothing, so nothing was stored; "
                f"install a real keyring ({REAL_KEYRINGS}), or use {self.alternative}"
            )
        if backend.insecure and not insecure_storage:
            raise UsageError(
                f"nothing stored: the keyring backend {backend.name} {backend.insecure}. "
                f"Install a real keyring ({REAL_KEYRINGS}), or use {self.alternative} instead, "
                f"or give {option} to store the secrets there anyway"
            )
        return backend

    def _call(self, verb: str, action: Callable[[], T]) -> T:
        from keyring.errors import KeyringError, NoKeyringError

        outcome: list[T] = []
        failure: list[BaseException] = []

        def run() -> None:
            try:
                outcome.append(action())
            except BaseException as exc:  # handed to the caller's thread below
                failure.append(exc)

        worker = threading.Thread(target=run, name="keyring", daemon=True)
        worker.start()
        worker.join(self.timeout)
        if worker.is_alive():
            raise AuthError(
                f"the OS keyring did not answer within {self.timeout:g} s (is it locked?); "
                f"unlock it, or use {self.alternative}"
            )
        if failure:
            exc = failure[0]
            if isinstance(exc, NoKeyringError):
                raise AuthError(
                    f"no OS keyring is available on this machine; use {self.alternative}"
                ) from None
            if isinstance(exc, KeyringError | OSError):
                detail = redact.scrub(str(exc)) or type(exc).__name__
                raise AuthError(
                    f"cannot {verb} the OS keyring ({detail}); use {self.alternative}"
                ) from None
            raise exc
        return outcome[0]
