"""The ledger (SQLite) against the real sandbox and the installed CLI: the guard across runs,
copies and pipes, run names and hosts, a ledger that cannot be written, and what audit and runs
read of it. Each test names the bug it catches."""

import json
import os
import signal
import stat
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.sandbox_process import (
    VOUCHERCTL,
    SandboxProcess,
    ledger_rows,
    run_cli,
    users_file,
    vouchers_per_user,
)
from voucherctl.sandbox import SANDBOX

GROUP = SANDBOX.spid_handout_group_id
CHAIN = str(SANDBOX.spaaza_chain_id)


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[SandboxProcess]:
    server = SandboxProcess(tmp_path / "state.sqlite3", "--latency", "20")
    yield server
    server.stop()


@pytest.fixture
def slow_sandbox(tmp_path: Path) -> Iterator[SandboxProcess]:
    """Every answer 1.5 s late: a client with --timeout 0.4 gives up, the server still acts."""
    server = SandboxProcess(tmp_path / "state.sqlite3", "--latency", "1500")
    yield server
    server.stop()


def outcomes(stdout: str) -> Counter[str]:
    return Counter(json.loads(line)["outcome"] for line in stdout.splitlines())


def token_for(sandbox: SandboxProcess) -> str:
    """A SPiD token fetched without a client timeout, so that a run's --timeout meets only
    its changes."""
    answer = requests.post(
        f"{sandbox.url}/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(SANDBOX.spid_client_id, SANDBOX.spid_client_secret),
        timeout=30,
    )
    return str(answer.json()["access_token"])


