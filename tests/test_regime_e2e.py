"""End to end against ``voucherctl sandbox serve`` run with SPiD's regime: a quota, signed
answers, short-lived tokens, and more voucher groups than one page holds.

Nothing here is timed: the assertions count requests, refusals, outcomes and vouchers.
"""

import json
import sqlite3
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.sandbox_process import SandboxProcess
from voucherctl.api.spid.client import SpidClient
from voucherctl.api.transport.http import HttpClient
from voucherctl.core.errors import ExitCode, VoucherctlError
from voucherctl.sandbox import SANDBOX, SandboxOptions, ensure_state, start_background
from voucherctl.secrets.sets import MemoryTokenCache, SpidCredentials

GROUP = SANDBOX.spid_handout_group_id
SIGN_SECRET = "canary-sign-secret-0001"
EXTRA_GROUPS = 1500  # a page holds 1000


def refused(server: SandboxProcess) -> int:
    """Requests the sandbox refused for the quota (420), from its --log."""
    return sum('" 420 ' in line for line in server.logged())


def token_requests(server: SandboxProcess) -> int:
    return sum('"POST /oauth/token" 200' in line for line in server.logged())


def users_file(path: Path, users: range) -> Path:
    path.write_text("userId,voucherGroupId\n" + "".join(f"{u},{GROUP}\n" for u in users))
    return path


def records(stdout: str) -> list[dict]:
    return [json.loads(line) for line in stdout.splitlines()]


def vouchers_of(server: SandboxProcess, users: range) -> Counter[int]:
    rows = server.query(
        "select user_id, count(*) from spid_voucher where user_id between ? and ? group by user_id",
        users.start,
        users.stop - 1,
    )
    return Counter(dict(rows))


# -- paging, filters, signed answers -------------------------------------------------------


@pytest.fixture(scope="module")
def many_groups(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxProcess]:
    """A signing sandbox over a state file with 1500 more groups, every tenth of type 6."""
    state = tmp_path_factory.mktemp("groups") / "state.sqlite3"
    ensure_state(state)
    with sqlite3.connect(state) as db:
        db.executemany(
            "insert into spid_group (id, client_id, title, created, updated, is_unique, type,"
            " handouts_enabled, campaign_id) values (?, ?, ?, '2024-01-01 00:00:00',"
            " '2024-01-01 00:00:00', '1', ?, 1, ?)",
            [
                (900_000 + n, SANDBOX.spid_client_id, f"Paging group {n}", "6" if n % 10 else "3",
                 str(n % 7 + 1))
                for n in range(EXTRA_GROUPS)
            ],
        )  # fmt: skip
        seeded = db.execute("select count(*) from spid_group").fetchone()[0] - EXTRA_GROUPS
    server = SandboxProcess(state, "--sign-secret", SIGN_SECRET)
    server.seeded_groups = seeded  # type: ignore[attr-defined]
    yield server
    server.stop()


def test_groups_lists_every_page_of_signed_answers(many_groups) -> None:
    """The CLI has no sign secret yet (the variable is another change's): the signed pages
    are decoded and listed, every one of them."""
    done = many_groups.run("groups", "-o", "json")

    assert done.exit_code == 0, done.stderr
    groups = json.loads(done.stdout)
    assert len(groups) == many_groups.seeded_groups + EXTRA_GROUPS
    assert len({g["voucherGroupId"] for g in groups}) == len(groups)
    assert {"47", "900000", "901499"} <= {g["voucherGroupId"] for g in groups}


def test_groups_filters_are_spids(many_groups) -> None:
    by_title = many_groups.run("groups", "--title", "Paging group 1234", "-o", "json")
    giveaways = many_groups.run("groups", "--type", "giveaway", "-o", "json")
    both = many_groups.run("groups", "--type", "3", "--campaign-id", "4", "-o", "json")
    part_of_a_title = many_groups.run("groups", "--title", "Paging group", "-o", "json")

    assert [g["voucherGroupId"] for g in json.loads(by_title.stdout)] == ["901234"]
    assert {g["type"] for g in json.loads(giveaways.stdout)} == {"3"}
    assert len(json.loads(giveaways.stdout)) >= EXTRA_GROUPS // 10
    assert {(g["type"], g["campaignId"]) for g in json.loads(both.stdout)} == {("3", "4")}
    assert (part_of_a_title.exit_code, part_of_a_title.stdout) == (0, "[]\n")  # exact match


def test_signed_answers_verify_with_the_servers_secret_and_fail_with_another(
    tmp_path: Path,
) -> None:
    """The client against the real signing server, with the sign secret the credentials will
    carry once the variable is read: verified with the right one; with a wrong one a read is
    exit 1 and a handout exit 7, although the server made it."""
    state = tmp_path / "state.sqlite3"
    with start_background(state, SandboxOptions(sign_secret=SIGN_SECRET)) as running:

        def client(secret: str) -> SpidClient:
            credentials = SpidCredentials(
                source="test",
                client_id=SANDBOX.spid_client_id,
                client_secret=SANDBOX.spid_client_secret,
                cache=MemoryTokenCache(),
                sign_secret=secret,
            )
            return SpidClient(HttpClient(timeout=10, max_wait=60), running.url, credentials)

        right, wrong = client(SIGN_SECRET), client("canary-wrong-sign-secret")
        assert right.voucher(SANDBOX.spid_voucher_code)["voucherCode"] == "64-HB2I-OPBL"
        assert right.handout("100001", GROUP)["success"] is True
        assert right.signatures_seen == {"verified"}
        with pytest.raises(VoucherctlError) as read:
            wrong.voucher(SANDBOX.spid_voucher_code)
        with pytest.raises(VoucherctlError) as change:
            wrong.handout("100002", GROUP)

    assert read.value.exit_code == ExitCode.ERROR
    assert change.value.exit_code == ExitCode.OUTCOME_UNKNOWN
    with sqlite3.connect(state) as db:
        made = db.execute("select count(*) from spid_voucher where user_id = 100002").fetchone()
    assert made == (1,)  # the change was made: "unknown" was the honest outcome


