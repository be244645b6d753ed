"""How a sandbox server misbehaves on purpose, and for how long its credentials last."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SandboxOptions:
    """Fault injection and lifetimes for one sandbox server.

    rate_limit: requests per minute across all clients of this server process (None: no limit).
    fail_rate: fraction of API requests answered 500 or 503 before any state changes.
    latency_ms: delay before every API answer (not before `/__sandbox__`).
    token_ttl: lifetime in seconds of SPiD access tokens and of Spaaza sessions from a login.
    seed: random seed for fail_rate, so a test can replay the same failures.
    log: one line per request on stderr.
    """

    rate_limit: int | None = None
    fail_rate: float = 0.0
    latency_ms: int = 0
    token_ttl: int = 604800
    seed: int | None = None
    log: bool = False

    def __post_init__(self) -> None:
        if self.rate_limit is not None and self.rate_limit < 1:
            raise ValueError("rate_limit must be at least 1 request per minute")
        if not 0.0 <= self.fail_rate <= 1.0:
            raise ValueError("fail_rate must be between 0 and 1")
        if self.latency_ms < 0:
            raise ValueError("latency_ms must not be negative")
        if self.token_ttl < 1:
            raise ValueError("token_ttl must be at least 1 second")
