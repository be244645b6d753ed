"""How many SPiD handouts a second the sandbox serves, and whether any voucher went out twice.

    python bench/sandbox_throughput.py [--seconds 5] [--clients 8]

The server runs in its own process (so client and server do not share a GIL) over a fresh state
file; N threads each drive one keep-alive connection with POST /api/2/voucher_handout, through a
bare client that costs far less CPU than http.client (which only sets up the run). Users cycle
through the 10,000 seeded bulk users, each client over its own slice, so a user may get more than
one voucher in a long run, which the API allows. Enough vouchers are generated up front for the
run never to run dry. Afterwards the state file must show exactly as many newly handed-out
vouchers as the clients counted successes: a voucher handed out twice would leave fewer.
"""

from __future__ import annotations

import argparse
import http.client
import json
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from voucherctl.sandbox import SANDBOX  # noqa: E402

GROUP = SANDBOX.spid_handout_group_id
# Vouchers generated up front per second of the run: above the fastest rate seen (8,397/s on
# 2 cores), so that the group never runs dry; a run that does says so.
HANDOUTS_PER_SECOND_CEILING = 20_000
RUN_LOCK = threading.Lock()
SERVER = """
import sys
from dataclasses import dataclass, field
from pathlib import Path
from voucherctl.sandbox import serve_forever
try:
    serve_forever("127.0.0.1", 0, Path(sys.argv[1]), ready=lambda url: print(url, flush=True))
except KeyboardInterrupt:
    pass
"""


