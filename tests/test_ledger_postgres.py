"""The ledger on a real PostgreSQL server shared by two "machines" (two data and config
directories): the guard across runs and machines, run locks that die with their holder, a
connection lost mid-run, migrations, and moving a machine's history into the team's ledger."""

import json
import re
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.postgres_server import PostgresServer
from tests.sandbox_process import VOUCHERCTL, SandboxProcess, run_cli, users_file, vouchers_per_user
from voucherctl.sandbox import SANDBOX

GROUP = SANDBOX.spid_handout_group_id


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    server = PostgresServer()
    yield server
    server.stop()


@pytest.fixture
def team_ledger(postgres: PostgresServer, request: pytest.FixtureRequest) -> str:
    """A fresh database on the shared server, as a VOUCHERCTL_LEDGER URL."""
    name = "t_" + re.sub(r"\W", "_", request.node.name).lower()[:50] + f"_{time.time_ns() % 10**6}"
    return postgres.create_database(name)


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[SandboxProcess]:
    server = SandboxProcess(tmp_path / "state.sqlite3", "--latency", "20")
    yield server
    server.stop()


def machine(sandbox: SandboxProcess, home: Path, ledger: str) -> dict[str, str]:
    """The environment of one machine of the team: its own data and config directories."""
    env = sandbox.environment()
    env.update(
        VOUCHERCTL_DATA_DIR=str(home / "data"),
        VOUCHERCTL_CONFIG_DIR=str(home / "config"),
        VOUCHERCTL_LEDGER=ledger,
    )
    return env


def outcomes(stdout: str) -> Counter[str]:
    return Counter(json.loads(line)["outcome"] for line in stdout.splitlines())


