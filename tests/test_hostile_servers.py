"""Hostile servers: every command that talks to an API, against answers no API should give.

Each case points the real CLI at a :class:`HostileServer` on loopback whose answer is one fault:
HTML, an empty or truncated body, JSON of the wrong shape, a body larger than the cap, a drip
slower than ``--timeout``, a dropped connection, a redirect to another host, a certificate that
cannot be verified. Whatever the fault, the CLI must print exactly one ``voucherctl: error:``
line, nothing on stdout, no traceback and no secret, and exit with the documented code: a read
answered with garbage or a 5xx exits 1, a change answered so exits 7 (its outcome is unknown),
timeouts and dropped connections exit 7, a redirect exits 1.

Every command meets every fault in-process (``cli``), with pauses between retries skipped and
drips sped up; a few cases, the contract's drip among them, run the installed CLI as
subprocesses, all at once, so that the whole file stays fast. Beyond the issue's list: answers
nested too deep for the JSON parser, error texts and redirects that quote the credentials
back, a token that would split a header, absurd rate-limit resets, warnings of the wrong
shape, --verbose.
"""

import base64
import json
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import pytest

from tests import hostile_server as hostile
from tests.conftest import spid_container
from tests.hostile_server import Fault, HostileServer, Request, reply
from tests.sandbox_process import VOUCHERCTL, base_environment
from voucherctl.api.transport.http import READ_ATTEMPTS

# Secrets with characters that URLs percent-encode, so that an encoded echo would show too.
SPID_TOKEN = "canary+hostile/spid=token-0001"
SESSION_KEY = "canary+hostile/session=key-0001"
CLIENT_ID = "hostile-client"
CLIENT_SECRET = "canary-hostile-client-secret-0001"
ISSUED_TOKEN = "canary-hostile-issued-token-0001"  # what a working /oauth/token hands out
BASIC = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
SECRETS = (SPID_TOKEN, SESSION_KEY, CLIENT_SECRET, ISSUED_TOKEN, BASIC)
SECRET_FORMS = (*SECRETS, *(quote(secret, safe="") for secret in SECRETS))
TOKEN_PATH = "/oauth/token"
SMALL_CAP = 1024 * 1024  # in-process cases read at most this much (the real cap is 16 MiB)


@dataclass(frozen=True)
class Command:
    """A command line, and the one API call it makes."""

    args: tuple[str, ...]
    api: str  # "spid" or "spaaza"
    path: str
    change: bool

    @property
    def name(self) -> str:
        return self.args[0]

    @property
    def method(self) -> str:
        if not self.change:
            return "GET"
        return "PUT" if self.name in ("lock", "unlock") else "POST"


VOUCHER, USER = ("--voucher-id", "35735"), ("--user-id", "1107604")
COMMANDS = [
    Command(("show", "64-HB2I-OPBL"), "spid", "/api/2/voucher/64-HB2I-OPBL", change=False),
    Command(("handout", "--user", "42", "--group", "47"), "spid", "/api/2/voucher_handout", True),
    Command(("groups",), "spid", "/api/2/vouchers/groups", change=False),
    Command(("group", "47"), "spid", "/api/2/vouchers/group/47", change=False),
    Command(("claim", *VOUCHER, *USER), "spaaza", "/claim-voucher", change=True),
    Command(("unclaim", *VOUCHER, *USER), "spaaza", "/unclaim-voucher", change=True),
    Command(("lock", *VOUCHER, "--locking-code", "till-7"), "spaaza", "/lock-voucher", True),
    Command(("unlock", *VOUCHER), "spaaza", "/unlock-voucher", change=True),
    Command(("vouchers", *USER), "spaaza", "/get-user-vouchers", change=False),
]
BY_NAME = {command.name: command for command in COMMANDS}


# -- the faults --------------------------------------------------------------------------------


def ok_envelope(command: Command, payload: Any) -> Any:
    """A success answer of the command's API around ``payload``."""
    if command.api == "spid":
        return spid_container(payload)
    return {"result": {"code": 1, "status": "ok"}, "results": payload}


def echoed_credentials(request: Request) -> str:
    """Every header the client sent, as a careless server quotes them in its error text."""
    return "; ".join(f"{name}: {value}" for name, value in request.headers.items())