def start_server(state: Path) -> tuple[subprocess.Popen[str], str]:
    """The sandbox in a child process, and its base URL."""
    child = subprocess.Popen(
        [sys.executable, "-c", SERVER, str(state)], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    assert child.stdout is not None
    url = child.stdout.readline().strip()
    if not url:
        raise SystemExit("the sandbox server did not start")
    return child, url


def call(
    conn: http.client.HTTPConnection, method: str, path: str, form: dict[str, str], token: str = ""
) -> dict[str, object]:
    """One request; the decoded JSON answer."""
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    conn.request(method, path, urlencode(form), headers)
    answer: dict[str, object] = json.loads(conn.getresponse().read())
    return answer


def prepare(url: str, seconds: float) -> str:
    """A token, and enough unused vouchers in the group for the whole run."""
    conn = http.client.HTTPConnection(urlsplit(url).netloc)
    client = {"client_id": SANDBOX.spid_client_id, "client_secret": SANDBOX.spid_client_secret}
    answer = call(conn, "POST", "/oauth/token", {"grant_type": "client_credentials", **client})
    token = str(answer["access_token"])
    for _ in range(int(seconds * HANDOUTS_PER_SECOND_CEILING) // 1000):
        call(conn, "POST", f"/api/2/vouchers/generate/{GROUP}", {"amount": "1000"}, token)
    conn.close()
    return token


class KeepAliveClient:
    """A bare HTTP/1.1 keep-alive client: prebuilt requests out, Content-Length bodies in.

    http.client parses every answer's headers with the email package, which costs more CPU
    than the server spends on a handout; on a 2-core machine that CPU comes out of the
    server's share and the benchmark would measure the client.
    """

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self._sock = socket.create_connection((parts.hostname, parts.port))
        self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._rfile = self._sock.makefile("rb")

    def exchange(self, request: bytes) -> bytes:
        """Send one request, return its answer's body."""
        self._sock.sendall(request)
        status = self._rfile.readline()
        if not status.startswith(b"HTTP/1.1 "):
            raise ConnectionError(f"bad status line {status!r}")
        length = 0
        while (line := self._rfile.readline()) not in (b"\r\n", b""):
            if line[:15].lower() == b"content-length:":
                length = int(line[15:])
        return self._rfile.read(length)

    def close(self) -> None:
        """Close the connection."""
        self._rfile.close()
        self._sock.close()


def handout_request(host: str, token: str, user: int) -> bytes:
    """The bytes of one POST /api/2/voucher_handout."""
    body = f"userId={user}&voucherGroupId={GROUP}"
    return (
        f"POST /api/2/voucher_handout HTTP/1.1\r\nHost: {host}\r\n"
        f"Authorization: Bearer {token}\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {len(body)}\r\n\r\n{body}"
    ).encode()


@dataclass
class Run:
    """What the clients saw."""

    elapsed: float = 0.0
    ok: int = 0
    failed: int = 0
    latencies: list[float] = field(default_factory=list)
    first_failure: bytes = b""


def drive(url: str, token: str, users: range, deadline: float, run: Run) -> None:
    """One keep-alive client handing out vouchers until the deadline."""
    client = KeepAliveClient(url)
    requests = [handout_request(urlsplit(url).netloc, token, user) for user in users]
    ok = failed = 0
    first_failure = b""
    while (started := time.perf_counter()) < deadline:
        answer = client.exchange(requests[(ok + failed) % len(requests)])
        run.latencies.append(time.perf_counter() - started)
        if b'"success":true' in answer:
            ok += 1
        else:
            failed += 1
            first_failure = first_failure or answer[:300]
    client.close()
    with RUN_LOCK:
        run.ok += ok
        run.failed += failed
        run.first_failure = run.first_failure or first_failure


def handed_out(state: Path) -> int:
    """Vouchers of the benchmark's group that are handed out, read from the state file."""
    with sqlite3.connect(state) as db:
        count: int = db.execute(
            "SELECT count(*) FROM spid_voucher WHERE group_id = ? AND status = 1", (int(GROUP),)
        ).fetchone()[0]
    return count


def run_clients(url: str, token: str, clients: int, seconds: float) -> Run:
    """Drive `clients` keep-alive connections for `seconds`."""
    first, last = SANDBOX.spid_bulk_user_ids
    share = (last - first + 1) // clients
    run, deadline = Run(), time.perf_counter() + seconds
    slices = [range(first + i * share, first + (i + 1) * share) for i in range(clients)]
    threads = [
        threading.Thread(target=drive, args=(url, token, users, deadline, run)) for users in slices
    ]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    run.elapsed = time.perf_counter() - started
    run.latencies.sort()
    return run


def main() -> int:
    """Run the benchmark and print its figures; non-zero exit when a check fails."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--clients", type=int, default=8)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        state = Path(tmp) / "bench.sqlite3"
        child, url = start_server(state)
        try:
            token = prepare(url, args.seconds)
            before = handed_out(state)
            run = run_clients(url, token, args.clients, args.seconds)
        finally:
            child.send_signal(signal.SIGINT)
            child.wait(timeout=10)
        changed = handed_out(state) - before
    p50, p99 = run.latencies[len(run.latencies) // 2], run.latencies[len(run.latencies) * 99 // 100]
    print(f"clients: {args.clients}, seconds: {run.elapsed:.2f}")
    print(f"handouts: {run.ok} ok, {run.failed} failed")
    print(f"throughput: {run.ok / run.elapsed:.0f} handouts/s")
    print(f"latency: p50 {p50 * 1000:.2f} ms, p99 {p99 * 1000:.2f} ms")
    print(f"vouchers newly handed out in the state file: {changed}")
    verdict = 0
    if changed != run.ok:
        print(
            f"FAIL: {run.ok} successes but {changed} vouchers newly handed out: a voucher was "
            "handed out twice, or a success took none",
            file=sys.stderr,
        )
        verdict = 1
    if run.failed:
        dry = b"No voucher" in run.first_failure or b"no voucher" in run.first_failure
        why = "the group ran out of vouchers (raise HANDOUTS_PER_SECOND_CEILING)" if dry else ""
        print(
            f"FAIL: {run.failed} handouts failed{': ' + why if why else ''}; the first answer: "
            f"{run.first_failure.decode(errors='replace')}",
            file=sys.stderr,
        )
        verdict = 1
    if not verdict:
        print("ok: every success took its own voucher, and none failed")
    return verdict


if __name__ == "__main__":
    sys.exit(main())
