"""Regressions that a mutation review found the suite let through, one test per bug.

Each test goes through the user-facing surface only: the CLI in-process or as the installed
command, strict ``responses`` stubs, or a real server on loopback. None imports voucherctl's
private helpers, so they hold while the modules behind them are renamed.
"""

import json
import signal
import subprocess
import threading
from collections import Counter
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs

import pytest

from tests import spaaza_stubs, spid_stubs
from tests.conftest import fixture_json, spid_container
from tests.hostile_server import Exchange, Fault, HostileServer, Request, reply
from tests.sandbox_process import VOUCHERCTL, base_environment, run_cli

CLAIMED = fixture_json("spaaza_claim_voucher.json")["results"]
HANDOUT_PATH = "/api/2/voucher_handout"
TOKEN_ANSWER = {
    "access_token": "canary-regression-token-0001",
    "expires_in": 604800,
    "scope": None,
    "user_id": False,
    "is_admin": False,
    "token_type": "Bearer",
    "server_time": 1700000000,
}
HANDED_OUT = spid_container({"success": True}, obj="Success")
SAFETY = 10.0  # seconds: only a broken run waits this long, never a passing one


def records(stdout: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stdout.splitlines()]


def handout_user(request: Request) -> str:
    return parse_qs(request.body.decode())["userId"][0]


def spid_server(handout: Fault | None = None) -> HostileServer:
    """A SPiD on loopback: tokens for anyone, every handout answered ``handout`` (default ok)."""

    def route(request: Request) -> Fault:
        if request.path == "/oauth/token":
            return reply(200, TOKEN_ANSWER)
        if request.path == HANDOUT_PATH:
            return handout or reply(200, HANDED_OUT)
        return reply(404, spid_container(None, code=404, error="no such endpoint"))

    return HostileServer(route)