def echo_error(command: Command) -> Fault:
    """A well-formed 500 whose error text quotes the credentials it received."""

    def fault(exchange: hostile.Exchange) -> None:
        text = f"cannot serve {echoed_credentials(exchange.request)}"
        if command.api == "spid":
            body: Any = spid_container(None, code=500, error=text)
        else:
            body = {
                "result": {"code": 2, "status": "error"},
                "error": {"code": 999, "name": "internal_error", "description": text},
            }
        reply(500, body)(exchange)

    return fault


HTML_PAGE = "<!DOCTYPE html>\n<html><body><h1>502 Bad Gateway</h1>\n<hr>nginx</body></html>\n"


@dataclass(frozen=True)
class Case:
    """A fault, the exit codes it must give a read and a change, and words the message has."""

    fault: Callable[[Command], Fault]
    read_exit: int
    change_exit: int
    says: str


CASES = {
    "html": Case(lambda c: reply(200, HTML_PAGE, content_type="text/html"), 1, 7, "unreadable"),
    "empty body": Case(lambda c: reply(200, b""), 1, 7, "0 bytes"),
    "truncated json": Case(
        lambda c: reply(200, b'{"name": "SPP Container", "code": 200, "data": {"vouch'),
        1,
        7,
        "unreadable",
    ),
    "json of the wrong shape": Case(
        lambda c: reply(200, [{"unexpected": "shape"}]), 1, 7, "unreadable"
    ),
    "json nested too deep": Case(
        lambda c: reply(200, "[" * 100_000 + "]" * 100_000), 1, 7, "unreadable"
    ),
    "html error page (502)": Case(
        lambda c: reply(502, HTML_PAGE, content_type="text/html"), 1, 7, "HTTP 502"
    ),
    "error text quoting the credentials": Case(echo_error, 1, 7, "HTTP 500: cannot serve"),
    "a body over the cap": Case(lambda c: hostile.flood, 1, 7, "larger than 1 MiB"),
    "hang-up before answering": Case(
        lambda c: hostile.hang_up, 7, 7, "the connection failed or was dropped"
    ),
    "reset before answering": Case(
        lambda c: hostile.reset, 7, 7, "the connection failed or was dropped"
    ),
    "connection cut mid-body": Case(
        lambda c: hostile.cut_off, 7, 7, "the connection failed or was dropped"
    ),
}

# The right envelope with the wrong thing inside. (`vouchers` prints Spaaza's results as
# returned, whatever they are, so it has no wrong payload.)
WRONG_PAYLOAD = Case(lambda c: reply(200, ok_envelope(c, "surprise")), 1, 7, "")


# -- running the CLI against a server ------------------------------------------------------------


def environment(url: str, *, spid_login: str = "token") -> dict[str, str]:
    """Variables that point both APIs at ``url``; SPiD by token, or by client credentials."""
    env = {
        "VOUCHERCTL_SPID_URL": url,
        "VOUCHERCTL_SPAAZA_URL": url,
        "VOUCHERCTL_SPAAZA_USER_ID": "1107604",
        "VOUCHERCTL_SPAAZA_SESSION_KEY": SESSION_KEY,
        "VOUCHERCTL_SPAAZA_CHAIN_ID": "3",
    }
    if spid_login == "token":
        env["VOUCHERCTL_SPID_TOKEN"] = SPID_TOKEN
    else:
        env["VOUCHERCTL_SPID_CLIENT_ID"] = CLIENT_ID
        env["VOUCHERCTL_SPID_CLIENT_SECRET"] = CLIENT_SECRET
    return env


def good_token(exchange: hostile.Exchange) -> None:
    reply(200, {"access_token": ISSUED_TOKEN, "expires_in": 3600})(exchange)


def routes(path: str, fault: Fault) -> Callable[[Request], Fault]:
    """``fault`` for ``path``, a working token endpoint, and a 404 for anything else."""

    def route(request: Request) -> Fault:
        if request.path == path:
            return fault
        if request.path == TOKEN_PATH:
            return good_token
        return reply(404, {"unexpected": request.path})

    return route


@pytest.fixture
def serve() -> Iterator[Callable[..., HostileServer]]:
    """Start hostile servers for one test; all are closed after it."""
    servers: list[HostileServer] = []

    def start(route: Callable[[Request], Fault], **options: Any) -> HostileServer:
        server = HostileServer(route, **options)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()