def test_doctor_says_answers_are_signed_but_not_verified(many_groups) -> None:
    done = many_groups.run("doctor", "-o", "json")

    checks = {check["name"]: check for check in json.loads(done.stdout)["checks"]}
    assert done.exit_code == 0, done.stdout
    assert checks["spid signatures"]["detail"].startswith(
        "SPiD's answers are signed (HMAC-SHA256) but not verified: no sign secret is known"
    )


def test_doctor_says_answers_are_not_signed(tmp_path: Path) -> None:
    server = SandboxProcess(tmp_path / "state.sqlite3")
    try:
        done = server.run("doctor", "-o", "json")
    finally:
        server.stop()

    checks = {check["name"]: check for check in json.loads(done.stdout)["checks"]}
    assert checks["spid signatures"] == {
        "name": "spid signatures",
        "ok": True,
        "detail": "SPiD's answers are not signed",
        "exit_code": 0,
    }


# -- the quota -----------------------------------------------------------------------------


def test_a_bulk_run_paces_itself_on_the_quota_and_meets_no_420(tmp_path: Path) -> None:
    """Catches pacing that only reacts to refusals: 25 handouts through a quota of 10 a 2 s
    window, 4 at a time, all go through and the sandbox refuses none."""
    log = tmp_path / "sandbox.log"
    server = SandboxProcess(
        tmp_path / "state.sqlite3", "--quota", "10", "--quota-window", "2", "--log", log=log
    )
    users = range(105000, 105025)
    try:
        done = server.run(
            "handout", "--from", str(users_file(tmp_path / "u.csv", users)),
            "--concurrency", "4", "--max-wait", "5",
        )  # fmt: skip
        assert done.exit_code == 0, done.stderr
        assert {r["outcome"] for r in records(done.stdout)} == {"ok"}
        assert refused(server) == 0
        assert vouchers_of(server, users) == Counter({u: 1 for u in users})
    finally:
        server.stop()


def test_a_quota_spent_beyond_max_wait_stops_the_run_and_the_next_run_goes_on(
    tmp_path: Path,
) -> None:
    """Catches rows sent into a spent quota (each meeting a 420) when it resets later than
    --max-wait: the rows the quota takes are made, no more rows start, the run exits 6 saying
    when the quota resets; run again after the reset, it goes on where it stopped."""
    log = tmp_path / "sandbox.log"
    server = SandboxProcess(
        tmp_path / "state.sqlite3", "--quota", "5", "--quota-window", "2", "--log", log=log
    )
    users = range(106000, 106012)
    command = (
        "handout", "--from", str(users_file(tmp_path / "u.csv", users)), "--concurrency", "2",
    )  # fmt: skip
    try:
        done = server.run(*command, "--max-wait", "0.1")
        rows = records(done.stdout)
        kinds = Counter(r["outcome"] for r in rows)
        assert done.exit_code == 6, done.stderr
        # 5 a window. The pacer errs on the safe side when answers cross in flight, and on a
        # slow machine a window may end mid-run: the count of rows made varies, what holds is
        # that only rows in flight meet the spent quota, and nothing is lost or doubled.
        assert kinds["ok"] >= 1 and kinds["failed"] <= 2, (kinds, done.stderr)
        assert "quota is spent until" in done.stderr and "not started" in done.stderr
        assert refused(server) == 0
        assert sum(vouchers_of(server, users).values()) == kinds["ok"]

        rest = server.run(*command, "--max-wait", "5")  # waits for each window's reset
        assert rest.exit_code == 0, rest.stderr
        assert vouchers_of(server, users) == Counter({u: 1 for u in users})
        # A new run knows nothing of the quota until its first answers: at most the rows in
        # flight meet a 420, which is waited out and resent (the server made nothing).
        assert refused(server) <= 2
    finally:
        server.stop()


def test_a_run_longer_than_its_tokens_renews_them(tmp_path: Path) -> None:
    """Tokens of 2 s, a run of over 2 s (40 handouts, 2 at a time, 100 ms each): renewed on
    the way, and every row goes through."""
    log = tmp_path / "sandbox.log"
    server = SandboxProcess(
        tmp_path / "state.sqlite3", "--token-ttl", "2", "--latency", "100", "--log", log=log
    )
    users = range(107000, 107040)
    try:
        done = server.run(
            "handout", "--from", str(users_file(tmp_path / "u.csv", users)),
            "--concurrency", "2",
        )  # fmt: skip
        assert done.exit_code == 0, done.stderr
        assert {r["outcome"] for r in records(done.stdout)} == {"ok"}
        assert token_requests(server) >= 2
        assert vouchers_of(server, users) == Counter({u: 1 for u in users})
    finally:
        server.stop()