@pytest.fixture
def spid_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Point the in-process CLI at a loopback SPiD made by the returned function."""
    servers: list[HostileServer] = []

    def start(handout: Fault | None = None) -> HostileServer:
        server = spid_server(handout)
        servers.append(server)
        spid_stubs.use_client_credentials(monkeypatch)
        monkeypatch.setenv("VOUCHERCTL_SPID_URL", server.url)
        return server

    yield start
    for server in servers:
        server.close()


def test_audit_since_and_until_leave_out_changes_outside_them(
    cli, rsps, monkeypatch, isolated_environment
) -> None:
    """Catches ``voucherctl audit --since``/``--until`` being ignored (every entry listed
    whatever its time)."""
    spaaza_stubs.use_admin_session(monkeypatch)
    spaaza_stubs.claim_voucher(
        rsps, {"voucher_id": "35735", "user_id": "5", "chain_id": "3"}, spaaza_stubs.ok(CLAIMED)
    )
    # An older change, recorded by an earlier version in its audit log, imported once.
    data = isolated_environment / "data"
    data.mkdir(parents=True, exist_ok=True)
    older = {
        "time": "2019-05-01T10:00:00Z",
        "change": "old",
        "user": "ann",
        "profile": "default",
        "host": "https://api.spaaza.com",
        "command": "claim",
        "identifiers": {"voucher_id": "111"},
        "outcome": "ok",
    }
    (data / "audit.jsonl").write_text(json.dumps(older) + "\n", encoding="utf-8")
    assert cli("claim", "--voucher-id", "35735", "--user-id", "5").exit_code == 0

    def listed(*since: str) -> list[str]:
        result = cli("audit", *since, "-o", "jsonl")
        assert result.exit_code == 0, result.stderr
        return [r["identifiers"]["voucher_id"] for r in records(result.stdout)]

    assert listed() == ["35735", "111"]  # newest first
    assert listed("--since", "2018-06-01") == ["35735", "111"]
    assert listed("--since", "7d") == ["35735"]
    assert listed("--since", "2020-01-01") == ["35735"]
    assert listed("--until", "2020-01-01") == ["111"]
    assert listed("--until", "1d") == ["111"]
    assert listed("--since", "2018-06-01", "--until", "2019-06-01") == ["111"]


def test_a_kill_while_a_request_is_in_flight_leaves_it_unknown_and_never_resent(
    tmp_path,
) -> None:
    """Catches a run killed -9 with a request in flight: the next run must find the row unknown
    (sent, no outcome) and not send it again, and not be refused as a run still in use.

    A handout sent a second time is a second voucher.
    """
    held = threading.Event()
    hold_user = "4"
    sent: Counter[str] = Counter()
    lock = threading.Lock()

    def handout(exchange: Exchange) -> None:
        user = handout_user(exchange.request)
        with lock:
            sent[user] += 1
        if user == hold_user and not held.is_set():
            held.set()
            exchange.stopping.wait(SAFETY)  # no answer: the client is killed meanwhile
            return
        reply(200, HANDED_OUT)(exchange)

    server = spid_server(handout)
    env = base_environment(tmp_path / "home")
    env.update(
        VOUCHERCTL_SPID_URL=server.url,
        VOUCHERCTL_SPID_CLIENT_ID=spid_stubs.CLIENT_ID,
        VOUCHERCTL_SPID_CLIENT_SECRET=spid_stubs.CLIENT_SECRET,
    )
    source = tmp_path / "users.csv"
    command = ["handout", "--from", str(source), "--run", "monthly", "--concurrency", "1"]
    try:
        source.write_text("userId,voucherGroupId\n1,47\n2,47\n3,47\n")
        first = run_cli(*command, env=env)
        assert first.exit_code == 0, first.stderr

        # The next run sends a new row (user 4) and is killed while that request is in flight.
        source.write_text("userId,voucherGroupId\n1,47\n2,47\n3,47\n4,47\n")
        process = subprocess.Popen(
            [VOUCHERCTL, *command],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            assert held.wait(SAFETY), "the resumed run never sent user 4's handout"
        finally:
            process.send_signal(signal.SIGKILL)
            process.wait()

        last_run = run_cli(*command, env=env)
    finally:
        server.close()

    outcomes = {r["input"]["userId"]: r["outcome"] for r in records(last_run.stdout)}
    assert outcomes == {"1": "skipped", "2": "skipped", "3": "skipped", "4": "unknown"}
    assert sent == {"1": 1, "2": 1, "3": 1, "4": 1}  # nobody's handout sent twice
    assert last_run.exit_code == 8, last_run.stderr


@pytest.mark.parametrize(
    "hostname",
    ["shop example.com", "shöp.example.com", "shop.example.com\x1b[2J", "shop.example\r\nX-A: b"],
)
def test_the_app_hostname_header_is_sent_only_when_configured_and_only_if_valid(
    cli, rsps, monkeypatch, isolated_environment, hostname
) -> None:
    """Catches the Spaaza connection no longer checking the app hostname before it goes into
    the X-Spaaza-MyPrice-App-Hostname header; and the header being sent unless one is set."""
    monkeypatch.setenv("VOUCHERCTL_SPAAZA_URL", spaaza_stubs.SPAAZA)
    monkeypatch.setenv("VOUCHERCTL_SPAAZA_TOKEN", spaaza_stubs.PRIVILEGED_TOKEN)
    monkeypatch.setenv("VOUCHERCTL_SPAAZA_CHAIN_ID", "3")
    privileged = {
        "Authorization": f"Bearer {spaaza_stubs.PRIVILEGED_TOKEN}",
        "X-Spaaza-API-Version": spaaza_stubs.API_VERSION,
    }
    form = {"voucher_id": "35735", "user_id": "5", "chain_id": "3"}
    claim = ("claim", "--voucher-id", "35735", "--user-id", "5")
    answer = spaaza_stubs.ok(CLAIMED)

    # None configured: no header at all.
    no_session = ("X-Spaaza-Session-Key",)
    spaaza_stubs.claim_voucher(
        rsps,
        form,
        answer,
        headers=privileged,
        absent=("X-Spaaza-MyPrice-App-Hostname", *no_session),
    )
    assert cli(*claim).exit_code == 0

    def claims_with_app_hostname(name: str) -> None:
        headers = {**privileged, "X-Spaaza-MyPrice-App-Hostname": name}
        spaaza_stubs.claim_voucher(rsps, form, answer, headers=headers, absent=no_session)
        assert cli(*claim).exit_code == 0

    # Configured in the profile, then by the variable (which wins): sent as configured.
    config = isolated_environment / "config" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text('[profiles.default.spaaza]\napp_hostname = "profile.example.com"\n')
    claims_with_app_hostname("profile.example.com")
    monkeypatch.setenv("VOUCHERCTL_SPAAZA_APP_HOSTNAME", "shop.example.com")
    claims_with_app_hostname("shop.example.com")

    # Not a host name, from either place: a usage error, and nothing is sent.
    monkeypatch.setenv("VOUCHERCTL_SPAAZA_APP_HOSTNAME", hostname)
    from_variable = cli(*claim)
    monkeypatch.delenv("VOUCHERCTL_SPAAZA_APP_HOSTNAME")
    config.write_text(f"[profiles.default.spaaza]\napp_hostname = {json.dumps(hostname)}\n")
    from_profile = cli(*claim)

    for result in (from_variable, from_profile):
        assert result.exit_code == 2, result.stderr
        assert "is not a host name" in result.stderr
    assert len(rsps.calls) == 3  # the three good claims; none with the bad hostname


def test_a_claim_with_no_answer_is_settled_from_the_users_vouchers_without_resending(
    cli, rsps, monkeypatch, tmp_path
) -> None:
    """Catches bulk runs no longer settling a row: a claim whose first attempt got no answer is
    found claimed in the user's vouchers on the next run and reported ok, and is not resent."""
    spaaza_stubs.use_admin_session(monkeypatch)
    source = tmp_path / "claims.csv"
    source.write_text("voucher_id,user_id\n35735,1107604\n")
    form = {"voucher_id": "35735", "user_id": "1107604", "chain_id": "3"}
    command = ("claim", "--from", str(source), "--journal", str(tmp_path / "journal.jsonl"))

    # The first attempt: the gateway answers 502 with a page, so the claim may have been made.
    spaaza_stubs.claim_voucher(rsps, form, "<html>502 Bad Gateway</html>", status=502)
    first = cli(*command)
    assert first.exit_code == 8, first.stderr
    assert [r["outcome"] for r in records(first.stdout)] == ["unknown"]

    # The next run reads the user's vouchers: claimed, so it went through; nothing is resent.
    spaaza_stubs.get_user_vouchers(
        rsps,
        {"user_id": "1107604", "chain_id": "3"},
        spaaza_stubs.ok({"vouchers": [{**CLAIMED, "voucher_id": 1}, CLAIMED]}),
    )
    second = cli(*command)

    assert second.exit_code == 0, second.stderr
    [row] = records(second.stdout)
    assert row["outcome"] == "ok"
    assert row["result"]["voucher_id"] == 35735
    assert row["result"]["voucher_status"] == "claimed"
    assert [call.request.method for call in rsps.calls[1:]] == ["GET"]