@pytest.fixture
def small_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("voucherctl.api.transport.http.MAX_BODY_BYTES", SMALL_CAP)


def run(
    cli: Any, monkeypatch: pytest.MonkeyPatch, command: Command, env: dict[str, str], *more: str
) -> Any:
    """The command in-process, with ``env`` set and ``more`` options after it."""
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return cli(*command.args, *more)


def assert_one_clean_error(exit_code: int, stdout: str, stderr: str, expected: int) -> str:
    """Exit code, one ``voucherctl: error:`` line, empty stdout, no traceback, no secret."""
    assert exit_code == expected, stderr
    assert stdout == ""
    assert stderr.endswith("\n")
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("voucherctl: error: "), stderr
    assert "Traceback" not in stderr
    assert "unexpected error" not in stderr, "every hostile answer is handled, not stumbled on"
    leaked = [secret for secret in SECRET_FORMS if secret in stdout + stderr]
    assert leaked == []
    return lines[0]


def assert_sent_as_allowed(server: HostileServer, command: Command) -> None:
    """A change reached the server exactly once (never resent); a read at most 3 times."""
    sent = server.requests_to(command.path)
    if command.change:
        assert len(sent) == 1
    else:
        assert 1 <= len(sent) <= READ_ATTEMPTS
    assert all(r.method == command.method for r in sent)
    assert {r.path for r in server.requests} <= {command.path}  # no token exchange, nothing else


# -- in-process: every command against every fault -----------------------------------------------


@pytest.mark.parametrize("case_name", CASES)
@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c.name)
def test_a_hostile_answer_is_one_clean_error(
    cli, monkeypatch, serve, small_cap, command: Command, case_name: str
) -> None:
    case = CASES[case_name]
    server = serve(routes(command.path, case.fault(command)))

    outcome = run(cli, monkeypatch, command, environment(server.url))

    expected = case.change_exit if command.change else case.read_exit
    line = assert_one_clean_error(outcome.exit_code, outcome.stdout, outcome.stderr, expected)
    assert case.says in line
    if expected == 7 and command.change:
        assert "may or may not have been made" in line
    assert_sent_as_allowed(server, command)


@pytest.mark.parametrize(
    "command", [c for c in COMMANDS if c.name != "vouchers"], ids=lambda c: c.name
)
def test_the_right_envelope_with_the_wrong_payload(cli, monkeypatch, serve, command) -> None:
    server = serve(routes(command.path, WRONG_PAYLOAD.fault(command)))

    outcome = run(cli, monkeypatch, command, environment(server.url))

    expected = WRONG_PAYLOAD.change_exit if command.change else WRONG_PAYLOAD.read_exit
    line = assert_one_clean_error(outcome.exit_code, outcome.stdout, outcome.stderr, expected)
    if command.change:
        assert "may or may not have been made" in line
    assert_sent_as_allowed(server, command)


def test_an_echoed_credential_is_masked_not_printed(cli, monkeypatch, serve) -> None:
    command = BY_NAME["claim"]
    server = serve(routes(command.path, echo_error(command)))

    outcome = run(cli, monkeypatch, command, environment(server.url))

    assert "x-spaaza-session-key: ***" in outcome.stderr
    assert SESSION_KEY not in outcome.stderr


@pytest.mark.parametrize("case_name", CASES)
@pytest.mark.parametrize("command", [BY_NAME["show"], BY_NAME["claim"]], ids=lambda c: c.name)
def test_verbose_shows_the_exchange_but_no_secret_and_no_traceback(
    cli, monkeypatch, serve, small_cap, command, case_name
) -> None:
    case = CASES[case_name]
    server = serve(routes(command.path, case.fault(command)))

    outcome = run(cli, monkeypatch, command, environment(server.url), "--verbose")

    expected = case.change_exit if command.change else case.read_exit
    assert outcome.exit_code == expected, outcome.stderr
    assert outcome.stdout == ""
    assert f"> {command.method} {server.url}{command.path}" in outcome.stderr
    errors = [line for line in outcome.stderr.splitlines() if line.startswith("voucherctl: ")]
    assert errors == [outcome.stderr.splitlines()[-1]]
    assert "Traceback" not in outcome.stderr and "unexpected error" not in outcome.stderr
    assert [secret for secret in SECRET_FORMS if secret in outcome.stderr] == []


