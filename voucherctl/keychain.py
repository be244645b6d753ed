"""The OS keyring, bounded in time and with failures turned into clear messages.

keyring is slow to import (about 100 ms) and can hang on a locked desktop keyring, so it is
imported only here, only when a command really needs a stored secret, and every call runs with
a time limit.
"""

import threading
from collections.abc import Callable
from typing import TypeVar

from voucherctl import redact
from voucherctl.errors import AuthError

SERVICE = "voucherctl"
TIMEOUT_SECONDS = 5.0

T = TypeVar("T")


class Keychain:
    """Secrets of voucherctl in the OS keyring, keyed ``PROFILE/API/WHAT``.

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

    def backend_name(self) -> str:
        """The keyring backend in use, for ``auth status`` and ``doctor``."""
        import keyring

        backend = self._call("open", keyring.get_keyring)
        return f"{type(backend).__module__}.{type(backend).__name__}"

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
