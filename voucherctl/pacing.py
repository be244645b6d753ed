"""Pacing the requests of a run: every worker of a bulk run waits its turn here.

The server's rate limits and quotas speak of the whole client, not of one thread, so one
:class:`Pacer` is shared by all workers of a run.
"""

import threading
import time


def pause(seconds: float) -> None:
    """Wait before a retry (a seam for tests, which record waits instead of sleeping)."""
    time.sleep(seconds)


class Pacer:
    """Paces the requests of all workers of a bulk run together.

    A rate limit is the server's word about the whole client, not one thread: when any request
    is refused, every worker waits until the quota resets. ``max_rate`` (requests per second)
    keeps a run under a known quota in the first place.
    """

    def __init__(self, max_rate: float | None = None) -> None:
        self._interval = 1.0 / max_rate if max_rate else 0.0
        self._lock = threading.Lock()
        self._next_send = 0.0  # monotonic time before which nobody sends

    def wait_turn(self) -> None:
        """Block until this caller may send."""
        with self._lock:
            now = time.monotonic()
            start = max(now, self._next_send)
            self._next_send = start + self._interval
        if start > now:
            pause(start - now)

    def hold_all(self, seconds: float) -> None:
        """Nobody sends for ``seconds`` from now."""
        with self._lock:
            self._next_send = max(self._next_send, time.monotonic() + seconds)
