"""The sandbox's HTTP server: both APIs on one port, run in the foreground or embedded.

Paths whose first segment is `api` or `oauth` are SPiD's; every other path but `/__sandbox__` is
Spaaza's. Each connection gets a daemon thread and HTTP/1.1 keep-alive; each answer leaves in one
write on a TCP_NODELAY socket, because a header write followed by a body write stalls on Nagle's
algorithm against the client's delayed ACK.
"""

from __future__ import annotations

import contextlib
import os
import socket
import socketserver
import sys
import threading
import time
import traceback
from collections.abc import Callable
from pathlib import Path

from voucherctl.sandbox.faults import (
    RATE_LIMIT_WINDOW,
    UNLIMITED_QUOTA,
    FailureDice,
    Quota,
    Window,
    tighter,
)
from voucherctl.sandbox.options import EMBEDDED_OPTIONS, SandboxOptions
from voucherctl.sandbox.spaaza_errors import error_reply
from voucherctl.sandbox.spaaza_routes import SpaazaApi
from voucherctl.sandbox.spid_container import failure
from voucherctl.sandbox.spid_routes import SpidApi
from voucherctl.sandbox.store import Store
from voucherctl.sandbox.wire import BadRequest, Reply, Request, encode_reply, read_request

SPID_SEGMENTS = ("api", "oauth")
RATE_LIMITED = "Request Ratelimit exceeded"
FAULT_TEXTS = {
    500: "Internal server error (sandbox fail_rate)",
    503: "Service unavailable (sandbox fail_rate)",
}

# Request lines are written to a terminal; escape characters that could drive it.
_ESCAPE_CONTROLS = {code: f"\\x{code:02x}" for code in (*range(32), *range(127, 160))}


def _is_spid(path: str) -> bool:
    return path.split("/", 2)[1] in SPID_SEGMENTS if path.startswith("/") else False


def _is_spid_api(path: str) -> bool:
    """A SPiD API request, which SPiD's quota counts: everything under /api/, not /oauth/."""
    return path.startswith("/api/")


def probe(store: Store) -> dict[str, object]:
    """What `GET /__sandbox__` answers: which sandbox this is and which state file it serves.

    `state` is the file's resolved absolute path; `state_device` and `state_inode` identify the
    file itself, so a client can tell whether it is the file of its own data directory even
    through symlinks or bind mounts (compare them with os.stat of that path). Nothing secret.
    """
    stat = os.stat(store.path)
    return {
        "sandbox": "voucherctl",
        "apis": ["spid", "spaaza"],
        "state": str(store.path.resolve()),
        "state_device": stat.st_dev,
        "state_inode": stat.st_ino,
    }


class App:
    """Decides every answer: the probe, rate limit, quota and faults, then the API itself.

    The SPiD quota counts API requests only (paths under /api/, whatever their answer); POST
    /oauth/token neither counts nor is refused by it, as its answer is no container that could
    report it. The rate limit counts every request but the probe. A SPiD container's `request`
    reports the tighter of the two (fewer requests left), so that a client pacing itself by it
    never meets a 420; without either it counts down from UNLIMITED_QUOTA.
    """

    def __init__(self, store: Store, options: SandboxOptions) -> None:
        self.store = store
        self.options = options
        self.closing = False
        self._spid = SpidApi(store, options)
        self._spaaza = SpaazaApi(store, options)
        self._limiter = (
            Window(options.rate_limit, RATE_LIMIT_WINDOW) if options.rate_limit else None
        )
        self._quota = Window(options.quota, options.quota_window, UNLIMITED_QUOTA)
        self._dice = FailureDice(options.fail_rate, options.seed)
        self._probe = probe(store)

    def answer(self, req: Request) -> Reply:
        """The reply to one request."""
        if req.path == "/__sandbox__":
            return Reply(200, self._probe)
        spid = _is_spid(req.path)
        if self.options.latency_ms:
            time.sleep(self.options.latency_ms / 1000)
        limited = self._limiter.take() if self._limiter else None
        if limited is not None and not limited.allowed:
            if spid:
                return self._spid.reply(failure(420, RATE_LIMITED), limited)
            return error_reply(
                "rate_limited",
                f"Over {limited.limit} requests a minute; quota resets in {limited.reset} s",
                headers=(("Retry-After", str(limited.reset)),),
            )
        quota = None
        if spid:
            quota = self._quota.take() if _is_spid_api(req.path) else self._quota.peek()
            if _is_spid_api(req.path) and not quota.allowed:
                return self._spid.reply(failure(420, RATE_LIMITED), quota)
            quota = tighter(quota, limited)
        # Injected failures come before any handler runs, so they never change state.
        status = self._dice.roll()
        if status is not None:
            return self.error(req.path, status, FAULT_TEXTS[status], quota)
        return self._spid.handle(req, quota) if quota is not None else self._spaaza.handle(req)

    def error(self, path: str, status: int, text: str, quota: Quota | None = None) -> Reply:
        """An error in the shape of the API the path belongs to."""
        if _is_spid(path):
            return self._spid.reply(failure(status, text), quota or self._request_field())
        name = {500: "internal_error", 503: "service_unavailable"}.get(status, "bad_request")
        return error_reply(name, text, status)

    def _request_field(self) -> Quota:
        limited = self._limiter.peek() if self._limiter else None
        return tighter(self._quota.peek(), limited)


