"""A misbehaving HTTP server on loopback, for proving the CLI survives hostile answers.

:class:`HostileServer` accepts connections on 127.0.0.1 (plain, or TLS with a certificate the
test made), reads each request itself, records it, and answers through a :data:`Fault`: a
function that writes whatever bytes it likes to the socket, at whatever pace. Every connection
gets one answer and is closed. Dripping faults stop as soon as the client hangs up or the server
is closed, so a test never waits on the server.
"""

import contextlib
import json
import socket
import ssl
import struct
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

LOOPBACK = "127.0.0.1"
REQUEST_READ_TIMEOUT = 5.0  # a client that never finishes its request does not hold a thread
MAX_REQUEST_BYTES = 1024 * 1024
DRIP_INTERVAL = 0.2  # seconds between two bytes of a dripping answer
DRIP_LIMIT = 10.0  # a dripping answer gives up after this long, whatever the client does


@dataclass
class Request:
    """One request as the server read it."""

    method: str
    target: str
    headers: dict[str, str]  # names lower-cased
    body: bytes
    received: float = field(default_factory=time.monotonic)  # when its head had arrived

    @property
    def path(self) -> str:
        return self.target.split("?", 1)[0]


class Hangup(Exception):
    """The client went away, or the server is closing: stop answering."""


@dataclass
class Exchange:
    """What a fault writes to: the socket, the request, and the server's stop signal."""

    conn: Any  # the socket, or a TLS channel over it
    request: Request
    stopping: threading.Event

    def send(self, data: bytes) -> None:
        if self.stopping.is_set():
            raise Hangup
        try:
            self.conn.sendall(data)
        except OSError:
            raise Hangup from None

    def drip(self, data: bytes | Iterator[int], interval: float = DRIP_INTERVAL) -> None:
        """Send ``data`` one byte at a time, ``interval`` seconds apart."""
        give_up = time.monotonic() + DRIP_LIMIT
        for byte in data:
            if time.monotonic() > give_up:
                raise Hangup
            self.send(bytes([byte]))
            if self.stopping.wait(interval):
                raise Hangup


Fault = Callable[[Exchange], None]


class HostileServer:
    """A threaded server on 127.0.0.1 answering each request with ``route(request)``'s fault.

    ``tls``, when given, makes it an https server: the handshake runs through memory buffers so
    that every byte the client sent on the wire is kept in :attr:`raw_received`, and
    :attr:`plaintext_received` holds what arrived inside a completed TLS session.
    ``drip_handshake`` sends the server's side of the handshake a byte every so many seconds.
    """

    def __init__(
        self,
        route: Callable[[Request], Fault],
        *,
        tls: ssl.SSLContext | None = None,
        drip_handshake: float | None = None,
    ):
        self._route = route
        self._tls = tls
        self._drip_handshake = drip_handshake
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._open: set[socket.socket] = set()
        self.requests: list[Request] = []
        self.connections = 0
        self.raw_received = b""
        self.plaintext_received = b""
        self.tls_handshakes = 0
        self._listener = socket.create_server((LOOPBACK, 0))
        self.port = self._listener.getsockname()[1]
        scheme = "https" if tls else "http"
        self.url = f"{scheme}://{LOOPBACK}:{self.port}"
        self._start(self._accept_loop)

    def requests_to(self, path: str) -> list[Request]:
        with self._lock:
            return [r for r in self.requests if r.path == path]

    def close(self) -> None:
        """Stop accepting, hang up on every client, and wait (briefly) for the threads."""
        self._stopping.set()
        # Closing a listening socket does not wake a thread blocked in accept(); a call does.
        with contextlib.suppress(OSError), socket.create_connection((LOOPBACK, self.port), 1):
            pass
        self._listener.close()
        with self._lock:
            for conn in self._open:
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)
        for thread in list(self._threads):
            thread.join(timeout=2)

    def _start(self, target: Callable[..., None], *args: Any) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        with self._lock:
            self._threads.append(thread)
        thread.start()

    def _accept_loop(self) -> None:
        while True:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            if self._stopping.is_set():  # the wake-up call from close()
                conn.close()
                return
            with self._lock:
                self.connections += 1
                self._open.add(conn)
            self._start(self._serve, conn)

    def _serve(self, conn: socket.socket) -> None:
        conn.settimeout(REQUEST_READ_TIMEOUT)
        try:
            channel = conn if self._tls is None else self._tls_channel(conn)
            if channel is None:
                return
            request = _read_request(channel)
            if request is None:
                return
            with self._lock:
                self.requests.append(request)
            fault = self._route(request)
            with contextlib.suppress(Hangup):
                fault(Exchange(channel, request, self._stopping))
        except (OSError, ssl.SSLError, ValueError):
            pass
        finally:
            with self._lock:
                self._open.discard(conn)
            conn.close()

    def _tls_channel(self, conn: socket.socket) -> "_TlsChannel | None":
        """Run the server side of a TLS handshake, keeping the raw bytes the client sent."""
        assert self._tls is not None
        incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        tls = self._tls.wrap_bio(incoming, outgoing, server_side=True)
        while True:
            try:
                tls.do_handshake()
                break
            except ssl.SSLWantReadError:
                self._send_handshake(conn, outgoing.read())
                data = conn.recv(65536)
                if not data:
                    return None
                self.note_raw(data)
                incoming.write(data)
            except ssl.SSLError:  # the client refused our certificate (as it must)
                with contextlib.suppress(OSError):
                    conn.sendall(outgoing.read())
                    self.note_raw(conn.recv(65536))
                return None
        conn.sendall(outgoing.read())
        with self._lock:
            self.tls_handshakes += 1
        return _TlsChannel(conn, tls, incoming, outgoing, self)

    def _send_handshake(self, conn: socket.socket, data: bytes) -> None:
        if self._drip_handshake is None:
            conn.sendall(data)
            return
        exchange = Exchange(conn, Request("", "", {}, b""), self._stopping)
        with contextlib.suppress(Hangup):
            exchange.drip(data, self._drip_handshake)

    def note_raw(self, data: bytes) -> None:
        with self._lock:
            self.raw_received += data

    def note_plaintext(self, data: bytes) -> None:
        with self._lock:
            self.plaintext_received += data