def test_a_timeout_longer_than_any_clock_can_wait_still_works(cli, monkeypatch, serve) -> None:
    command = BY_NAME["show"]
    server = serve(routes(command.path, reply(200, HTML_PAGE, content_type="text/html")))

    outcome = run(cli, monkeypatch, command, environment(server.url), "--timeout", "1e300")

    line = assert_one_clean_error(outcome.exit_code, outcome.stdout, outcome.stderr, 1)
    assert "unreadable" in line


@pytest.mark.parametrize("warnings", [5, "Voucher expires soon", {"code": 1}])
def test_warnings_of_the_wrong_shape_do_not_undo_a_success(
    cli, monkeypatch, serve, warnings
) -> None:
    command = BY_NAME["claim"]
    body = {**ok_envelope(command, {"voucher_id": 35735}), "warnings": warnings}
    server = serve(routes(command.path, reply(200, body)))

    outcome = run(cli, monkeypatch, command, environment(server.url))

    assert outcome.exit_code == 0, outcome.stderr
    assert json.loads(outcome.stdout) == {"voucher_id": 35735}
    assert outcome.stderr.count("voucherctl: warning: ") == 1


# -- redirects: never followed, nothing ever reaches the other host -------------------------------


def redirect_to(other: HostileServer) -> Fault:
    def fault(exchange: hostile.Exchange) -> None:
        # The Location even carries the credentials back, as a hostile server might.
        echo = quote(echoed_credentials(exchange.request), safe="")
        status = 302 if exchange.request.method == "GET" else 307
        target = f"http://localhost:{other.port}/collect?echo={echo}"
        reply(status, b"", headers={"Location": target})(exchange)

    return fault


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c.name)
def test_a_redirect_is_not_followed(cli, monkeypatch, serve, command) -> None:
    other = serve(lambda request: reply(200, ok_envelope(command, {})))
    server = serve(routes(command.path, redirect_to(other)))

    outcome = run(cli, monkeypatch, command, environment(server.url))

    line = assert_one_clean_error(outcome.exit_code, outcome.stdout, outcome.stderr, 1)
    assert f"a redirect to http://localhost:{other.port}/collect?...;" in line
    assert "never follows redirects" in line
    assert other.connections == 0 and other.requests == []
    assert len(server.requests_to(command.path)) == 1


# -- the token exchange misbehaves: the API call is never made ------------------------------------


def bad_token(body: Any, status: int = 200) -> Callable[[Command], Fault]:
    return lambda c: reply(status, body)


def echo_basic(command: Command) -> Fault:
    def fault(exchange: hostile.Exchange) -> None:
        reply(
            401,
            {
                "error": "invalid_client",
                "error_code": 401,
                "type": "OAuthException",
                "error_description": f"bad client ({echoed_credentials(exchange.request)})",
            },
        )(exchange)

    return fault


TOKEN_CASES = {
    "html": (CASES["html"].fault, 1, "unreadable"),
    "empty body": (CASES["empty body"].fault, 1, "unreadable"),
    "truncated json": (bad_token(b'{"access_token": "canary-hostile-iss'), 1, "unreadable"),
    "no token in it": (bad_token({"token_type": "Bearer", "expires_in": 3600}), 1, "unreadable"),
    "a token that is not text": (bad_token({"access_token": ["x"]}), 1, "unreadable"),
    "a token that would split the header": (
        bad_token({"access_token": "abc\r\nX-Injected: 1", "expires_in": 3600}),
        1,
        "unreadable",
    ),
    "json nested too deep": (CASES["json nested too deep"].fault, 1, "unreadable"),
    "html error page (502)": (CASES["html error page (502)"].fault, 1, "HTTP 502"),
    "a refusal quoting the credentials": (echo_basic, 4, "refused the client credentials"),
    "a body over the cap": (CASES["a body over the cap"].fault, 1, "larger than 1 MiB"),
    "hang-up before answering": (CASES["hang-up before answering"].fault, 7, "dropped"),
    "connection cut mid-body": (CASES["connection cut mid-body"].fault, 7, "dropped"),
}