class _Handler(socketserver.StreamRequestHandler):
    server: SandboxServer
    # No idle timeout: a socket with a timeout makes Python poll() before every recv and send,
    # which costs a fifth of a handout. Idle connections end when their client closes them or
    # when the server stops (close_connections).
    timeout = None

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.track(self.connection, add=True)

    def finish(self) -> None:
        self.server.track(self.connection, add=False)
        with contextlib.suppress(OSError):  # the client is gone; nothing left to flush to
            super().finish()

    def handle(self) -> None:
        app = self.server.app
        while True:
            try:
                req = read_request(self.rfile, self.wfile)
            except BadRequest as exc:
                self._send(app.error(exc.path, exc.status, exc.message), keep_alive=False)
                return
            except (OSError, ValueError):
                return  # reset by the client, or shut down by close_connections()
            if req is None:
                return
            started = time.perf_counter()
            try:
                reply = app.answer(req)
            except Exception:
                if app.closing:
                    return  # the state file closed under a request that raced stop()
                traceback.print_exc(file=sys.stderr)
                reply = app.error(req.path, 500, "Internal sandbox error")
            if not self._send(reply, req.keep_alive):
                return
            if app.options.log:
                elapsed = (time.perf_counter() - started) * 1000
                line = f"{req.method} {req.target}".translate(_ESCAPE_CONTROLS)
                sys.stderr.write(
                    f'{self.client_address[0]} "{line}" {reply.status} {elapsed:.1f}ms\n'
                )

    def _send(self, reply: Reply, keep_alive: bool) -> bool:
        try:
            self.wfile.write(encode_reply(reply, keep_alive))
        except OSError:
            return False
        return keep_alive


class SandboxServer(socketserver.ThreadingTCPServer):
    """A thread-per-connection HTTP server that can drop its open connections when it stops.

    http.server's ThreadingHTTPServer adds only address reuse, daemon threads and an FQDN lookup
    to this; importing it costs the CLI some 40 ms (http.client, ssl, email), so it is left out.
    """

    allow_reuse_address = True
    daemon_threads = True
    block_on_close = False
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], app: App) -> None:
        self.app = app
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        """Bind, and remember the host and port actually bound."""
        super().server_bind()
        self.server_name, self.server_port = str(self.server_address[0]), self.server_address[1]

    @property
    def url(self) -> str:
        """The base URL both APIs answer under."""
        host = f"[{self.server_name}]" if ":" in self.server_name else self.server_name
        return f"http://{host}:{self.server_port}"

    def track(self, connection: socket.socket, add: bool) -> None:
        """Remember or forget an open connection."""
        with self._connections_lock:
            if add:
                self._connections.add(connection)
            else:
                self._connections.discard(connection)

    def close_connections(self) -> None:
        """Wake every connection thread with an EOF, so none keeps answering after a stop."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):  # already closed by its client
                connection.shutdown(socket.SHUT_RDWR)


def _open(host: str, port: int, state_path: Path, options: SandboxOptions) -> SandboxServer:
    store = Store(state_path)
    try:
        store.ensure()
        return SandboxServer((host, port), App(store, options))
    except BaseException:
        store.close()
        raise


def _close(server: SandboxServer) -> None:
    server.app.closing = True
    server.close_connections()
    server.server_close()
    server.app.store.close()


def serve_forever(
    host: str,
    port: int,
    state_path: Path,
    options: SandboxOptions = SandboxOptions(),
    ready: Callable[[str], None] | None = None,
) -> None:
    """Serve in the foreground until KeyboardInterrupt, which is re-raised after cleanup.

    `ready` is called with the base URL once the socket listens.
    """
    server = _open(host, port, state_path, options)
    try:
        if ready is not None:
            ready(server.url)
        server.serve_forever(poll_interval=0.25)
    finally:
        _close(server)


class RunningSandbox:
    """A sandbox served by a daemon thread of this process."""

    def __init__(self, server: SandboxServer) -> None:
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.1},
            name="voucherctl-sandbox",
            daemon=True,
        )
        self._stopped = False
        self._thread.start()

    @property
    def url(self) -> str:
        """The base URL, e.g. "http://127.0.0.1:54321"."""
        return self._server.url

    @property
    def port(self) -> int:
        """The port actually bound (useful after port=0)."""
        return self._server.server_port

    @property
    def state_path(self) -> Path:
        """The state file this sandbox serves."""
        return self._server.app.store.path

    def stop(self) -> None:
        """Stop serving, drop open connections and close the state file; idempotent."""
        if self._stopped:
            return
        self._stopped = True
        stopper = threading.Thread(target=self._server.shutdown, daemon=True)
        stopper.start()
        # serve_forever sees the shutdown request only when its select() wakes; a connection
        # wakes it now instead of after the poll interval.
        address = (self._server.server_name, self._server.server_port)
        with contextlib.suppress(OSError), socket.create_connection(address, timeout=1):
            pass
        stopper.join()
        self._thread.join()
        _close(self._server)

    def __enter__(self) -> RunningSandbox:
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()


def start_background(
    state_path: Path,
    options: SandboxOptions = EMBEDDED_OPTIONS,
    host: str = "127.0.0.1",
    port: int = 0,
) -> RunningSandbox:
    """Serve from a daemon thread; returns once the socket listens. port=0 picks a free one.

    Without options it serves EMBEDDED_OPTIONS, the regime the CLI's in-process sandbox wants
    (tokens good for a week, no quota); `serve_forever` defaults to SandboxOptions(), which
    models SPiD's 900 s tokens.
    """
    return RunningSandbox(_open(host, port, state_path, options))