def test_an_unknown_claim_is_resent_only_with_retry_unknown_and_settled_when_refused(
    cli, rsps, monkeypatch, tmp_path
) -> None:
    """An unknown claim the user's vouchers do not show as claimed stays unknown (not resent);
    with --retry-unknown it is resent, and a refusal as claimed already is settled as ok."""
    spaaza_stubs.use_admin_session(monkeypatch)
    source = tmp_path / "claims.csv"
    source.write_text("voucher_id,user_id\n35735,1107604\n")
    form = {"voucher_id": "35735", "user_id": "1107604", "chain_id": "3"}
    query = {"user_id": "1107604", "chain_id": "3"}
    offered = spaaza_stubs.ok({"vouchers": [{**CLAIMED, "voucher_status": "generated"}]})
    command = ("claim", "--from", str(source), "--journal", str(tmp_path / "journal.jsonl"))
    spaaza_stubs.claim_voucher(rsps, form, "<html>502 Bad Gateway</html>", status=502)
    assert cli(*command).exit_code == 8

    spaaza_stubs.get_user_vouchers(rsps, query, offered)
    second = cli(*command)
    assert second.exit_code == 8
    assert [r["outcome"] for r in records(second.stdout)] == ["unknown"]
    assert "--retry-unknown" in records(second.stdout)[0]["error"]["message"]

    spaaza_stubs.get_user_vouchers(rsps, query, offered)
    spaaza_stubs.claim_voucher(
        rsps,
        form,
        spaaza_stubs.error(909, "voucher_already_claimed", "Voucher has already been claimed"),
        status=409,
    )
    spaaza_stubs.get_user_vouchers(rsps, query, spaaza_stubs.ok({"vouchers": [CLAIMED]}))
    third = cli(*command, "--retry-unknown")
    assert third.exit_code == 0, third.stderr
    assert [r["outcome"] for r in records(third.stdout)] == ["ok"]


