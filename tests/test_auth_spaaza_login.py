"""``voucherctl auth login spaaza --username``: a login is sent once, and what it answers is
checked before anything is stored.

A login ends the user's other sessions (a till), emails a passcode and counts toward a lockout;
a passcode serves once. So neither step is ever sent again by itself (strict stubs count the
calls), an answer whose fields no header could carry is not stored, and a failure after the
login went out never claims that nothing was sent (exit 2).
"""

import contextlib
import json
import socket
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
import requests
import responses

from tests import spaaza_stubs as stubs
from tests.sandbox_process import VOUCHERCTL, base_environment
from voucherctl.api.transport.http import HttpClient
from voucherctl.core.errors import ExitCode, UsageError

USER = "admin@example.com"
PASSWORD = "canary-login-password-1"
PASSCODE_KEY = "canary-passcode-key-0001"
LOGIN = (
    "auth",
    "login",
    "spaaza",
    "--host",
    stubs.SPAAZA,
    "--chain-id",
    "3",
    "--insecure-storage",
    "--username",
    USER,
)
SESSION_ENTRY = f"spaaza/{stubs.SPAAZA}/{stubs.SESSION_USER}/session"
INFO = {
    "session_key": stubs.SESSION_KEY,
    "session_user_id": int(stubs.SESSION_USER),
    "session_expires_date": "2099-01-01 00:00:00",
}
GATEWAY = "<html><body>502 Bad Gateway</body></html>"


@pytest.fixture(autouse=True)
def keyring_backend(file_keyring) -> None:
    pass


def nothing_stored(home: Path) -> bool:
    config = home / "config" / "config.toml"
    no_user = not config.exists() or "user_id" not in config.read_text()
    return no_user and keyring.get_password("voucherctl", SESSION_ENTRY) is None


def two_factor_login(rsps: responses.RequestsMock) -> responses.BaseResponse:
    return stubs.auth_login(rsps, USER, PASSWORD, {"session_passcode_key": PASSCODE_KEY})


def one_error_line(stderr: str) -> str:
    errors = [line for line in stderr.splitlines() if line.startswith("voucherctl: error:")]
    assert len(errors) == 1 and errors[0] == stderr.splitlines()[-1], stderr
    return errors[0]


# -- sent once ------------------------------------------------------------------------------------

LOGIN_FAILURES = {
    "502 from a gateway": {"status": 502, "body": GATEWAY, "content_type": "text/html"},
    "503 in Spaaza's envelope": {
        "status": 503,
        "json": stubs.error(1, "service_unavailable", "try later"),
    },
    "no answer in time": {"body": requests.exceptions.ReadTimeout("read timed out")},
    "connection dropped": {"body": requests.exceptions.ConnectionError("reset by peer")},
}


@pytest.mark.parametrize("failure", LOGIN_FAILURES)
def test_a_password_login_is_sent_once_whatever_the_failure(
    cli, rsps, isolated_environment, failure
) -> None:
    """Caught: /auth/login sent three times (as a read) against a 502, a timeout or a drop."""
    login = rsps.post(f"{stubs.SPAAZA}/auth/login", **LOGIN_FAILURES[failure])

    result = cli(*LOGIN, input=PASSWORD + "\n")

    assert login.call_count == 1
    assert result.exit_code == ExitCode.OUTCOME_UNKNOWN, result.stderr
    line = one_error_line(result.stderr)
    assert line.startswith("voucherctl: error: log in to Spaaza: ")
    assert "the login may or may not have reached Spaaza" in line
    assert "other Spaaza sessions of this user (a till, say) may have ended" in line
    assert "it was not sent again and nothing was stored: log in again" in line
    assert "change" not in line
    assert nothing_stored(isolated_environment)
    assert PASSWORD not in result.stderr