def start(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [VOUCHERCTL, *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def query(url: str, sql: str, *params: object) -> list[tuple[object, ...]]:
    import psycopg

    with psycopg.connect(url, autocommit=True) as db:
        return [tuple(row) for row in db.execute(sql, params).fetchall()]


def wait_for_change(url: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if query(url, "select count(*) from changes") != [(0,)]:
                return
        except Exception:  # the tables are not made yet
            pass
        time.sleep(0.05)
    raise AssertionError("no change was recorded")


def test_two_machines_sharing_a_ledger_never_send_a_row_twice(
    sandbox, tmp_path, team_ledger
) -> None:
    """Catches machines sharing nothing: a colleague's desk (or a second cron host) running a
    file with 100 rows in common, at the same time, gave those users a second voucher; and
    `audit` on one machine not knowing what the other did."""
    first = users_file(tmp_path / "a.csv", list(range(105000, 105150)))
    second = users_file(tmp_path / "b.csv", list(range(105050, 105200)))
    desks = [machine(sandbox, tmp_path / name, team_ledger) for name in ("desk-a", "desk-b")]
    runs = [
        start(env, "handout", "--from", str(path), "--concurrency", "8")
        for env, path in zip(desks, (first, second), strict=True)
    ]
    done = [run.communicate(timeout=300) for run in runs]

    for run, (_, stderr) in zip(runs, done, strict=True):
        assert run.returncode == 0, stderr
    assert outcomes(done[0][0]) + outcomes(done[1][0]) == Counter({"ok": 200, "skipped": 100})
    users = list(range(105000, 105200))
    assert vouchers_per_user(sandbox, users) == Counter(dict.fromkeys(users, 1))
    audited = json.loads(run_cli("audit", "-o", "json", env=desks[1]).stdout)
    assert len(audited) == 200 and {e["outcome"] for e in audited} == {"ok"}
    assert not list(tmp_path.glob("desk-*/**/ledger.sqlite3"))  # one ledger: the team's


def test_a_run_killed_on_one_machine_is_free_for_another(sandbox, tmp_path, team_ledger) -> None:
    """Catches a run lock that outlives its holder (a killed process, a dead machine), and a
    run in use on one machine being run at once from another."""
    slow = SandboxProcess(tmp_path / "slow.sqlite3", "--latency", "400")
    users = list(range(105300, 105320))
    source = users_file(tmp_path / "u.csv", users)
    args = ("handout", "--from", str(source), "--run", "nov", "--concurrency", "1")
    try:
        desk_a = machine(slow, tmp_path / "desk-a", team_ledger)
        desk_b = machine(slow, tmp_path / "desk-b", team_ledger)
        running = start(desk_a, *args)
        wait_for_change(team_ledger)
        refused = run_cli(*args, "-o", "json", env=desk_b)
        deadline = time.monotonic() + 30  # kill it with a request in flight
        while not query(team_ledger, "select id from changes where outcome = 'sent'"):
            assert time.monotonic() < deadline
        running.send_signal(signal.SIGKILL)
        running.communicate()
        taken_over = run_cli(*args, env=desk_b)
    finally:
        slow.stop()

    assert refused.exit_code == 2
    assert json.loads(refused.stderr)["error"]["api_error"] == "run_in_use"
    assert taken_over.exit_code == 8, taken_over.stderr  # the row in flight at the kill: unknown
    counted = outcomes(taken_over.stdout)
    assert counted["unknown"] == 1 and counted["ok"] + counted["skipped"] == len(users) - 1
    assert max(vouchers_per_user_of(tmp_path / "slow.sqlite3", users).values()) == 1


def vouchers_per_user_of(state: Path, users: list[int]) -> Counter[int]:
    import sqlite3

    with sqlite3.connect(f"file:{state}?mode=ro", uri=True) as db:
        rows = db.execute(
            "select user_id, count(*) from spid_voucher where user_id between ? and ? "
            "group by user_id",
            (min(users), max(users)),
        ).fetchall()
    return Counter(dict(rows))


def test_a_copy_run_on_another_machine_after_unknowns_sends_nothing(tmp_path, team_ledger) -> None:
    """Catches rows that timed out on one machine (the server made them) being sent again by a
    copy of the file on another: a second voucher each."""
    slow = SandboxProcess(tmp_path / "slow.sqlite3", "--latency", "1500")
    users = list(range(105400, 105406))
    source = users_file(tmp_path / "u.csv", users)
    copy = tmp_path / "u-copy.csv"
    copy.write_text(source.read_text())
    try:
        desk_a = machine(slow, tmp_path / "desk-a", team_ledger)
        desk_b = machine(slow, tmp_path / "desk-b", team_ledger)
        from tests.test_ledger import token_for

        desk_a["VOUCHERCTL_SPID_TOKEN"] = desk_b["VOUCHERCTL_SPID_TOKEN"] = token_for(slow)
        timed_out = run_cli(
            "handout", "--from", str(source), "--concurrency", "6", "--timeout", "0.4", env=desk_a
        )
        time.sleep(2.5)  # the server made them all meanwhile
        copied = run_cli("handout", "--from", str(copy), env=desk_b)
    finally:
        slow.stop()

    assert outcomes(timed_out.stdout) == Counter({"unknown": 6}), timed_out.stderr
    # The same content: the same run, which the other machine already ran to the end.
    assert copied.exit_code == 2 and "already run to the end" in copied.stderr
    assert vouchers_per_user_of(tmp_path / "slow.sqlite3", users) == Counter(
        dict.fromkeys(users, 1)
    )


def test_a_ledger_lost_mid_run_starts_no_further_row(tmp_path, team_ledger) -> None:
    """Catches a run that lost its ledger (the server restarted, the network dropped) going on
    sending rows it cannot record, or ending without saying how many were not started."""
    slow = SandboxProcess(tmp_path / "slow.sqlite3", "--latency", "200")
    users = list(range(105500, 105530))
    source = users_file(tmp_path / "u.csv", users)
    try:
        env = machine(slow, tmp_path / "desk-a", team_ledger)
        running = start(env, "handout", "--from", str(source), "--concurrency", "1")
        wait_for_change(team_ledger)
        query(
            team_ledger,
            "select pg_terminate_backend(pid) from pg_stat_activity "
            "where datname = current_database() and pid <> pg_backend_pid()",
        )
        stdout, stderr = running.communicate(timeout=120)
    finally:
        slow.stop()

    assert running.returncode == 1, stderr
    assert "stopped accepting records" in stderr and "not started" in stderr
    records = [json.loads(line) for line in stdout.splitlines()]
    assert len(records) == len(users)  # every row prints, those not started too
    started = [r for r in records if (r["error"] or {}).get("api_error") != "not_started"]
    assert 0 < len(started) < len(users)


def test_the_schema_is_migrated_once_and_recorded(tmp_path, team_ledger) -> None:
    """Catches migrations run again on every open (or never recorded), and the two engines'
    schemas drifting apart."""
    env = {"VOUCHERCTL_DATA_DIR": str(tmp_path / "data"), "VOUCHERCTL_LEDGER": team_ledger}
    base = {k: v for k, v in __import__("os").environ.items() if not k.startswith("VOUCHERCTL_")}
    for _ in range(2):
        assert run_cli("runs", "-o", "json", env={**base, **env}).exit_code == 0
    local = {**base, "VOUCHERCTL_DATA_DIR": str(tmp_path / "local")}
    assert run_cli("runs", "-o", "json", env=local).exit_code == 0

    assert [row[0] for row in query(team_ledger, "select version from migrations")] == [1]
    postgres_columns = set(
        query(
            team_ledger,
            "select table_name, column_name from information_schema.columns "
            "where table_schema = 'public'",
        )
    )
    import sqlite3

    with sqlite3.connect(tmp_path / "local" / "ledger.sqlite3") as db:
        tables = [row[0] for row in db.execute("select name from sqlite_master where type='table'")]
        sqlite_columns = {
            (table, row[1])
            for table in tables
            if table != "sqlite_sequence"
            for row in db.execute(f"pragma table_info({table})")
        }
    assert postgres_columns == sqlite_columns


def test_a_machines_history_moves_into_the_team_ledger(sandbox, tmp_path, team_ledger) -> None:
    """Catches a machine joining the team ledger with its history left behind: rows it did
    before were sent again by a copy of its file, and audit lost who did them."""
    users = list(range(105600, 105604))
    source = users_file(tmp_path / "u.csv", users)
    local = machine(sandbox, tmp_path / "desk-a", team_ledger)
    del local["VOUCHERCTL_LEDGER"]
    assert run_cli("handout", "--from", str(source), "--run", "oct", env=local).exit_code == 0
    team = {**local, "VOUCHERCTL_LEDGER": team_ledger}

    moved = run_cli(
        "runs", "import", str(tmp_path / "desk-a" / "data" / "ledger.sqlite3"), env=team
    )
    again = run_cli(
        "runs", "import", str(tmp_path / "desk-a" / "data" / "ledger.sqlite3"), env=team
    )
    copy = tmp_path / "copy.csv"
    copy.write_text(source.read_text())
    copied = run_cli("handout", "--from", str(copy), env=team)
    shown = json.loads(run_cli("runs", "show", "oct", "-o", "json", env=team).stdout)

    assert moved.exit_code == 0, moved.stderr
    assert "1 run" in moved.stderr and "4 changes" in moved.stderr
    assert again.exit_code == 0 and "already imported" in again.stderr
    # The same content: the same run, which the other machine already ran to the end.
    assert copied.exit_code == 2 and "already run to the end" in copied.stderr
    assert [r["outcome"] for r in shown] == ["ok"] * 4
    assert vouchers_per_user(sandbox, users) == Counter(dict.fromkeys(users, 1))