def test_an_unclaim_with_no_answer_is_settled_by_the_vouchers_state(
    cli, rsps, monkeypatch, tmp_path
) -> None:
    """An unclaim row whose attempt got no answer, but which took effect, is ok on the next run
    (the voucher is offered to the user again), not failed as "not claimed"."""
    spaaza_stubs.use_admin_session(monkeypatch)
    source = tmp_path / "unclaims.csv"
    source.write_text("voucher_id,user_id\n35735,1107604\n")
    form = {"voucher_id": "35735", "user_id": "1107604", "chain_id": "3"}
    command = ("unclaim", "--from", str(source), "--journal", str(tmp_path / "journal.jsonl"))
    spaaza_stubs.unclaim_voucher(rsps, form, "<html>504 Gateway Timeout</html>", status=504)
    assert cli(*command).exit_code == 8

    generated = {**CLAIMED, "voucher_status": "generated"}
    spaaza_stubs.get_user_vouchers(
        rsps, {"user_id": "1107604", "chain_id": "3"}, spaaza_stubs.ok({"vouchers": [generated]})
    )
    second = cli(*command)

    assert second.exit_code == 0, second.stderr
    assert [r["outcome"] for r in records(second.stdout)] == ["ok"]


def test_concurrency_bounds_the_requests_in_flight(cli, spid_env, tmp_path) -> None:
    """Catches ``--concurrency N`` not bounding a bulk run's requests in flight to N.

    The server holds each handout until N are in flight, then a moment longer to let an extra
    one arrive, answering at once if one does; so a run within its bound peaks at exactly N.
    """
    bound, rows, grace = 2, 6, 0.3
    state = {"in_flight": 0, "peak": 0, "arrived": 0}
    changed = threading.Condition()

    def counted(exchange: Exchange) -> None:
        with changed:
            state["in_flight"] += 1
            state["arrived"] += 1
            state["peak"] = max(state["peak"], state["in_flight"])
            changed.notify_all()
            changed.wait_for(
                lambda: state["in_flight"] >= bound or state["arrived"] == rows, SAFETY
            )
            changed.wait_for(lambda: state["in_flight"] > bound, grace)
            state["in_flight"] -= 1
        reply(200, HANDED_OUT)(exchange)

    server = spid_env(counted)
    source = tmp_path / "users.csv"
    source.write_text("userId,voucherGroupId\n" + "".join(f"{u},47\n" for u in range(1, rows + 1)))

    result = cli("handout", "--from", str(source), "--concurrency", str(bound))

    assert result.exit_code == 0, result.stderr
    assert len(server.requests_to(HANDOUT_PATH)) == rows
    assert state["peak"] == bound, f"{state['peak']} requests in flight with --concurrency {bound}"