@pytest.mark.parametrize("failure", LOGIN_FAILURES)
def test_a_passcode_is_sent_once_whatever_the_failure(
    cli, rsps, isolated_environment, failure
) -> None:
    """Caught: /auth/session sent again after a 502; the used passcode was then refused as
    wrong (exit 4), hiding that the passcode had probably worked."""
    login = two_factor_login(rsps)
    session = rsps.post(f"{stubs.SPAAZA}/auth/session", **LOGIN_FAILURES[failure])

    result = cli(*LOGIN, input=f"{PASSWORD}\n123456\n")

    assert (login.call_count, session.call_count) == (1, 1)
    assert result.exit_code == ExitCode.OUTCOME_UNKNOWN, result.stderr
    line = one_error_line(result.stderr)
    assert line.startswith("voucherctl: error: confirm the Spaaza passcode: ")
    assert "the passcode may or may not have reached Spaaza (which takes a passcode once)" in line
    assert "other Spaaza sessions of this user may have ended" in line
    assert line.endswith("nothing was stored: log in again for a new passcode")
    assert nothing_stored(isolated_environment)


def test_a_refused_login_is_still_exit_4_and_sent_once(cli, rsps) -> None:
    login = rsps.post(
        f"{stubs.SPAAZA}/auth/login",
        status=401,
        json=stubs.error(3, "invalid_login", "Username or password incorrect"),
    )

    result = cli(*LOGIN, input=PASSWORD + "\n")

    assert (result.exit_code, login.call_count) == (ExitCode.AUTH, 1)
    assert "may or may not" not in result.stderr


@pytest.fixture
def hanging_server() -> Iterator[tuple[str, list[int]]]:
    """A server on loopback that reads each request and never answers (each connection in a
    thread of its own, so a second one would be accepted and counted too)."""
    listener = socket.create_server(("127.0.0.1", 0))
    connections: list[int] = []
    stop = threading.Event()

    def serve() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            connections.append(1)
            threading.Thread(target=hang, args=(conn,), daemon=True).start()

    def hang(conn: socket.socket) -> None:
        with conn:
            conn.recv(65536)
            stop.wait()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}", connections
    stop.set()
    with contextlib.suppress(OSError):
        listener.shutdown(socket.SHUT_RDWR)  # wakes the accept() the thread is blocked in
    listener.close()
    thread.join(5)


def test_a_login_to_a_server_that_hangs_goes_out_once(cli, hanging_server) -> None:
    """The real transport, watchdog and all: one connection, not three."""
    url, connections = hanging_server
    args = ("--timeout", "0.3", "auth", "login", "spaaza", "--host", url, "--insecure-storage")

    result = cli(*args, "--username", USER, input=PASSWORD + "\n")

    assert result.exit_code == ExitCode.OUTCOME_UNKNOWN, result.stderr
    assert "no complete answer within the timeout" in result.stderr
    assert len(connections) == 1


# -- the passcode that did not come ---------------------------------------------------------------


def test_a_two_factor_login_with_no_passcode_on_stdin_says_the_login_was_sent(
    cli, rsps, isolated_environment
) -> None:
    """Caught: exit 2 "no passcode given", which promises nothing was sent, after the password
    login had gone out (and ended the user's other sessions). /auth/session is not stubbed:
    the strict stubs fail the test if it is called."""
    login = two_factor_login(rsps)

    result = cli(*LOGIN, input=PASSWORD + "\n")

    assert login.call_count == 1
    assert result.exit_code == ExitCode.AUTH, result.stderr
    line = one_error_line(result.stderr)
    assert line == (
        f"voucherctl: error: no passcode on stdin: the login of {USER} was sent, so other "
        "Spaaza sessions of that user have ended and Spaaza emailed a passcode, but nothing "
        "was stored; give the passcode as a second line on stdin, after the password (a "
        "program can write it once the email has come), or log in on a terminal"
    )
    assert nothing_stored(isolated_environment)


def test_a_passcode_on_the_second_line_completes_the_login(cli, rsps) -> None:
    two_factor_login(rsps)
    stubs.auth_session(rsps, "123456", PASSCODE_KEY, INFO)

    result = cli(*LOGIN, input=f"{PASSWORD}\n123456\n")

    assert result.exit_code == 0, result.stderr
    assert json.loads(keyring.get_password("voucherctl", SESSION_ENTRY) or "{}") == {
        "user_id": stubs.SESSION_USER,
        "session_key": stubs.SESSION_KEY,
        "expires": "2099-01-01 00:00:00",
    }


# -- answers that must not be stored --------------------------------------------------------------

