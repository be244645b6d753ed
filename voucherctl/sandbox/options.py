"""How a sandbox server models the real APIs' regime, and how it misbehaves on purpose."""

from __future__ import annotations

from dataclasses import dataclass

SERVE_TOKEN_TTL = 900
"""SPiD's server tokens (JWTs) live 900 s: the default of `voucherctl sandbox serve`."""
EMBEDDED_TOKEN_TTL = 604_800
"""Older SPiD tokens lived a week: what the sandbox a CLI starts inside itself hands out."""
DEFAULT_QUOTA_WINDOW = 3600


@dataclass(frozen=True)
class SandboxOptions:
    """The regime of one sandbox server: quotas, lifetimes, signing and injected faults.

    quota: SPiD API requests (paths under /api/) allowed per quota_window, counted across all
        clients of this server process; beyond it SPiD answers 420. None: no quota (the
        containers' `request` then counts down from a large limit and nothing is refused).
        POST /oauth/token is not an API request: it never counts and is never refused for it.
    quota_window: length in seconds of the quota's window; a window opens at the first API
        request after the previous window ended.
    token_ttl: lifetime in seconds of SPiD access tokens and of Spaaza sessions from a login.
    sign_secret: the client's sign secret; when set, every SPiD API container is signed as
        SPiD signs it (`algorithm`, `sig`, and `data` as base64url JSON). None: unsigned.
    rate_limit: requests per minute across all clients and both APIs (None: no limit); SPiD
        answers 420 beyond it, Spaaza 429. A fault to inject, unlike the quota.
    fail_rate: fraction of API requests answered 500 or 503 before any state changes.
    latency_ms: delay before every API answer (not before `/__sandbox__`).
    seed: random seed for fail_rate, so a test can replay the same failures.
    log: one line per request on stderr.
    """

    # Fields added later go last, so that positional construction keeps its meaning.
    rate_limit: int | None = None
    fail_rate: float = 0.0
    latency_ms: int = 0
    token_ttl: int = SERVE_TOKEN_TTL
    seed: int | None = None
    log: bool = False
    quota: int | None = None
    quota_window: int = DEFAULT_QUOTA_WINDOW
    sign_secret: str | None = None

    def __post_init__(self) -> None:
        if self.quota is not None and self.quota < 1:
            raise ValueError("quota must be at least 1 request per window")
        if self.quota_window < 1:
            raise ValueError("quota_window must be at least 1 second")
        if self.token_ttl < 1:
            raise ValueError("token_ttl must be at least 1 second")
        if self.sign_secret is not None and not self.sign_secret:
            raise ValueError("sign_secret must not be empty; leave it out to answer unsigned")
        if self.rate_limit is not None and self.rate_limit < 1:
            raise ValueError("rate_limit must be at least 1 request per minute")
        if not 0.0 <= self.fail_rate <= 1.0:
            raise ValueError("fail_rate must be between 0 and 1")
        if self.latency_ms < 0:
            raise ValueError("latency_ms must not be negative")


EMBEDDED_OPTIONS = SandboxOptions(token_ttl=EMBEDDED_TOKEN_TTL)
"""What `start_background` serves unless told otherwise: no quota, tokens good for a week.

The CLI starts this sandbox inside one command and throws it away when the command ends, so a
short token life would only add renewals; `sandbox serve` models SPiD's 900 s instead.
"""
