"""The credential sets API clients authenticate with, and the caches their tokens live in.

These are plain values. Where they come from (variables, the keyring) is the business of
``credentials``, so API clients depend on this module and never on the keyring layer.
"""

import time
from dataclasses import dataclass
from typing import Protocol

SPAAZA_ENV_HINT = (
    "VOUCHERCTL_SPAAZA_TOKEN, or VOUCHERCTL_SPAAZA_USER_ID and VOUCHERCTL_SPAAZA_SESSION_KEY"
)
SPAAZA_RENEW_HINT = f"run 'voucherctl auth login spaaza' or set {SPAAZA_ENV_HINT}"
MAX_RENEWAL_MARGIN = 60.0  # renew a token this long before it expires, at the most


@dataclass
class CachedToken:
    """A server token and when it expires (epoch seconds)."""

    access_token: str
    expires_at: float
    lifetime: float = 3600.0  # as issued; sets how early the token is renewed

    @property
    def fresh(self) -> bool:
        """Usable for a request now: renewed a tenth of its life early, a minute at most, so a
        token that lives seconds is not fetched anew for every request."""
        margin = min(MAX_RENEWAL_MARGIN, self.lifetime / 10)
        return time.time() < self.expires_at - margin


class TokenCache(Protocol):
    """Where a client keeps the token it fetched: memory, or the keyring."""

    def load(self) -> CachedToken | None: ...
    def store(self, token: CachedToken) -> None: ...
    def clear(self) -> None: ...


class MemoryTokenCache:
    """For credentials from the environment: cached for the life of the process only."""

    def __init__(self) -> None:
        self._token: CachedToken | None = None

    def load(self) -> CachedToken | None:
        return self._token

    def store(self, token: CachedToken) -> None:
        self._token = token

    def clear(self) -> None:
        self._token = None


@dataclass
class SpidCredentials:
    """A usable set of SPiD credentials and where it came from (never printed whole)."""

    source: str
    access_token: str | None = None  # used as is when given
    client_id: str | None = None
    client_secret: str | None = None
    cache: TokenCache | None = None
    sign_secret: str | None = None  # verifies signed answers when known
    sign_secret_source: str | None = None  # where it came from, for auth status and doctor


@dataclass
class SpaazaCredentials:
    """A Spaaza session (admin or user) or a privileged token, and where it came from."""

    source: str
    token: str | None = None
    user_id: str | None = None
    session_key: str | None = None
    expires: str | None = None  # "YYYY-MM-DD HH:MM:SS" UTC, when the API said

    def headers(self) -> dict[str, str]:
        """The authentication headers of every Spaaza request."""
        if self.token:
            return {"Authorization": f"Bearer {self.token}"}
        assert self.user_id and self.session_key
        return {"X-Spaaza-Session-User-Id": self.user_id, "X-Spaaza-Session-Key": self.session_key}
