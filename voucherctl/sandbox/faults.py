"""Quotas, rate limits and injected failures, decided before a request touches any state."""

from __future__ import annotations

import math
import random
import threading
from dataclasses import dataclass

import voucherctl.sandbox.clock as clock

RATE_LIMIT_WINDOW = 60
UNLIMITED_QUOTA = 360_000
"""The `limit` reported when no quota is set: the figure of SPiD's own signed-response sample."""


@dataclass(frozen=True)
class Quota:
    """One window's standing, as SPiD reports it in a container's `request` field."""

    allowed: bool
    reset: int
    limit: int
    remaining: int

    def as_request_field(self) -> dict[str, int]:
        """The container's `request` object."""
        return {"reset": self.reset, "limit": self.limit, "remaining": self.remaining}


def tighter(first: Quota, second: Quota | None) -> Quota:
    """The quota a client pacing itself must heed: fewer requests left, else the later reset."""
    if second is None:
        return first
    return min(first, second, key=lambda quota: (quota.remaining, -quota.reset))


class Window:
    """A fixed window of `seconds` and `limit` requests, shared by every client of a process.

    A window opens at the first request after the last one closed, and `reset` counts whole
    seconds (at least 1) until it closes. Without a limit nothing is refused, and `limit` and
    `remaining` count down from `shown_limit` so that a client pacing itself sees sane numbers.
    """

    def __init__(self, limit: int | None, seconds: int, shown_limit: int = 0) -> None:
        self._limit = limit
        self._shown_limit = limit if limit is not None else shown_limit
        self._seconds = seconds
        self._lock = threading.Lock()
        self._window_end = -math.inf
        self._count = 0

    @property
    def limited(self) -> bool:
        """Whether this window refuses anything at all."""
        return self._limit is not None

    def take(self) -> Quota:
        """Count one request and say whether it may proceed."""
        return self._quota(1)

    def peek(self) -> Quota:
        """The window as it stands, for an answer that does not count against it."""
        return self._quota(0)

    def _quota(self, cost: int) -> Quota:
        now = clock.monotonic()
        with self._lock:
            if now >= self._window_end:
                self._window_end = now + self._seconds
                self._count = 0
            self._count += cost
            count = self._count
            reset = max(1, math.ceil(self._window_end - now))
        return Quota(
            allowed=self._limit is None or count <= self._limit,
            reset=reset,
            limit=self._shown_limit,
            remaining=max(0, self._shown_limit - count),
        )


class FailureDice:
    """Picks which requests fail with a 5xx, reproducibly when seeded."""

    def __init__(self, fail_rate: float, seed: int | None) -> None:
        self._rate = fail_rate
        self._random = random.Random(seed)
        self._lock = threading.Lock()

    def roll(self) -> int | None:
        """The status to fail this request with (500 or 503), or None to serve it."""
        if self._rate <= 0.0:
            return None
        with self._lock:
            draw = self._random.random()
        if draw >= self._rate:
            return None
        # One draw decides both whether and how to fail, so a seed replays exactly.
        return 503 if draw < self._rate / 2 else 500
