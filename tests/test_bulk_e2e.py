"""Bulk runs against the real sandbox: kills, resumes, rate limits and failures."""

import json
import random
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.sandbox_process import VOUCHERCTL, SandboxProcess
from voucherctl.sandbox import SANDBOX

GROUP = SANDBOX.spid_handout_group_id


@pytest.fixture
def slow_sandbox(tmp_path: Path) -> Iterator[SandboxProcess]:
    server = SandboxProcess(tmp_path / "state.sqlite3", "--latency", "40")
    yield server
    server.stop()


def users_file(path: Path, users: range) -> Path:
    path.write_text("userId,voucherGroupId\n" + "".join(f"{u},{GROUP}\n" for u in users))
    return path


def vouchers_per_user(sandbox: SandboxProcess, users: range) -> Counter[int]:
    rows = sandbox.query(
        "select user_id, count(*) from spid_voucher where user_id between ? and ? group by user_id",
        users.start,
        users.stop - 1,
    )
    return Counter(dict(rows))


def test_killed_runs_resumed_never_give_anyone_a_second_voucher(slow_sandbox, tmp_path) -> None:
    users = range(101000, 101400)
    source = users_file(tmp_path / "users.csv", users)
    journal = tmp_path / "journal.jsonl"
    command = [
        VOUCHERCTL,
        "handout",
        "--from",
        str(source),
        "--journal",
        str(journal),
        "--concurrency",
        "8",
        "-q",
    ]
    rng = random.Random(7)

    for _ in range(3):
        process = subprocess.Popen(
            command,
            env=slow_sandbox.environment(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(rng.uniform(0.6, 1.6))
        process.send_signal(signal.SIGKILL)
        process.wait()

    final = slow_sandbox.run(
        "handout", "--from", str(source), "--journal", str(journal), "--concurrency", "8"
    )

    outcomes = {r["line"]: r for r in map(json.loads, final.stdout.splitlines())}
    assert sorted(outcomes) == list(range(2, 2 + len(users)))  # every row accounted for
    kinds = Counter(r["outcome"] for r in outcomes.values())
    assert set(kinds) <= {"ok", "skipped", "unknown"}
    assert kinds["skipped"] > 0
    per_user = vouchers_per_user(slow_sandbox, users)
    assert max(per_user.values()) == 1
    for record in outcomes.values():
        user = int(record["input"]["userId"])
        if record["outcome"] in ("ok", "skipped"):
            assert per_user[user] == 1
    assert final.exit_code == (8 if kinds["unknown"] else 0)


def test_sigterm_finishes_rows_in_flight_and_exits_130(slow_sandbox, tmp_path) -> None:
    users = range(102000, 102300)
    source = users_file(tmp_path / "users.csv", users)
    journal = tmp_path / "journal.jsonl"
    process = subprocess.Popen(
        [VOUCHERCTL, "handout", "--from", str(source), "--journal", str(journal)],
        env=slow_sandbox.environment(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(1.0)
    process.send_signal(signal.SIGTERM)
    stdout, stderr = process.communicate(timeout=30)

    assert process.returncode == 130
    printed = [json.loads(line) for line in stdout.splitlines()]
    assert len(printed) == len(users)  # every row prints, those not started too
    records = [r for r in printed if (r["error"] or {}).get("api_error") != "not_started"]
    assert records and {r["outcome"] for r in records} == {"ok"}  # in-flight rows finished
    assert {r["outcome"] for r in printed if r not in records} <= {"skipped"}
    assert "not started" in stderr
    per_user = vouchers_per_user(slow_sandbox, users)
    assert sum(per_user.values()) == len(records)

    resumed = slow_sandbox.run("handout", "--from", str(source), "--journal", str(journal))
    assert resumed.exit_code == 0
    assert vouchers_per_user(slow_sandbox, users) == Counter({u: 1 for u in users})


def test_injected_server_errors_leave_rows_failed_or_unknown_never_doubled(tmp_path) -> None:
    server = SandboxProcess(tmp_path / "state.sqlite3", "--fail-rate", "0.3", "--seed", "3")
    try:
        users = range(103000, 103100)
        source = users_file(tmp_path / "users.csv", users)
        done = server.run("handout", "--from", str(source), "--concurrency", "4")
        kinds = Counter(json.loads(line)["outcome"] for line in done.stdout.splitlines())
        per_user = vouchers_per_user(server, users)
    finally:
        server.stop()

    assert done.exit_code == 8
    assert kinds["ok"] + kinds["unknown"] + kinds["failed"] == 100
    assert kinds["unknown"] > 0  # a 5xx answering a handout: outcome unknown, not resent
    assert max(per_user.values()) == 1
    assert sum(per_user.values()) == kinds["ok"]  # the sandbox fails before changing anything


def test_a_spent_quota_stops_the_run_with_exit_6_and_no_row_is_doubled(tmp_path) -> None:
    server = SandboxProcess(tmp_path / "state.sqlite3", "--rate-limit", "20")
    try:
        users = range(104000, 104030)
        source = users_file(tmp_path / "users.csv", users)
        # The quota resets a minute after it began: further than --max-wait, so no waiting.
        done = server.run("handout", "--from", str(source), "--concurrency", "2", "--max-wait", "1")
        records = [json.loads(line) for line in done.stdout.splitlines()]
        per_user = vouchers_per_user(server, users)
    finally:
        server.stop()

    kinds = Counter(r["outcome"] for r in records)
    assert done.exit_code == 6, done.stderr
    assert 10 <= kinds["ok"] < 30
    assert kinds["failed"] <= 2  # only rows already in flight (--concurrency 2) meet it
    assert {r["exit_code"] for r in records if r["outcome"] != "ok"} <= {6}
    assert "quota is spent until" in done.stderr and "not started" in done.stderr
    assert sum(per_user.values()) == kinds["ok"]
    assert max(per_user.values()) == 1
