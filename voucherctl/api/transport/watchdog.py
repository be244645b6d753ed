"""Bounding whole HTTP exchanges in time: a watchdog that shuts connections down at a deadline.

Socket timeouts bound each single wait, not the exchange: a server that sends its TLS
handshake, status line, headers or body a byte every fraction of a second never trips them.
Shutting the connection down wakes whatever read or write is blocked on it, in any phase.

One watchdog thread serves the whole process (a bulk run has thousands of exchanges in
flight over time; a timer thread each would cost more than the requests): exchanges register
their deadline in a heap, and the thread wakes when the earliest one is due.
"""

import contextlib
import heapq
import itertools
import socket
import threading
import time
from typing import Any

import urllib3
import urllib3.connection
from requests.adapters import HTTPAdapter

SLACK_SECONDS = 0.05  # expired exchanges are cut in batches, at most this late


class Watch:
    """The deadline of one exchange, and the connections it uses."""

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
        self.expired = False
        self._finished = False
        self._handles: list[socket.socket] = []
        self._lock = threading.Lock()

    def __enter__(self) -> "Watch":
        _current.watch = self
        return self

    def __exit__(self, *exc_info: object) -> None:
        _current.watch = None
        with self._lock:
            self._finished = True
            handles, self._handles = self._handles, []
        for handle in handles:
            handle.close()

    def add(self, sock: socket.socket) -> None:
        # A handle of our own on the same connection: the TLS layer replaces the socket object
        # it was opened with, and the reading thread's object is best left alone.
        try:
            handle = socket.fromfd(sock.fileno(), sock.family, sock.type)
        except OSError:
            return
        with self._lock:
            if self._finished:
                handle.close()
                return
            self._handles.append(handle)
            if self.expired:
                _shut_down(handle)

    def expire(self) -> None:
        with self._lock:
            if self._finished:
                return
            self.expired = True
            for handle in self._handles:
                _shut_down(handle)


class Watchdog:
    """The process's one watchdog thread, started on first use."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, Watch]] = []
        self._order = itertools.count()
        self._wakeup = threading.Condition()
        self._thread: threading.Thread | None = None

    def watch(self, seconds: float) -> Watch:
        """A watch that expires ``seconds`` from now; use it as a context manager."""
        watch = Watch(time.monotonic() + seconds)
        with self._wakeup:
            heapq.heappush(self._heap, (watch.deadline, next(self._order), watch))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="watchdog", daemon=True)
                self._thread.start()
            elif self._heap[0][2] is watch:
                self._wakeup.notify()  # due before everything the thread is waiting for
        return watch

    def _run(self) -> None:
        with self._wakeup:
            while True:
                if not self._heap:
                    self._wakeup.wait()
                    continue
                now = time.monotonic()
                wait = self._heap[0][0] - now
                if wait > 0:
                    self._wakeup.wait(wait + SLACK_SECONDS)
                    continue
                while self._heap and self._heap[0][0] <= now:
                    heapq.heappop(self._heap)[2].expire()  # a no-op for finished exchanges


WATCHDOG = Watchdog()
_current = threading.local()  # the watch of the exchange this thread is in, if any


def _shut_down(handle: socket.socket) -> None:
    with contextlib.suppress(OSError):
        handle.shutdown(socket.SHUT_RDWR)


def _watch(sock: socket.socket | None) -> None:
    watch: Watch | None = getattr(_current, "watch", None)
    if watch is not None and sock is not None:
        watch.add(sock)


class _WatchedConnection(urllib3.connection.HTTPConnection):
    """A connection that hands each socket it uses to the exchange's watch."""

    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()
        _watch(sock)  # a new connection: watched from before its TLS handshake on
        return sock

    def request(self, *args: Any, **kwargs: Any) -> None:
        _watch(self.sock)  # a kept-alive connection (a new one was watched when opened)
        super().request(*args, **kwargs)


class _WatchedHTTPSConnection(_WatchedConnection, urllib3.connection.HTTPSConnection):
    pass


class _WatchedHTTPPool(urllib3.HTTPConnectionPool):
    ConnectionCls = _WatchedConnection


class _WatchedHTTPSPool(urllib3.HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


class WatchedAdapter(HTTPAdapter):
    """requests' adapter, with connections whose sockets the watchdog can shut down."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": _WatchedHTTPPool,
            "https": _WatchedHTTPSPool,
        }
