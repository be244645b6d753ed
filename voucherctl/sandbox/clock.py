"""The sandbox's clocks, in one place, so that a test can move time instead of waiting for it.

Callers look the functions up on this module at every call (`clock.wall()`), so a test that
replaces them (pytest's monkeypatch) moves every quota window and token lifetime at once.
"""

from __future__ import annotations

import time


def wall() -> float:
    """Seconds since the epoch: for what the state file keeps, such as token expiry times."""
    return time.time()


def monotonic() -> float:
    """A clock that never jumps: for the quota and rate-limit windows of one process."""
    return time.monotonic()