@pytest.mark.parametrize("case_name", TOKEN_CASES)
@pytest.mark.parametrize("command", [BY_NAME["show"], BY_NAME["handout"]], ids=lambda c: c.name)
def test_a_hostile_token_endpoint_stops_the_command_before_its_call(
    cli, monkeypatch, serve, small_cap, command, case_name
) -> None:
    fault, expected, says = TOKEN_CASES[case_name]
    server = serve(routes(TOKEN_PATH, fault(command)))

    outcome = run(cli, monkeypatch, command, environment(server.url, spid_login="client"))

    line = assert_one_clean_error(outcome.exit_code, outcome.stdout, outcome.stderr, expected)
    assert "SPiD server token" in line or "SPiD refused" in line
    assert says in line
    assert server.requests_to(command.path) == []  # the handout was never sent
    assert 1 <= len(server.requests_to(TOKEN_PATH)) <= READ_ATTEMPTS


def test_a_token_redirect_is_not_followed(cli, monkeypatch, serve) -> None:
    other = serve(lambda request: good_token)
    server = serve(routes(TOKEN_PATH, redirect_to(other)))

    env = environment(server.url, spid_login="client")
    outcome = run(cli, monkeypatch, BY_NAME["handout"], env)

    line = assert_one_clean_error(outcome.exit_code, outcome.stdout, outcome.stderr, 1)
    assert "fetch a SPiD server token" in line and "never follows redirects" in line
    assert other.connections == 0
    assert server.requests_to(BY_NAME["handout"].path) == []


# -- absurd rate-limit answers ---------------------------------------------------------------------


def spid_rate_limited(reset: str) -> Fault:
    body = spid_container(None, code=420, error="Request Ratelimit exceeded")
    text = json.dumps(body).replace('"reset": 3600', f'"reset": {reset}')
    return reply(420, text)


@pytest.mark.parametrize("reset", ["1e400", "NaN", "1e300", '"soon"'])
@pytest.mark.parametrize("command", ["show", "handout"])
def test_spid_rate_limit_with_an_absurd_reset_is_exit_6(
    cli, monkeypatch, serve, no_waiting, command, reset
) -> None:
    server = serve(routes(BY_NAME[command].path, spid_rate_limited(reset)))

    outcome = run(cli, monkeypatch, BY_NAME[command], environment(server.url))

    line = assert_one_clean_error(outcome.exit_code, outcome.stdout, outcome.stderr, 6)
    assert "rate limited" in line
    assert all(0 < wait <= 60 for wait in no_waiting)


@pytest.mark.parametrize("retry_after", ["inf", "nan", "1e300", "Wed, 21 Oct 2099"])
@pytest.mark.parametrize("command", ["vouchers", "claim"])
def test_spaaza_rate_limit_with_an_absurd_retry_after_is_exit_6(
    cli, monkeypatch, serve, no_waiting, command, retry_after
) -> None:
    body = {"result": {"code": 2, "status": "error"}, "error": {"code": 1, "name": "x"}}
    limited = reply(429, body, headers={"Retry-After": retry_after})
    server = serve(routes(BY_NAME[command].path, limited))

    outcome = run(cli, monkeypatch, BY_NAME[command], environment(server.url))

    line = assert_one_clean_error(outcome.exit_code, outcome.stdout, outcome.stderr, 6)
    assert "rate limited" in line
    assert all(0 < wait <= 60 for wait in no_waiting)


# -- TLS: a certificate that cannot be verified --------------------------------------------------


@pytest.fixture(scope="module")
def self_signed(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return hostile.tls_context(tmp_path_factory.mktemp("tls"))


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c.name)
def test_a_certificate_that_cannot_be_verified_stops_everything(
    cli, monkeypatch, serve, self_signed, command
) -> None:
    server = serve(routes(command.path, reply(200, ok_envelope(command, {}))), tls=self_signed)

    outcome = run(cli, monkeypatch, command, environment(server.url))

    line = assert_one_clean_error(outcome.exit_code, outcome.stdout, outcome.stderr, 7)
    assert "TLS certificate could not be verified" in line
    assert "self-signed certificate" in line
    assert_nothing_in_clear(server)


