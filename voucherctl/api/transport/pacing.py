"""Pacing the requests of a run: every worker of a bulk run waits its turn here.

The server's rate limits and quotas speak of the whole client, not of one thread, so one
:class:`Pacer` is shared by all workers of a run (and a single command has one of its own).

A quota (SPiD's: ``request.limit`` requests a period, ``request.remaining`` left, the period
ending in ``request.reset`` seconds; docs/contract.md#wire-facts-spid) is followed from the
answers: a request is started only while the quota the answers reported can take it, counting
the requests still in flight, which the server may count before their answers come back.
When nothing is left, the request waits for the period's end, or, when that is further away
than ``--max-wait``, it is not sent at all (:class:`QuotaExhausted`).
"""

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

ANSWER_WAIT = 1.0  # seconds between looks while the quota waits for an answer to tell it more


def pause(seconds: float) -> None:
    """Wait before a retry (a seam for tests, which record waits instead of sleeping)."""
    time.sleep(seconds)


@dataclass(frozen=True)
class QuotaReport:
    """What one answer said of the quota: the period's allowance, what is left, when it ends."""

    limit: int  # requests a period; 0 or less: not said
    remaining: int
    reset: float  # seconds from the answer to the period's end


class QuotaExhausted(Exception):
    """The quota has nothing left, and its period ends later than the caller may wait."""

    def __init__(self, seconds: float, limit: int | None) -> None:
        super().__init__(f"quota spent for {seconds} s")
        self.seconds = seconds
        self.limit = limit


@dataclass(frozen=True)
class Turn:
    """One request let through: whether the quota counts it, and when it was let go."""

    counted: bool
    started: float  # time.monotonic()


class _Quota:
    """The quota as the answers of this period reported it (callers hold the Pacer's lock).

    ``remaining`` is the lowest count an answer of the period gave: within a period the count
    only falls, so an answer overtaken on its way by a later one cannot raise it. Every request
    in flight may be counted after that answer, so ``remaining`` minus the requests in flight is
    what can be started without risking a refusal.
    """

    def __init__(self) -> None:
        self.limit: int | None = None
        self.remaining: int | None = None  # None: not known, nothing is held back
        self.ends: float | None = None  # monotonic; the period ends by then at the latest

    def holds_back(self, at: float, in_flight: int) -> float | Literal["answer"] | None:
        """Whether a request at ``at`` must wait: until the period ends (when), for an answer
        to say more ("answer"), or not at all (None)."""
        if self.ends is not None and at >= self.ends:
            # A new period: the allowance again, or nothing known until its first answer.
            self.remaining, self.ends = self.limit, None
        if self.remaining is None or self.remaining - in_flight > 0:
            return None
        if self.ends is None:  # the allowance is in flight; their answers will say when it ends
            return "answer" if in_flight else None
        return self.ends

    def update(self, report: QuotaReport, started: float, now: float) -> None:
        # `reset` is whole seconds rounded up (SPiD's 3537, the sandbox's): the period ends
        # within the second before `now + reset`, and after `started + reset - 1`.
        latest, earliest = now + report.reset, started + report.reset - 1
        if self.ends is None or now >= self.ends or earliest >= self.ends:  # a new period
            self.remaining, self.ends = report.remaining, latest
        else:
            known = self.remaining if self.remaining is not None else report.remaining
            self.remaining = min(report.remaining, known)
            self.ends = min(self.ends, latest)
        self.limit = report.limit if report.limit > 0 else None


class Pacer:
    """Paces the requests of all workers of a run together.

    A rate limit is the server's word about the whole client, not one thread: when any request
    is refused, every worker waits until the quota resets. ``max_rate`` (requests per second)
    keeps a run under a known quota in the first place; the quota the answers report
    (:meth:`finished`) keeps it under the server's.

    ``on_wait`` is told, from a worker's thread, when the workers start waiting for the quota
    to reset (the moment it resets, epoch seconds) and when they stop (None); ``waiting_until``
    says the same to whoever looks. A bulk run's progress display shows it.
    """

    def __init__(
        self,
        max_rate: float | None = None,
        on_wait: Callable[[float | None], None] | None = None,
    ) -> None:
        self._interval = 1.0 / max_rate if max_rate else 0.0
        self._lock = threading.Lock()
        self._answered = threading.Condition(self._lock)
        self._next_send = 0.0  # monotonic time before which nobody sends
        self._quota = _Quota()
        self._in_flight = 0  # requests the quota counts, sent and not yet answered
        self._announced: float | None = None  # monotonic end of the wait on_wait was told of
        self.on_wait = on_wait
        self.waiting_until: float | None = None  # epoch seconds, while workers wait for a reset

    def wait_turn(
        self, *, counted: bool = False, max_wait: float = math.inf, waited: float = 0.0
    ) -> Turn:
        """Block until this caller may send; every turn taken must be :meth:`finished`.

        ``counted``: the quota counts this request. ``waited``: the monotonic time the caller
        has already waited until. Raises :class:`QuotaExhausted` when the quota is spent for
        longer than ``max_wait`` seconds; nothing is then sent.
        """
        while True:
            with self._lock:
                now = max(time.monotonic(), waited)
                start = max(now, self._next_send)
                ends = self._quota.holds_back(start, self._in_flight) if counted else None
                if ends == "answer":
                    self._answered.wait(ANSWER_WAIT)
                    continue
                if ends is None:
                    self._next_send = start + self._interval
                    if counted:
                        self._in_flight += 1
                    over = self._announced is not None and start >= self._announced
                    if over:
                        self._announced = None
                    break
                limit = self._quota.limit
            if not ends - now <= max_wait:
                raise QuotaExhausted(ends - now, limit)
            self._announce(ends)
            pause(ends - now)
            waited = ends
        if start > now:
            pause(start - now)
        if over:
            self._tell(None)
        return Turn(counted, time.monotonic())

    def finished(self, turn: Turn, report: QuotaReport | None) -> None:
        """The answer to a turn came (or none will): what it said of the quota, if anything."""
        if not turn.counted:
            return
        with self._lock:
            self._in_flight -= 1
            if report is not None:
                self._quota.update(report, turn.started, time.monotonic())
            self._answered.notify_all()

    @property
    def waiting_text(self) -> str | None:
        """The wait in words ("waiting for the quota to reset at HH:MM:SS"), else None."""
        until = self.waiting_until
        return None if until is None else f"waiting for the quota to reset at {clock_time(until)}"

    def hold_all(self, seconds: float) -> float:
        """Nobody sends for ``seconds`` from now; the monotonic time the hold ends."""
        with self._lock:
            self._next_send = max(self._next_send, time.monotonic() + seconds)
            until = self._next_send
        self._announce(until)
        return until

    def _announce(self, until: float) -> None:
        with self._lock:
            if self._announced is not None and self._announced >= until:
                return  # told already
            self._announced = until
        self._tell(time.time() + (until - time.monotonic()))

    def _tell(self, until: float | None) -> None:
        self.waiting_until = until
        if self.on_wait is not None:
            self.on_wait(until)


def clock_time(epoch: float) -> str:
    """An epoch time as the local HH:MM:SS a user reads ("?" for one no clock shows)."""
    try:
        return time.strftime("%H:%M:%S", time.localtime(epoch))
    except (OverflowError, ValueError, OSError):  # NaN, infinity, or past the year 9999
        return "?"