class _TlsChannel:
    """Just enough of a socket (recv, sendall) over a completed in-memory TLS session."""

    def __init__(
        self,
        conn: socket.socket,
        tls: ssl.SSLObject,
        incoming: ssl.MemoryBIO,
        outgoing: ssl.MemoryBIO,
        server: HostileServer,
    ) -> None:
        self._conn = conn
        self._tls = tls
        self._incoming = incoming
        self._outgoing = outgoing
        self._server = server

    def recv(self, size: int) -> bytes:
        while True:
            try:
                data = self._tls.read(size)
                self._server.note_plaintext(data)
                return data
            except ssl.SSLWantReadError:
                raw = self._conn.recv(65536)
                if not raw:
                    return b""
                self._server.note_raw(raw)
                self._incoming.write(raw)

    def sendall(self, data: bytes) -> None:
        self._tls.write(data)
        self._conn.sendall(self._outgoing.read())


def _read_request(conn: Any) -> Request | None:
    """Read one request (head and a Content-Length body); None when the client sent none."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        data += chunk
        if len(data) > MAX_REQUEST_BYTES:
            return None
    received = time.monotonic()
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    method, target, _ = lines[0].split(" ", 2)
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = min(int(headers.get("content-length", "0")), MAX_REQUEST_BYTES)
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            break
        body += chunk
    return Request(method, target, headers, body, received)


# -- faults ----------------------------------------------------------------------------------


def answer(
    status: int,
    body: bytes | str = b"",
    *,
    content_type: str | None = "application/json",
    headers: Mapping[str, str] | None = None,
    length: int | None = None,
) -> bytes:
    """A whole HTTP/1.1 answer; ``length`` overrides the Content-Length it announces."""
    data = body.encode() if isinstance(body, str) else body
    lines = [f"HTTP/1.1 {status} Whatever", "Connection: close"]
    if content_type:
        lines.append(f"Content-Type: {content_type}")
    lines.append(f"Content-Length: {len(data) if length is None else length}")
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + data


def reply(status: int, body: bytes | str | Any = b"", **options: Any) -> Fault:
    """A fault that is no fault: a well-formed answer (``body`` may be a JSON value)."""
    if not isinstance(body, bytes | str):
        body = json.dumps(body)
    data = answer(status, body, **options)
    return lambda exchange: exchange.send(data)


def hang_up(exchange: Exchange) -> None:
    """Read the request, then close the connection without a word."""


def reset(exchange: Exchange) -> None:
    """Read the request, then reset the connection (an RST, not a FIN)."""
    exchange.conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def cut_off(exchange: Exchange) -> None:
    """Announce a 1000-byte JSON answer, send the first few bytes, and close."""
    exchange.send(answer(200, b'{"name": "SPP Container", "da', length=1000))


def drip_body(interval: float = DRIP_INTERVAL) -> Fault:
    """Headers at once, then a body that never ends, one byte every ``interval`` seconds."""

    def fault(exchange: Exchange) -> None:
        exchange.send(answer(200, b"", length=1_000_000))
        exchange.drip(_forever(b'{"data": "'), interval)

    return fault


def drip_headers(interval: float = DRIP_INTERVAL) -> Fault:
    """The status line and headers one byte every ``interval`` seconds, never ending."""

    def fault(exchange: Exchange) -> None:
        head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Slow: "
        exchange.drip(_forever(head), interval)

    return fault


def flood(exchange: Exchange) -> None:
    """A body with no length that never ends, as fast as the client takes it."""
    exchange.send(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n")
    exchange.send(b'{"data": "')
    block = b"x" * 65536
    while True:
        exchange.send(block)


def _forever(prefix: bytes) -> Iterator[int]:
    yield from prefix
    while True:
        yield ord("a")


def certificate_files(directory: Any, common_name: str = LOOPBACK) -> tuple[str, str]:
    """A fresh self-signed certificate and key for ``common_name`` (PEM files in ``directory``)."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(common_name))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = f"{directory}/cert.pem", f"{directory}/key.pem"
    with open(cert_path, "wb") as out:
        out.write(certificate.public_bytes(serialization.Encoding.PEM))
    with open(key_path, "wb") as out:
        out.write(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
    return cert_path, key_path


def tls_context(directory: Any) -> ssl.SSLContext:
    """A server TLS context with a self-signed certificate for 127.0.0.1."""
    cert, key = certificate_files(directory)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return context