BAD_FIELDS = {
    "user id with quotes and a line break": (
        {"session_user_id": '1001"\r\nX-Injected: "1'},
        "its session_user_id is not a number",
    ),
    "user id as words": ({"session_user_id": "one"}, "its session_user_id is not a number"),
    "negative user id": ({"session_user_id": -5}, "its session_user_id is not a number"),
    "user id as a fraction": ({"session_user_id": 1001.5}, "its session_user_id is not a number"),
    "user id true": ({"session_user_id": True}, "its session_user_id is not a number"),
    "user id zero": (
        {"session_user_id": 0},
        "its session_user_id is not a user id (a positive 64-bit number)",
    ),
    "user id past 64 bits": (
        {"session_user_id": 2**64},
        "its session_user_id is not a user id (a positive 64-bit number)",
    ),
    "no user id": ({"session_user_id": None}, "it has no session_user_id"),
    "key with a line break": (
        {"session_key": "canary-key\r\nX-Injected: 1"},
        "its session_key is not a single word of printable ASCII",
    ),
    "key with a space": (
        {"session_key": "canary key 0001"},
        "its session_key is not a single word of printable ASCII",
    ),
    "key beyond ASCII": (
        {"session_key": "canary-kéy-0001"},
        "its session_key is not a single word of printable ASCII",
    ),
    "key as a list": (
        {"session_key": ["canary-key-0001"]},
        "its session_key is not a single word of printable ASCII",
    ),
    "expiry in words": (
        {"session_expires_date": "next week"},
        "its session_expires_date is not a date (YYYY-MM-DD HH:MM:SS)",
    ),
    "expiry on the 31st of February": (
        {"session_expires_date": "2099-02-31 00:00:00"},
        "its session_expires_date is not a date (YYYY-MM-DD HH:MM:SS)",
    ),
    "expiry as a number": (
        {"session_expires_date": 4070908800},
        "its session_expires_date is not a date (YYYY-MM-DD HH:MM:SS)",
    ),
}


@pytest.mark.parametrize("case", BAD_FIELDS)
def test_a_login_answer_with_an_unusable_field_stores_nothing(
    cli, rsps, isolated_environment, case
) -> None:
    """Caught: a session_user_id holding quotes and a line break was stored (exit 0), and every
    later command failed as if its outcome were unknown."""
    fields, says = BAD_FIELDS[case]
    stubs.auth_login(rsps, USER, PASSWORD, {**INFO, **fields})

    result = cli(*LOGIN, input=PASSWORD + "\n")

    assert result.exit_code == ExitCode.ERROR, result.stderr
    line = one_error_line(result.stderr)
    assert line == (
        f"voucherctl: error: log in to Spaaza: Spaaza's answer is unreadable: {says}; nothing "
        "was stored (Spaaza took the login, so other Spaaza sessions of this user have ended)"
    )
    assert nothing_stored(isolated_environment)
    assert "Injected" not in result.stderr and "canary" not in result.stderr


@pytest.mark.parametrize("case", ["user id with quotes and a line break", "key with a space"])
def test_a_passcode_answer_with_an_unusable_field_stores_nothing(
    cli, rsps, isolated_environment, case
) -> None:
    fields, says = BAD_FIELDS[case]
    two_factor_login(rsps)
    stubs.auth_session(rsps, "123456", PASSCODE_KEY, {**INFO, **fields})

    result = cli(*LOGIN, input=f"{PASSWORD}\n123456\n")

    assert result.exit_code == ExitCode.ERROR, result.stderr
    assert one_error_line(result.stderr) == (
        f"voucherctl: error: confirm the Spaaza passcode: Spaaza's answer is unreadable: {says}; "
        "nothing was stored (Spaaza took the passcode, which serves once: log in again for a "
        "new one)"
    )
    assert nothing_stored(isolated_environment)


def test_a_passcode_key_no_form_should_carry_is_not_sent_back(cli, rsps) -> None:
    stubs.auth_login(rsps, USER, PASSWORD, {"session_passcode_key": {"nested": "object"}})

    result = cli(*LOGIN, input=f"{PASSWORD}\n123456\n")

    assert result.exit_code == ExitCode.ERROR, result.stderr
    assert "its session_passcode_key is not a single word of printable ASCII" in result.stderr