def assert_nothing_in_clear(server: HostileServer) -> None:
    assert server.connections >= 1
    assert server.tls_handshakes == 0
    assert server.plaintext_received == b"" and server.requests == []
    assert server.raw_received.startswith(b"\x16\x03")  # a TLS handshake record, not HTTP
    for clear in (b"HTTP/1.1", b"Authorization", b"X-Spaaza", *(s.encode() for s in SECRET_FORMS)):
        assert clear not in server.raw_received


# -- slow drips: --timeout bounds the whole exchange ---------------------------------------------

# In-process, every command, quicker than the contract's example so that the file stays fast.
QUICK_TIMEOUT, QUICK_DRIP = 0.2, 0.05
DRIPS = {"body dripped": hostile.drip_body, "headers dripped": hostile.drip_headers}


def longest_exchange(read: bool, timeout: float, slack: float = 1.0) -> float:
    """How long a dripped call may take: three tries of a read, with backoff, plus slack.

    Unbounded, a drip would go on until the server gives up (``DRIP_LIMIT``, longer than this).
    """
    tries = READ_ATTEMPTS if read else 1
    return tries * timeout + (1.8 if read else 0) + slack


@pytest.mark.parametrize("drip", DRIPS)
@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c.name)
def test_a_drip_cannot_outlast_the_timeout(cli, monkeypatch, serve, command, drip) -> None:
    server = serve(routes(command.path, DRIPS[drip](QUICK_DRIP)))
    monkeypatch.setenv("VOUCHERCTL_TIMEOUT", str(QUICK_TIMEOUT))

    started = time.monotonic()
    outcome = run(cli, monkeypatch, command, environment(server.url))

    assert time.monotonic() - started < longest_exchange(not command.change, QUICK_TIMEOUT)
    line = assert_one_clean_error(outcome.exit_code, outcome.stdout, outcome.stderr, 7)
    assert "no complete answer within the timeout" in line
    sent = server.requests_to(command.path)
    assert len(sent) == (1 if command.change else READ_ATTEMPTS)


@pytest.mark.parametrize("command", [BY_NAME["show"], BY_NAME["claim"]], ids=lambda c: c.name)
def test_a_dripped_tls_handshake_cannot_outlast_the_timeout(
    cli, monkeypatch, serve, self_signed, command
) -> None:
    ok = reply(200, ok_envelope(command, {}))
    server = serve(routes(command.path, ok), tls=self_signed, drip_handshake=QUICK_DRIP)
    monkeypatch.setenv("VOUCHERCTL_TIMEOUT", str(QUICK_TIMEOUT))

    started = time.monotonic()
    outcome = run(cli, monkeypatch, command, environment(server.url))

    assert time.monotonic() - started < longest_exchange(True, QUICK_TIMEOUT)
    line = assert_one_clean_error(outcome.exit_code, outcome.stdout, outcome.stderr, 7)
    # Python's TLS layer and voucherctl's watchdog race to end it: either words are right.
    assert "connecting timed out" in line or "no complete answer within the timeout" in line
    assert 1 <= server.connections <= READ_ATTEMPTS
    assert_nothing_in_clear(server)


# -- the installed CLI, several at once: the contract's drip and a few others -------------------

DRIP_TIMEOUT = 1.0  # with the server's one byte every 0.2 s (hostile_server.DRIP_INTERVAL)


@dataclass
class Launched:
    """One run of the installed CLI against its own server."""

    command: Command
    server: HostileServer
    process: subprocess.Popen[str]
    exit_code: int = -1
    stdout: str = ""
    stderr: str = ""
    ended: float = 0.0

    @property
    def exchange_seconds(self) -> float:
        """From the first request reaching the server to the process's end (start-up aside)."""
        return self.ended - min(r.received for r in self.server.requests)


RUNS: dict[str, tuple[str, str, str, tuple[str, ...], int]] = {
    # id: command, fault, how SPiD logs in, options, exit code
    "show, body dripped": ("show", "drip_body", "token", ("--timeout", "1"), 7),
    "show, headers dripped": ("show", "drip_headers", "token", ("--timeout", "1"), 7),
    "handout, headers dripped": ("handout", "drip_headers", "token", ("--timeout", "1"), 7),
    "handout, token dripped": ("handout", "drip_body", "client", ("--timeout", "1"), 7),
    "claim, body dripped": ("claim", "drip_body", "token", ("--timeout", "1"), 7),
    "claim, html": ("claim", "html", "token", (), 7),
    "groups, over 16 MiB": ("groups", "flood", "token", (), 1),
    "lock, over 16 MiB": ("lock", "flood", "token", (), 7),
    "handout, redirect": ("handout", "redirect", "token", (), 1),
    "vouchers, self-signed certificate": ("vouchers", "tls", "token", (), 7),
}


