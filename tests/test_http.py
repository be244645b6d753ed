"""The HTTP layer against real sockets: slow, huge and broken answers."""

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from voucherctl.api.transport.http import HttpClient
from voucherctl.core.errors import (
    ExitCode,
    NotSentError,
    OutcomeUnknownError,
    ServerError,
    VoucherctlError,
)

Handler = Callable[[socket.socket], None]


@pytest.fixture
def raw_server() -> Iterator[Callable[[Handler], str]]:
    """A one-connection-at-a-time TCP server on loopback whose answers a test writes by hand."""
    listeners: list[socket.socket] = []

    def start(handle: Handler) -> str:
        listener = socket.create_server(("127.0.0.1", 0))
        listeners.append(listener)

        def serve() -> None:
            while True:
                try:
                    conn, _ = listener.accept()
                except OSError:
                    return
                with conn:
                    conn.recv(65536)
                    with contextlib.suppress(OSError):
                        handle(conn)

        threading.Thread(target=serve, daemon=True).start()
        return f"http://127.0.0.1:{listener.getsockname()[1]}"

    yield start
    for listener in listeners:
        listener.close()


def client(timeout: float = 1.0) -> HttpClient:
    return HttpClient(timeout=timeout, max_wait=60)


def test_a_dripping_answer_cannot_outlast_the_timeout(raw_server) -> None:
    def drip(conn: socket.socket) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n")
        for _ in range(100):
            conn.sendall(b"x")
            time.sleep(0.1)

    url = raw_server(drip)
    started = time.monotonic()

    with pytest.raises(OutcomeUnknownError) as failure:
        client(timeout=0.5).request("GET", url, what="read", change=False)

    assert time.monotonic() - started < 5  # three attempts of about 0.5 s each, not 30 s
    assert "no complete answer within the timeout" in failure.value.message


def test_a_huge_answer_is_refused(raw_server, monkeypatch) -> None:
    monkeypatch.setattr("voucherctl.api.transport.http.MAX_BODY_BYTES", 1000)

    def huge(conn: socket.socket) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n" + b"x" * 5000)

    with pytest.raises(ServerError, match="larger than"):
        client().request("GET", raw_server(huge), what="read", change=False)


def test_a_connection_closed_mid_answer_to_a_change_is_an_unknown_outcome(raw_server) -> None:
    def cut(conn: socket.socket) -> None:
        conn.sendall(b'HTTP/1.1 200 OK\r\nContent-Length: 500\r\n\r\n{"partial')

    with pytest.raises(OutcomeUnknownError, match="may or may not have been made"):
        client().request("POST", raw_server(cut), what="handout", change=True, data={"a": "1"})


def test_nothing_listening_is_exit_7_and_says_so() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again: nobody listens there

    with pytest.raises(VoucherctlError) as failure:
        client().request("POST", f"http://127.0.0.1:{port}/x", what="handout", change=True)

    assert failure.value.exit_code == ExitCode.OUTCOME_UNKNOWN
    assert failure.value.message == (
        f"handout: cannot reach 127.0.0.1:{port}: connection refused; nothing was sent"
    )
    assert isinstance(failure.value, NotSentError)  # certainly not made: a bulk row may go again


def test_every_request_names_voucherctl_and_its_version(raw_server) -> None:
    def record(conn: socket.socket) -> None:
        conn.sendall(b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n")

    url = raw_server(record)
    logged: list[str] = []
    HttpClient(timeout=1, max_wait=1, log=logged.append).request(
        "GET", url, what="read", change=False
    )

    from voucherctl import __version__

    assert f"> User-Agent: voucherctl/{__version__}" in logged[0]


def test_a_rate_limit_holds_every_worker(no_waiting) -> None:
    from voucherctl.api.transport.pacing import Pacer

    pacer = Pacer()
    pacer.hold_all(5.0)  # one worker was told to wait five seconds
    pacer.wait_turn()  # another one, about to send, waits too

    assert no_waiting and 4.9 < no_waiting[0] <= 5.0


def test_max_rate_spaces_requests_out(no_waiting) -> None:
    from voucherctl.api.transport.pacing import Pacer

    pacer = Pacer(max_rate=10)
    for _ in range(3):
        pacer.wait_turn()

    assert len(no_waiting) == 2  # the first goes at once, then one every 0.1 s
    assert 0.09 < no_waiting[0] <= 0.1 and 0.19 < no_waiting[1] <= 0.2