@pytest.mark.parametrize("user_id", ["114521", 114521])
def test_a_user_id_as_a_number_or_as_digits_is_stored_as_digits(cli, rsps, user_id) -> None:
    stubs.auth_login(rsps, USER, PASSWORD, {**INFO, "session_user_id": user_id})

    result = cli(*LOGIN, input=PASSWORD + "\n")

    assert result.exit_code == 0, result.stderr
    stored = keyring.get_password("voucherctl", f"spaaza/{stubs.SPAAZA}/114521/session")
    assert json.loads(stored or "{}")["user_id"] == "114521"


# -- headers that cannot be sent ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("VOUCHERCTL_SPAAZA_USER_ID", '1001"\n2'),
        ("VOUCHERCTL_SPAAZA_SESSION_KEY", "canary-session\r\nX-Injected: 1"),
        ("VOUCHERCTL_SPAAZA_SESSION_KEY", "canary-session-€"),
    ],
)
def test_credentials_no_header_can_carry_are_exit_4_and_never_an_unknown_outcome(
    cli, rsps, monkeypatch, variable, value
) -> None:
    """Caught: unlock with such a session exited 7 saying the change may have been made,
    though requests refused the header before anything left the machine. No stub: strict
    stubs fail the test if a request is sent."""
    stubs.use_admin_session(monkeypatch)
    monkeypatch.setenv(variable, value)

    result = cli("unlock", "--voucher-id", "35735")

    assert result.exit_code == ExitCode.AUTH, result.stderr
    line = one_error_line(result.stderr)
    assert "unlock voucher 35735: the Spaaza credentials (" in line
    assert "nothing was sent; run 'voucherctl auth login spaaza'" in line
    assert "may or may not" not in line
    assert "canary" not in line and "Injected" not in line


@pytest.mark.parametrize("change", [True, False])
@pytest.mark.parametrize("value", ["a\r\nX-Injected: 1", " leading", "ok\n", "price-€"])
def test_any_header_no_request_can_carry_is_refused_before_sending(rsps, change, value) -> None:
    """The transport itself: whatever header a client passes, exit 2 and nothing sent, where
    requests' InvalidHeader (or http.client's UnicodeEncodeError) used to be told as a network
    failure, 'the change may or may not have been made' (exit 7), after three tries."""
    http = HttpClient(timeout=1, max_wait=1)

    with pytest.raises(UsageError) as refused:
        http.request(
            "POST",
            f"{stubs.SPAAZA}/lock-voucher",
            what="lock voucher 1",
            change=change,
            headers={"X-Spaaza-MyPrice-App-Hostname": value},
        )

    assert refused.value.exit_code == ExitCode.USAGE
    assert refused.value.message == (
        "lock voucher 1: the X-Spaaza-MyPrice-App-Hostname header would hold a line break or "
        "another character no HTTP header carries; nothing was sent: check the setting or "
        "variable it comes from"
    )


@pytest.mark.parametrize("flag", ["--session", "--token"])
def test_a_session_key_or_token_no_header_can_carry_is_refused_before_sending(
    cli, rsps, flag
) -> None:
    """Caught: such a key was sent to be checked, and the failure was told as Spaaza refusing
    it (exit 4) though it never left the machine."""
    extra = ("--session-user-id", "1001") if flag == "--session" else ()
    args = ("auth", "login", "spaaza", "--host", stubs.SPAAZA, "--insecure-storage", flag)

    result = cli(*args, *extra, input="canary key 0001\n")

    assert result.exit_code == ExitCode.USAGE, result.stderr
    assert "must be a single word of printable ASCII (no spaces); nothing was sent" in (
        one_error_line(result.stderr)
    )


# -- stdin closed ---------------------------------------------------------------------------------


def test_a_login_with_stdin_closed_is_a_usage_error(tmp_path) -> None:
    """Caught: ``<&-`` ended in "unexpected error: OSError" (exit 1). The installed CLI, started
    by the shell with no file descriptor 0 at all; nothing listens on the host's port 9."""
    login = ("auth", "login", "spaaza", "--host", "http://127.0.0.1:9", "--insecure-storage")
    done = subprocess.run(
        ["sh", "-c", 'exec "$@" <&-', "sh", VOUCHERCTL, *login, "--username", USER],
        env=base_environment(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert done.returncode == ExitCode.USAGE, done.stderr
    assert done.stderr == (
        "voucherctl: error: no password given: stdin is closed; pipe it on stdin or run on a "
        "terminal\n"
    )
    assert done.stdout == ""