def finish(done: Launched) -> None:
    """Wait for one process (a minute at most), noting when it ended and what it printed."""
    try:
        done.stdout, done.stderr = done.process.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        done.process.kill()
        done.stdout, done.stderr = done.process.communicate()
    done.ended = time.monotonic()
    done.exit_code = done.process.returncode


@pytest.fixture(scope="module")
def installed(
    tmp_path_factory: pytest.TempPathFactory, self_signed: Any
) -> Iterator[dict[str, Any]]:
    """Every run of :data:`RUNS` at once, each against its own server; outcomes by id."""
    home = tmp_path_factory.mktemp("installed")
    other = HostileServer(lambda request: reply(200, {}))
    faults: dict[str, Fault] = {
        "drip_body": hostile.drip_body(),
        "drip_headers": hostile.drip_headers(),
        "html": reply(200, HTML_PAGE, content_type="text/html"),
        "flood": hostile.flood,
        "redirect": redirect_to(other),
        "tls": reply(200, {}),
    }
    launched: dict[str, Launched] = {}
    try:
        for run_id, (name, fault, login, options, _) in RUNS.items():
            command = BY_NAME[name]
            path = TOKEN_PATH if login == "client" else command.path
            tls = self_signed if fault == "tls" else None
            server = HostileServer(routes(path, faults[fault]), tls=tls)
            env = {
                **base_environment(home / name / fault),
                **environment(server.url, spid_login=login),
            }
            process = subprocess.Popen(
                [VOUCHERCTL, *command.args, *options],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            launched[run_id] = Launched(command, server, process)
        waiters = [threading.Thread(target=finish, args=(done,)) for done in launched.values()]
        for waiter in waiters:
            waiter.start()
        for waiter in waiters:
            waiter.join()
        yield {"runs": launched, "other": other}
    finally:
        for done in launched.values():
            if done.process.poll() is None:
                done.process.kill()
            done.server.close()
        other.close()


def outcome_of(installed: dict[str, Any], run_id: str) -> tuple[Launched, str]:
    done: Launched = installed["runs"][run_id]
    expected = RUNS[run_id][-1]
    line = assert_one_clean_error(done.exit_code, done.stdout, done.stderr, expected)
    return done, line


@pytest.mark.parametrize("run_id", [r for r in RUNS if "dripped" in r])
def test_the_installed_cli_outlasts_no_drip(installed, run_id) -> None:
    done, line = outcome_of(installed, run_id)

    assert "no complete answer within the timeout" in line
    token = "token" in run_id  # fetching the token is a read, whatever the command
    read = token or not done.command.change
    # Slack for many processes on few cores; real backoff pauses (at most 1.8 s) are counted.
    assert done.exchange_seconds < longest_exchange(read, DRIP_TIMEOUT, slack=2.0)
    if token:
        assert done.server.requests_to(done.command.path) == []


def test_the_installed_cli_on_an_html_answer(installed) -> None:
    _, line = outcome_of(installed, "claim, html")

    assert "unreadable" in line and "text/html" in line
    assert "may or may not have been made" in line


@pytest.mark.parametrize("run_id", ["groups, over 16 MiB", "lock, over 16 MiB"])
def test_the_installed_cli_reads_at_most_16_mib(installed, run_id) -> None:
    _, line = outcome_of(installed, run_id)

    assert "larger than 16 MiB" in line


def test_the_installed_cli_on_a_redirect(installed) -> None:
    _, line = outcome_of(installed, "handout, redirect")

    assert "never follows redirects" in line
    assert installed["other"].connections == 0


def test_the_installed_cli_on_a_self_signed_certificate(installed) -> None:
    done, line = outcome_of(installed, "vouchers, self-signed certificate")

    assert "TLS certificate could not be verified (self-signed certificate)" in line
    assert_nothing_in_clear(done.server)