def wait_until(condition: object, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return
        time.sleep(0.05)
    raise AssertionError("timed out waiting")


def test_a_copy_of_a_file_whose_rows_timed_out_sends_none_of_them_again(
    slow_sandbox, tmp_path
) -> None:
    """Catches the guard across runs counting only rows done ok: 20 handouts timed out (the
    server made all 20), `cp u.csv u-copy.csv` and a run of the copy sent all 20 again, 40
    vouchers for 20 users. Piped in anew, the same."""
    users = list(range(104000, 104010))
    source = users_file(tmp_path / "u.csv", users)
    env = {"VOUCHERCTL_SPID_TOKEN": token_for(slow_sandbox)}
    timed_out = slow_sandbox.run(
        "handout", "--from", str(source), "--concurrency", "10", "--timeout", "0.4", **env
    )
    assert outcomes(timed_out.stdout) == Counter({"unknown": 10}), timed_out.stderr
    wait_until(lambda: len(vouchers_per_user(slow_sandbox, users)) == 10)

    copy = tmp_path / "u-copy.csv"
    copy.write_text(source.read_text())
    edited = tmp_path / "u-edited.csv"  # other content: the rows reordered
    lines = source.read_text().splitlines(keepends=True)
    edited.write_text(lines[0] + "".join(lines[:0:-1]))
    copied = slow_sandbox.run("handout", "--from", str(copy), "-o", "json", **env)
    piped = slow_sandbox.run("handout", "--from", "-", input=source.read_text(), **env)
    reordered = slow_sandbox.run("handout", "--from", str(edited), "-o", "json", **env)

    for done in (copied, piped, reordered):
        assert done.exit_code == 2, done.stderr
        assert "--again" in done.stderr
    assert json.loads(copied.stderr)["error"]["api_error"] == "run_finished"  # the same input
    assert json.loads(reordered.stderr)["error"]["api_error"] == "rows_done_elsewhere"
    assert vouchers_per_user(slow_sandbox, users) == Counter(dict.fromkeys(users, 1))


def test_two_runs_with_rows_in_common_at_once_give_no_one_two_vouchers(sandbox, tmp_path) -> None:
    """Catches the guard running once, when a run opens: two files with 100 rows in common,
    started together, gave 100 users two vouchers in 3 of 4 trials."""
    first = users_file(tmp_path / "a.csv", list(range(104100, 104250)))
    second = users_file(tmp_path / "b.csv", list(range(104150, 104300)))
    runs = [
        subprocess.Popen(
            [VOUCHERCTL, "handout", "--from", str(path), "--concurrency", "8"],
            env=sandbox.environment(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for path in (first, second)
    ]
    done = [run.communicate(timeout=300) for run in runs]

    for run, (_, stderr) in zip(runs, done, strict=True):
        assert run.returncode == 0, stderr
    counted = outcomes(done[0][0]) + outcomes(done[1][0])
    assert counted == Counter({"ok": 200, "skipped": 100})
    users = list(range(104100, 104300))
    assert vouchers_per_user(sandbox, users) == Counter(dict.fromkeys(users, 1))


def test_claims_settled_on_resume_read_ok_in_audit(slow_sandbox, tmp_path) -> None:
    """Catches outcomes settled later being kept apart from the record audit shows: 70 claims
    settled ok on resume still read "unknown" in audit."""
    first = SANDBOX.spaaza_bulk_user_ids[0] + 40
    rows = [(600_000 + 40 + i, first + i) for i in range(4)]
    source = tmp_path / "claims.csv"
    source.write_text("voucher_id,user_id\n" + "".join(f"{v},{u}\n" for v, u in rows))
    command = ("claim", "--from", str(source), "--chain-id", CHAIN)
    timed_out = slow_sandbox.run(*command, "--timeout", "0.4")
    assert outcomes(timed_out.stdout) == Counter({"unknown": 4}), timed_out.stderr
    time.sleep(2)  # the server made the claims meanwhile

    resumed = slow_sandbox.run(*command, "--resume")
    audited = json.loads(slow_sandbox.run("audit", "-o", "json").stdout)

    assert resumed.exit_code == 0, resumed.stderr
    assert outcomes(resumed.stdout) == Counter({"ok": 4})
    assert sorted(e["identifiers"]["voucher_id"] for e in audited) == [str(v) for v, _ in rows]
    assert {e["outcome"] for e in audited} == {"ok"}


def test_a_piped_lock_runs_again_after_an_unlock(sandbox) -> None:
    """Catches `vouchers -o csv | voucherctl lock --from -` run a second time exiting 2
    "already run to the end" (and with --resume skipping every row, the voucher left as it
    was): lock and unlock set a state and are safe to repeat."""
    rows = f"voucher_key\n{SANDBOX.spaaza_lock_voucher_key}\n"
    locked = sandbox.run("lock", "--from", "-", input=rows)
    unlocked = sandbox.run("unlock", "--from", "-", input=rows)
    again = sandbox.run("lock", "--from", "-", input=rows)

    for done in (locked, unlocked, again):
        assert done.exit_code == 0, done.stderr
        assert outcomes(done.stdout) == Counter({"ok": 1})
    [(until,)] = sandbox.query(
        "select locked_until from spaaza_voucher where id = ?", SANDBOX.spaaza_lock_voucher_id
    )
    assert until


def test_a_run_name_reused_against_another_host_is_refused(sandbox, tmp_path) -> None:
    """Catches a run's recorded host not being checked: a run named against the sandbox,
    reused against another host, silently skipped every row there."""
    users = [104400, 104401]
    source = users_file(tmp_path / "u.csv", users)
    named = ("handout", "--from", str(source), "--run", "monthly", "-o", "jsonl")
    assert sandbox.run(*named, "--sandbox").exit_code == 0

    elsewhere = sandbox.run(*named[:-2], "-o", "json")

    assert elsewhere.exit_code == 2
    error = json.loads(elsewhere.stderr)["error"]
    assert error["api_error"] == "run_mismatch" and "sandbox" in error["message"]
    assert elsewhere.stdout == ""
    assert vouchers_per_user(sandbox, users) == Counter()


def test_the_default_run_is_known_by_its_input_file(sandbox, tmp_path) -> None:
    """Catches a default run's identity that leaves out the input: another file was refused as
    already run to the end."""
    first = users_file(tmp_path / "a.csv", [104500, 104501])
    second = users_file(tmp_path / "b.csv", [104502, 104503])
    assert sandbox.run("handout", "--from", str(first)).exit_code == 0

    done = sandbox.run("handout", "--from", str(second))

    assert done.exit_code == 0, done.stderr
    assert outcomes(done.stdout) == Counter({"ok": 2})


def test_a_journal_path_spelled_otherwise_is_the_same_run(sandbox, tmp_path) -> None:
    """Catches --journal jd/../jd/j.jsonl (or a linked folder) naming a new run, which sent
    every row of the named run again."""
    users = [104510, 104511]
    source = users_file(tmp_path / "u.csv", users)
    (tmp_path / "jd").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "jd")
    spellings = ["jd/j.jsonl", "jd/../jd/j.jsonl", "link/j.jsonl"]

    runs = [
        sandbox.run("handout", "--from", str(source), "--journal", str(tmp_path / spelled))
        for spelled in spellings
    ]

    assert [done.exit_code for done in runs] == [0, 0, 0], [done.stderr for done in runs]
    assert outcomes(runs[0].stdout) == Counter({"ok": 2})
    assert [outcomes(done.stdout) for done in runs[1:]] == [Counter({"skipped": 2})] * 2
    assert vouchers_per_user(sandbox, users) == Counter(dict.fromkeys(users, 1))


@pytest.mark.parametrize(
    "ledger",
    ["POSTGRESQL://support:S3cretPW@127.0.0.1:9/vc", "mysql://x/y", "host=db password=S3cretPW"],
)
def test_a_ledger_that_is_no_url_nor_path_is_refused_not_made_a_file(
    sandbox, tmp_path, ledger
) -> None:
    """Catches an upper-case scheme or a libpq keyword string taken as a file name: a private
    SQLite ledger (the team's guard off) named after the password, in the working folder."""
    source = users_file(tmp_path / "u.csv", [104520])

    done = sandbox.run("handout", "--from", str(source), "-o", "json", VOUCHERCTL_LEDGER=ledger)

    assert done.exit_code == 2, done.stderr
    assert "S3cretPW" not in done.stderr
    assert json.loads(done.stderr)["error"]["api_error"] == "ledger_unavailable"
    assert not list(Path.cwd().glob("POSTGRESQL*")) and not list(tmp_path.glob("*S3cret*"))
    assert vouchers_per_user(sandbox, [104520]) == Counter()


def test_a_copy_of_an_imported_ledger_adds_no_change_twice(sandbox, tmp_path) -> None:
    """Catches runs import copying a change the target already holds (the same ledger under
    another path, or audit.jsonl imported both ways): audit then listed each handout twice."""
    users = [104530, 104531]
    source = users_file(tmp_path / "u.csv", users)
    assert sandbox.run("handout", "--from", str(source)).exit_code == 0
    desk = tmp_path / "data" / "ledger.sqlite3"
    copy = tmp_path / "copy.sqlite3"
    copy.write_bytes(desk.read_bytes())
    team = {"VOUCHERCTL_LEDGER": str(tmp_path / "team.sqlite3")}

    first = sandbox.run("runs", "import", str(desk), **team)
    second = sandbox.run("runs", "import", str(copy), **team)
    audited = sandbox.run("audit", "--command", "handout", "-o", "json", **team)

    assert first.exit_code == 0 and second.exit_code == 0, (first.stderr, second.stderr)
    assert "and 0 changes" in second.stderr
    entries = json.loads(audited.stdout)
    assert sorted(e["identifiers"]["userId"] for e in entries) == [str(u) for u in users]


def test_a_ledger_that_cannot_be_written_stops_every_change_before_it_is_sent(
    sandbox, tmp_path
) -> None:
    """Catches a change sent that the ledger could not record (and sent again on a retry):
    only the ledger is unwritable here (the data directory is fine), and nothing is sent."""
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the ledger's folder must be\n")
    ledger = blocker / "ledger.sqlite3"
    env = {"VOUCHERCTL_LEDGER": str(ledger)}
    source = users_file(tmp_path / "u.csv", [104600])

    single = sandbox.run("handout", "--user", "104601", "--group", GROUP, "-o", "json", **env)
    bulk = sandbox.run("handout", "--from", str(source), "-o", "json", **env)

    for done in (single, bulk):
        assert done.exit_code == 2, done.stderr
        assert done.stdout == ""
        error = json.loads(done.stderr)["error"]
        assert error["api_error"] == "ledger_unavailable"
        assert str(ledger) in error["message"] and "nothing was sent" in error["message"]
    assert vouchers_per_user(sandbox, [104600, 104601]) == Counter()


def test_stdin_is_kept_in_the_data_directory_and_a_killed_runs_copy_is_removed(
    tmp_path,
) -> None:
    """Catches `--from -` copying stdin to $TMPDIR and leaving it there after a kill -9; and
    the ledger's files made readable by others under a umask of 0."""
    slow = SandboxProcess(tmp_path / "state.sqlite3", "--latency", "3000")
    tmpdir = tmp_path / "tmpdir"
    tmpdir.mkdir()
    rows = "userId,voucherGroupId\n" + "".join(f"{u},{GROUP}\n" for u in range(104700, 104703))
    env = slow.environment(TMPDIR=str(tmpdir))
    data = tmp_path / "data"
    try:
        killed = subprocess.Popen(
            [VOUCHERCTL, "handout", "--from", "-", "--concurrency", "1"],
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            text=True,
            preexec_fn=lambda: os.umask(0),
        )
        assert killed.stdin is not None
        killed.stdin.write(rows)
        killed.stdin.close()
        wait_until(lambda: (data / "ledger.sqlite3").exists() and _sent(data))
        killed.send_signal(signal.SIGKILL)
        killed.wait()
        left = list((data / "stdin").iterdir())
        modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in data.glob("ledger.sqlite3*")}
        again = run_cli("handout", "--from", "-", "--timeout", "10", env=env, input=rows)
    finally:
        slow.stop()

    assert list(tmpdir.iterdir()) == []
    assert len(left) == 1 and left[0].suffix == ".csv"  # kept where the next run finds it
    assert modes == {
        "ledger.sqlite3": 0o600,
        "ledger.sqlite3-wal": 0o600,
        "ledger.sqlite3-shm": 0o600,
        "ledger.sqlite3.locks": 0o700,
    }
    assert again.exit_code in (0, 8), again.stderr  # the first row is unknown: not resent
    assert list((data / "stdin").iterdir()) == []


def _sent(data: Path) -> bool:
    try:
        return bool(ledger_rows(data, "select id from changes"))
    except Exception:
        return False


def test_audit_by_user_lists_changes_on_vouchers_the_user_held(sandbox, tmp_path) -> None:
    """Catches `audit --user` missing the lock and unlock of a voucher the user claimed (they
    name the voucher, not the user), and a table cut by --limit not saying so."""
    user, voucher = SANDBOX.spaaza_bulk_user_ids[0] + 60, 600_060
    claim = ("claim", "--voucher-id", str(voucher), "--user-id", str(user), "--chain-id", CHAIN)
    assert sandbox.run(*claim).exit_code == 0, sandbox.run(*claim).stderr
    assert sandbox.run("lock", "--voucher-id", str(voucher)).exit_code == 0
    assert sandbox.run("unlock", "--voucher-id", str(voucher)).exit_code == 0
    assert sandbox.run("lock", "--voucher-id", str(SANDBOX.spaaza_lock_voucher_id)).exit_code == 0

    listed = json.loads(sandbox.run("audit", "--user", str(user), "-o", "json").stdout)
    table = sandbox.run("audit", "--user", str(user), "--limit", "2", "-o", "table")

    assert [e["command"] for e in listed] == ["unlock", "lock", "claim"]
    assert all(e["machine"] and e["user"] for e in listed)
    assert "showing 2 of 3" in " ".join(table.stdout.split())


def test_audit_finds_a_voucher_by_id_when_changes_named_it_by_key(sandbox, tmp_path) -> None:
    """Catches changes sent by voucher key (the README's 'vouchers -o csv | voucherctl lock
    --from -') missing from 'audit --voucher ID' and from the holder's 'audit --user'."""
    user, voucher = SANDBOX.spaaza_bulk_user_ids[0] + 61, 600_061
    claim = ("claim", "--voucher-id", str(voucher), "--user-id", str(user), "--chain-id", CHAIN)
    assert sandbox.run(*claim).exit_code == 0
    listed = sandbox.run("vouchers", "--user-id", str(user), "--chain-id", CHAIN, "-o", "json")
    key = next(v["voucher_key"] for v in json.loads(listed.stdout) if v["voucher_id"] == voucher)
    assert sandbox.run("lock", "--voucher-key", key).exit_code == 0
    csv = sandbox.run("vouchers", "--user-id", str(user), "--chain-id", CHAIN, "-o", "csv")
    assert sandbox.run("unlock", "--from", "-", input=csv.stdout).exit_code == 0

    by_id = json.loads(sandbox.run("audit", "--voucher", str(voucher), "-o", "json").stdout)
    by_user = json.loads(sandbox.run("audit", "--user", str(user), "-o", "json").stdout)

    assert [e["command"] for e in by_id] == ["unlock", "lock", "claim"]
    assert [e["command"] for e in by_user] == ["unlock", "lock", "claim"]


def test_runs_lists_the_ledgers_runs_and_show_lists_a_runs_rows(sandbox, tmp_path) -> None:
    """Catches `runs` missing (no way to see which runs exist, who ran them, where)."""
    source = users_file(tmp_path / "u.csv", [104800, 104801, 104802])
    assert sandbox.run("handout", "--from", str(source), "--run", "nov").exit_code == 0

    listed = json.loads(sandbox.run("runs", "-o", "json").stdout)
    live = json.loads(sandbox.run("runs", "--live", "-o", "json").stdout)
    shown = json.loads(sandbox.run("runs", "show", "nov", "-o", "json").stdout)
    missing = sandbox.run("runs", "show", "dec")

    [run] = listed
    assert run["name"] == "nov" and run["command"] == "handout" and run["host"] == sandbox.url
    assert run["rows"] == {"ok": 3} and run["state"] == "finished"
    assert run["machine"] and run["user"]
    assert live == []
    assert [(r["line"], r["outcome"]) for r in shown] == [(2, "ok"), (3, "ok"), (4, "ok")]
    assert missing.exit_code == 3


def test_doctor_checks_the_ledger(sandbox, tmp_path) -> None:
    """Catches doctor passing on a machine whose ledger cannot be opened (every change would
    then be refused)."""
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the ledger's folder must be\n")

    good = json.loads(sandbox.run("doctor", "-o", "json").stdout)
    bad = sandbox.run("doctor", "-o", "json", VOUCHERCTL_LEDGER=str(blocker / "l.sqlite3"))

    [ledger] = [c for c in good["checks"] if c["name"] == "ledger"]
    assert ledger["ok"] and "ledger.sqlite3" in ledger["detail"]
    assert bad.exit_code == 2
    [broken] = [c for c in json.loads(bad.stdout)["checks"] if c["name"] == "ledger"]
    assert not broken["ok"] and "l.sqlite3" in broken["detail"]
