"""Rate limiting and injected failures, decided before a request touches any state."""

from __future__ import annotations

import math
import random
import threading
import time
from dataclasses import dataclass

WINDOW_SECONDS = 60


@dataclass(frozen=True)
class Quota:
    """What SPiD reports in a container's `request` field.

    Without a rate limit, limit and remaining are 0, as SPiD reports clients it does not limit.
    """

    allowed: bool
    reset: int
    limit: int
    remaining: int

    def as_request_field(self) -> dict[str, int]:
        """The container's `request` object."""
        return {"reset": self.reset, "limit": self.limit, "remaining": self.remaining}


class RateLimiter:
    """A fixed one-minute window shared by every client of one server process."""

    def __init__(self, per_minute: int | None) -> None:
        self._limit = per_minute
        self._lock = threading.Lock()
        self._window_end = 0.0
        self._count = 0

    def take(self) -> Quota:
        """Count one request and say whether it may proceed."""
        return self._quota(1)

    def peek(self) -> Quota:
        """The quota as it stands, for an answer that should not count against it."""
        return self._quota(0)

    def _quota(self, cost: int) -> Quota:
        now = time.monotonic()
        with self._lock:
            if now >= self._window_end:
                self._window_end = now + WINDOW_SECONDS
                self._count = 0
            self._count += cost
            count = self._count
            reset = max(1, math.ceil(self._window_end - now))
        if self._limit is None:
            return Quota(allowed=True, reset=reset, limit=0, remaining=0)
        return Quota(
            allowed=count <= self._limit,
            reset=reset,
            limit=self._limit,
            remaining=max(0, self._limit - count),
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
