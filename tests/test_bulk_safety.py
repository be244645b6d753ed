"""Bulk runs outside the cases a single run imagines: two runs at once, files edited between
runs, a finished file run again, data directories that cannot be written, disks that fill,
odd journals and closed streams. Each test names the bug it catches."""

import json
import os
import resource
import signal
import sqlite3
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.sandbox_process import (
    VOUCHERCTL,
    Done,
    SandboxProcess,
    base_environment,
    run_cli,
    users_file,
    vouchers_per_user,
)
from voucherctl.sandbox import SANDBOX

GROUP = SANDBOX.spid_handout_group_id


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[SandboxProcess]:
    server = SandboxProcess(tmp_path / "state.sqlite3", "--latency", "30")
    yield server
    server.stop()


def outcomes(done: Done) -> Counter[str]:
    return Counter(json.loads(line)["outcome"] for line in done.stdout.splitlines())


def start(sandbox: SandboxProcess, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [VOUCHERCTL, *args],
        env=sandbox.environment(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def ledger_query(home: Path, sql: str, *params: object) -> list[tuple[object, ...]]:
    """Read the ledger of the data directory under ``home`` (read only)."""
    path = home / "data" / "ledger.sqlite3"
    if not path.exists():
        return []
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30) as db:
        try:
            return db.execute(sql, params).fetchall()
        except sqlite3.OperationalError:  # not made yet
            return []


def wait_for_start(home: Path) -> None:
    """Until a run in the ledger under ``home`` has begun sending (its first row is recorded)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if ledger_query(home, "select count(*) from changes") not in ([], [(0,)]):
            return
        time.sleep(0.02)
    raise AssertionError(f"no run started in {home}")


def wait_for_a_handout(sandbox: SandboxProcess, users: list[int]) -> None:
    """Until the sandbox has handed a voucher to one of ``users``: a run is sending."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if vouchers_per_user(sandbox, users):
            return
        time.sleep(0.02)
    raise AssertionError(f"no voucher handed out to users {users[0]}..{users[-1]}")


@pytest.mark.parametrize("named", ["--journal", "--run", "default run"])
def test_a_second_run_on_a_run_in_use_is_refused_and_sends_nothing(
    sandbox, tmp_path, named
) -> None:
    """Catches two runs sharing a journal: both sent every row, and 1,992 of 2,000 users got
    two vouchers. The second run must be refused at once (exit 2), naming the run."""
    users = list(range(102000, 102120))
    source = users_file(tmp_path / "users.csv", users)
    args = ["handout", "--from", str(source), "--concurrency", "2", "-o", "jsonl"]
    if named == "--journal":
        args += ["--journal", str(tmp_path / "journal.jsonl")]
    elif named == "--run":
        args += ["--run", "monthly"]
    first = start(sandbox, *args)
    try:
        wait_for_start(tmp_path)
        second = sandbox.run(*args)
    finally:
        _, stderr = first.communicate(timeout=120)

    assert second.exit_code == 2
    assert second.stdout == ""
    assert "is in use by another voucherctl run" in second.stderr
    assert not (tmp_path / "journal.jsonl").exists()  # --journal PATH is only a name
    assert first.returncode == 0, stderr
    assert vouchers_per_user(sandbox, users) == Counter(dict.fromkeys(users, 1))


def test_lines_added_removed_or_reordered_never_resend_a_done_row(sandbox, tmp_path) -> None:
    """Catches rows known by their line: a line added to a finished file resent all 50 old
    rows. Only the new row, and the edited row (a new row), may be sent."""
    users = list(range(102200, 102210))
    source = users_file(tmp_path / "users.csv", users)
    command = ("handout", "--from", str(source), "--journal", str(tmp_path / "j.jsonl"))
    assert sandbox.run(*command).exit_code == 0

    edited = [102299, *reversed(users[2:]), 102211]  # one added on top, reordered, one edited
    users_file(source, edited)
    again = sandbox.run(*command)

    assert again.exit_code == 0, again.stderr
    assert outcomes(again) == Counter({"skipped": 8, "ok": 2})
    given = vouchers_per_user(sandbox, [*users, 102211, 102299])
    assert given == Counter({**dict.fromkeys(users, 1), 102211: 1, 102299: 1})


def test_identical_rows_are_rows_of_their_own(sandbox, tmp_path) -> None:
    """A user named twice gets two vouchers (two rows), once each, however the file moves."""
    source = users_file(tmp_path / "users.csv", [102300, 102300])
    command = ("handout", "--from", str(source), "--journal", str(tmp_path / "j.jsonl"))
    assert outcomes(sandbox.run(*command)) == Counter({"ok": 2})

    users_file(source, [102301, 102300, 102300, 102300])
    again = sandbox.run(*command)

    assert outcomes(again) == Counter({"skipped": 2, "ok": 2})
    assert vouchers_per_user(sandbox, [102300, 102301]) == Counter({102300: 3, 102301: 1})


def test_the_default_journal_resumes_an_unfinished_run_and_refuses_a_finished_one(
    sandbox, tmp_path
) -> None:
    """Catches the default journal silently skipping a file run before (a monthly cron job
    doing nothing, exit 0, forever): a finished file exits 2 and says how to go on."""
    users = list(range(102400, 102480))
    source = users_file(tmp_path / "users.csv", users)
    args = ("handout", "--from", str(source), "--concurrency", "1")
    first = start(sandbox, *args)
    # Stopped once it is sending (its SIGTERM handler is set by then; a fixed sleep stopped a
    # child that was still starting under load), well before its 80 rows of 30 ms are done.
    wait_for_a_handout(sandbox, users)
    first.send_signal(signal.SIGTERM)
    first.communicate(timeout=60)
    assert first.returncode == 130

    resumed = sandbox.run(*args)
    assert resumed.exit_code == 0, resumed.stderr
    assert "resuming the run" in resumed.stderr
    again = sandbox.run(*args)
    assert again.exit_code == 2 and again.stdout == ""
    assert "already run to the end" in again.stderr and "--resume" in again.stderr
    assert "--again" in again.stderr
    assert vouchers_per_user(sandbox, users) == Counter(dict.fromkeys(users, 1))


def test_sandbox_reset_forgets_the_runs_made_against_the_sandbox(tmp_path) -> None:
    """Catches the README's bulk example skipping, after a reset, rows the fresh sandbox never
    saw: the runs made with --sandbox are forgotten with its state."""
    env = base_environment(tmp_path)
    source = tmp_path / "users.csv"
    source.write_text("userId\n102500\n")
    command = ("handout", "--from", str(source), "--group", GROUP, "--sandbox", "-o", "jsonl")
    if run_cli("show", "X", "--sandbox", env=env).exit_code == 1:
        pytest.skip("a sandbox on 127.0.0.1:8765 answers strangely")
    assert run_cli(*command, env=env).exit_code == 0
    assert run_cli(*command, env=env).exit_code == 2

    reset = run_cli("sandbox", "reset", env=env)
    after = run_cli(*command, env=env)

    assert reset.exit_code == 0 and "forgot 1 bulk run" in reset.stderr
    assert after.exit_code == 0, after.stderr
    assert [json.loads(line)["outcome"] for line in after.stdout.splitlines()] == ["ok"]


def test_an_unwritable_data_directory_stops_a_change_before_it_is_sent(sandbox, tmp_path) -> None:
    """Catches a handout made, then reported as a crash with no audit record (and made again
    on a retry): a data directory that cannot be written is exit 2, nothing sent."""
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the data directory must be\n")
    data = {"VOUCHERCTL_DATA_DIR": str(blocker / "data")}
    source = users_file(tmp_path / "users.csv", [102600])

    single = sandbox.run("handout", "--user", "102601", "--group", GROUP, **data)
    bulk = sandbox.run("handout", "--from", str(source), **data)

    for done in (single, bulk):
        assert done.exit_code == 2, done.stderr
        assert done.stdout == ""
        assert "nothing was sent" in done.stderr
    assert vouchers_per_user(sandbox, [102600, 102601]) == Counter()


def _file_size_limit(limit: int) -> None:
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))


def test_a_disk_that_fills_mid_run_stops_it_with_a_summary_and_loses_nothing(
    sandbox, tmp_path
) -> None:
    """Catches a ledger on a filling disk ending the run with exit 1, no summary, and rows
    never reported; and write errors turning succeeded rows into unknown ones."""
    users = list(range(102700, 102760))
    source = users_file(tmp_path / "users.csv", users)
    assert sandbox.run("handout", "--user", "102699", "--group", GROUP).exit_code == 0
    ledger = tmp_path / "data" / "ledger.sqlite3"
    room = ledger.stat().st_size + 64 * 1024  # the ledger's log fills after a few rows
    command = [VOUCHERCTL, "handout", "--from", str(source), "--run", "fill"]
    full = subprocess.run(
        [*command, "--concurrency", "1"],
        env=sandbox.environment(),
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=lambda: _file_size_limit(room),
    )

    reported = [json.loads(line) for line in full.stdout.splitlines()]
    assert full.returncode == 1, full.stderr
    assert "stopped accepting records" in full.stderr
    assert "not started" in full.stderr  # the summary
    ok = [r for r in reported if r["outcome"] == "ok"]
    rest = [r for r in reported if r["outcome"] != "ok"]  # printed, or lost with the disk
    assert all(r["error"]["api_error"] == "not_started" for r in rest)
    assert 0 < len(ok) < len(users)
    given = vouchers_per_user(sandbox, users)
    assert set(given.values()) == {1} and len(given) >= len(ok)

    # Room again: the run goes on and everyone has exactly one voucher. A row whose "ok" the
    # full disk lost is unknown (sent, outcome not recorded) and is not sent again.
    rest = sandbox.run(*command[1:])
    assert rest.exit_code in (0, 8), rest.stderr
    assert vouchers_per_user(sandbox, users) == Counter(dict.fromkeys(users, 1))
    audited = json.loads(sandbox.run("audit", "-o", "json", "--command", "handout").stdout)
    assert {e["identifiers"]["userId"] for e in audited} == {str(u) for u in [102699, *users]}


@pytest.mark.parametrize("kind", ["fifo", "/dev/null", "folder", "the input file"])
def test_a_journal_path_only_names_the_run_and_is_never_touched(sandbox, tmp_path, kind) -> None:
    """Catches --journal PATH opened, created, truncated or chmodded: a FIFO hung the run
    forever, the input CSV given by mistake lost its last line, a team folder lost its mode."""
    source = tmp_path / "u.csv"
    source.write_bytes(f"userId,voucherGroupId\n102800,{GROUP}\n102801,{GROUP}".encode())
    journal = {
        "fifo": tmp_path / "fifo",
        "/dev/null": Path("/dev/null"),
        "folder": tmp_path / "shared",
        "the input file": source,
    }[kind]
    if kind == "fifo":
        os.mkfifo(journal)
    if kind == "folder":
        journal.mkdir()
        journal.chmod(0o2775)
    before = {p: (p.stat().st_mode, p.stat().st_size) for p in [journal, source, tmp_path]}
    before_bytes = source.read_bytes()

    done = sandbox.run("handout", "--from", str(source), "--journal", str(journal))
    again = sandbox.run("handout", "--from", str(source), "--journal", str(journal))

    assert done.exit_code == 0, done.stderr
    assert outcomes(again) == Counter({"skipped": 2})  # the same run, by its name
    assert {p: (p.stat().st_mode, p.stat().st_size) for p in before} == before
    assert source.read_bytes() == before_bytes
    if kind == "folder":
        assert list(journal.iterdir()) == []
    assert vouchers_per_user(sandbox, [102800, 102801]) == Counter({102800: 1, 102801: 1})


@pytest.mark.parametrize(
    "damage",
    [b"\xff\xfe not utf-8\n", b'{"row": "ab/0", "line": 1' + b"9" * 5000 + b', "state": "ok"}\n'],
    ids=["invalid UTF-8", "a number too large"],
)
def test_a_damaged_journal_of_an_earlier_version_is_a_usage_error_naming_it(
    sandbox, tmp_path, damage
) -> None:
    """Catches a damaged journal ending in 'unexpected error' (exit 1), or being skipped so
    that rows it recorded as done are sent again."""
    source = users_file(tmp_path / "users.csv", [102900])
    journal = tmp_path / "j.jsonl"
    header = {"voucherctl_journal": 2, "command": "handout", "host": sandbox.url, "fixed": {}}
    journal.write_bytes(json.dumps(header).encode() + b"\n" + damage + b'{"run": "start"}\n')
    kept = journal.read_bytes()

    done = sandbox.run("handout", "--from", str(source), "--journal", str(journal))

    assert done.exit_code == 2
    assert f"the journal {journal} is damaged at line 2" in done.stderr
    assert journal.read_bytes() == kept
    assert vouchers_per_user(sandbox, [102900]) == Counter()


def test_from_stdin_with_stdin_closed_is_a_usage_error(sandbox) -> None:
    """Catches ``--from -`` with stdin closed ending in an AttributeError (exit 1)."""
    done = subprocess.run(
        ["sh", "-c", f'exec "{VOUCHERCTL}" handout --from - --group {GROUP} <&-'],
        env=sandbox.environment(),
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert done.returncode == 2, done.stderr
    assert "cannot read stdin" in done.stderr


def test_a_handout_with_stdout_closed_is_made_audited_and_exits_0(sandbox) -> None:
    """Catches a closed stdout turning a made change into an unexplained exit 1."""
    done = subprocess.run(
        ["sh", "-c", f'exec "{VOUCHERCTL}" handout --user 103000 --group {GROUP} >&-'],
        env=sandbox.environment(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    audit = sandbox.run("audit", "-o", "json")

    assert done.returncode == 0, done.stderr
    assert "the change was made, but its result could not be printed" in done.stderr
    assert [e["identifiers"]["userId"] for e in json.loads(audit.stdout)] == ["103000"]
    assert vouchers_per_user(sandbox, [103000]) == Counter({103000: 1})


# -- found by an outside review ----------------------------------------------------------------


def test_stdin_again_in_another_order_or_with_a_line_more_sends_only_the_new_row(
    sandbox, tmp_path
) -> None:
    """Catches piped rows run again being sent again (a query with no fixed order), and the
    opposite trap: a daily pipe with new rows refused as 'already run'. The same content is
    the same run; other content is a new run whose rows done before are skipped."""
    users = list(range(103100, 103110))
    source = users_file(tmp_path / "users.csv", users)
    first = sandbox.run("handout", "--from", "-", input=source.read_text())
    assert first.exit_code == 0, first.stderr

    same = sandbox.run("handout", "--from", "-", input=source.read_text())
    reordered = "userId,voucherGroupId\n" + "".join(f"{u},{GROUP}\n" for u in users[::-1])
    shuffled = sandbox.run("handout", "--from", "-", input=reordered)
    more = sandbox.run("handout", "--from", "-", input=reordered + f"103110,{GROUP}\n")

    assert same.exit_code == 2 and "already run to the end" in same.stderr
    assert shuffled.exit_code == 2 and "were done before" in shuffled.stderr
    assert more.exit_code == 0, more.stderr
    assert outcomes(more) == Counter({"skipped": 10, "ok": 1})
    assert vouchers_per_user(sandbox, [*users, 103110]) == Counter(
        dict.fromkeys([*users, 103110], 1)
    )


def test_an_option_moved_into_the_file_does_not_send_the_rows_again(sandbox, tmp_path) -> None:
    """Catches a fixed option turned into a column (or a host spelled otherwise) starting a new
    default journal that sent every row again: the audit log knows they were done."""
    users = list(range(103200, 103203))
    source = tmp_path / "users.csv"
    source.write_text("userId\n" + "".join(f"{u}\n" for u in users))
    assert sandbox.run("handout", "--from", str(source), "--group", GROUP).exit_code == 0

    users_file(source, users)  # the group is now a column
    moved = sandbox.run("handout", "--from", str(source))
    respelled = sandbox.run(
        "handout",
        "--from",
        str(source),
        VOUCHERCTL_SPID_URL=sandbox.url.upper().replace("HTTP", "http"),
    )
    deliberate = sandbox.run(
        "handout", "--from", str(source), "--journal", str(tmp_path / "again.jsonl")
    )

    for done in (moved, respelled):
        assert done.exit_code == 2, done.stderr
        assert "were done before" in done.stderr and "--again" in done.stderr
    assert deliberate.exit_code == 0  # a journal of its own: a new run is meant
    assert vouchers_per_user(sandbox, users) == Counter(dict.fromkeys(users, 2))


def test_an_unreachable_host_fails_the_row_and_stops_the_run(tmp_path) -> None:
    """Catches a refused connection recorded as unknown (never resent without
    --retry-unknown) while the run went on hammering a dead host."""
    source = users_file(tmp_path / "users.csv", [103300, 103301, 103302])
    env = base_environment(tmp_path)
    env.update(VOUCHERCTL_SPID_URL="http://127.0.0.1:9", VOUCHERCTL_SPID_TOKEN="t0ken-value")

    done = run_cli("handout", "--from", str(source), "--concurrency", "1", env=env)

    assert done.exit_code == 7, done.stderr
    outcomes = [json.loads(line)["outcome"] for line in done.stdout.splitlines()]
    assert outcomes == ["failed", "skipped", "skipped"]  # the rest printed, not started
    assert "nothing was sent" in done.stdout and "not started" in done.stderr


def test_what_an_earlier_version_recorded_is_imported_once_and_never_resent(
    sandbox, tmp_path
) -> None:
    """Catches the upgrade losing history: a journal whose "ok" the full disk kept out (the
    audit log has it) and the audit log of single changes must keep every done row from being
    sent again, by the same run and by a copy of the file; the old files are never changed."""
    users = [103400, 103401, 103402]
    source = users_file(tmp_path / "users.csv", users)
    data = tmp_path / "data"
    data.mkdir()
    audit = [
        {
            "change": f"c{u}",
            "user": "ann",
            "profile": "default",
            "host": sandbox.url,
            "command": "handout",
            "identifiers": {"userId": str(u), "voucherGroupId": GROUP},
            "outcome": outcome,
            "time": "2026-11-01T10:00:00Z",
            "exit_code": None,
            "error": None,
        }
        for u in users
        for outcome in ("sent", "ok")
    ]
    (data / "audit.jsonl").write_text("".join(json.dumps(r) + "\n" for r in audit))
    journal = tmp_path / "j.jsonl"
    header = {"voucherctl_journal": 2, "command": "handout", "host": sandbox.url, "fixed": {}}
    rows = [
        {
            "row": f"{_digest({'userId': str(u), 'voucherGroupId': GROUP})}/0",
            "line": i + 2,
            "state": state,
            "change": f"c{u}",
        }
        for i, u in enumerate(users)
        for state in (("sent", "ok") if u != users[-1] else ("sent",))
    ]
    journal.write_text("".join(json.dumps(r) + "\n" for r in [header, *rows]))
    old = {p: p.read_bytes() for p in (journal, data / "audit.jsonl")}

    again = sandbox.run("handout", "--from", str(source), "--journal", str(journal))
    copy = tmp_path / "copy.csv"
    copy.write_text(source.read_text())
    copied = sandbox.run("handout", "--from", str(copy))
    shown = json.loads(sandbox.run("audit", "-o", "json").stdout)

    assert again.exit_code == 0, again.stderr
    assert outcomes(again) == Counter({"skipped": 3})
    assert copied.exit_code == 2 and "were done before" in copied.stderr
    assert {p: p.read_bytes() for p in old} == old
    assert sorted(e["identifiers"]["userId"] for e in shown) == [str(u) for u in users]
    assert {e["outcome"] for e in shown} == {"ok"}
    assert vouchers_per_user(sandbox, users) == Counter()


def test_an_unfinished_default_journal_of_an_earlier_version_is_resumed(sandbox, tmp_path) -> None:
    """Catches the upgrade forgetting a run an earlier version left unfinished in the data
    directory: the same command on the same file must go on with it, not send its rows again."""
    import hashlib

    users = [103450, 103451, 103452]
    source = users_file(tmp_path / "users.csv", users)
    key = json.dumps(["handout", sandbox.url, [], str(source.resolve())])
    journals = tmp_path / "data" / "journals"
    journals.mkdir(parents=True)
    journal = journals / f"handout-{hashlib.sha256(key.encode()).hexdigest()[:16]}.jsonl"
    header = {"voucherctl_journal": 2, "command": "handout", "host": sandbox.url, "fixed": {}}
    done = {"row": f"{_digest({'userId': '103450', 'voucherGroupId': GROUP})}/0", "line": 2}
    records = [header, {"run": "start", "time": "2026-11-01T10:00:00Z"}, {**done, "state": "ok"}]
    journal.write_text("".join(json.dumps(r) + "\n" for r in records))
    kept = journal.read_bytes()

    resumed = sandbox.run("handout", "--from", str(source))

    assert resumed.exit_code == 0, resumed.stderr
    assert outcomes(resumed) == Counter({"skipped": 1, "ok": 2})
    assert journal.read_bytes() == kept
    assert vouchers_per_user(sandbox, users) == Counter({103451: 1, 103452: 1})


def _digest(values: dict[str, str]) -> str:
    from voucherctl.storage.ledger import digest

    return digest(values)


def test_a_journal_path_that_is_also_stdout_is_only_a_name(sandbox, tmp_path) -> None:
    """Catches '--journal j.jsonl > j.jsonl' (the shell empties the file first) sending every
    row again as if new: the run is in the ledger, whatever becomes of PATH."""
    source = users_file(tmp_path / "users.csv", [103500])
    journal = tmp_path / "j.jsonl"
    assert sandbox.run("handout", "--from", str(source), "--journal", str(journal)).exit_code == 0

    done = subprocess.run(
        [
            "sh",
            "-c",
            f'exec "{VOUCHERCTL}" handout --from "{source}" --journal "{journal}" > "{journal}"',
        ],
        env=sandbox.environment(),
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert done.returncode == 0, done.stderr
    assert '"outcome": "skipped"' in journal.read_text()  # the row's record, on stdout
    assert vouchers_per_user(sandbox, [103500]) == Counter({103500: 1})


def test_from_a_pipe_such_as_process_substitution_is_read(sandbox, tmp_path) -> None:
    """Catches '--from <(command)' (a FIFO, /dev/fd/N) refused as 'no such file'."""
    fifo = tmp_path / "rows.fifo"
    os.mkfifo(fifo)
    writer = subprocess.Popen(
        ["sh", "-c", f'printf "userId,voucherGroupId\\n103600,{GROUP}\\n" > "{fifo}"']
    )
    try:
        done = sandbox.run("handout", "--from", str(fifo))
    finally:
        writer.wait(timeout=30)

    assert done.exit_code == 0, done.stderr
    assert vouchers_per_user(sandbox, [103600]) == Counter({103600: 1})


def test_the_ledger_names_a_change_before_it_is_sent(tmp_path) -> None:
    """A change is in the ledger as sent before its request goes out, so a kill between the
    two leaves it listed as unknown, never missing; its outcome is written onto that record."""
    slow = SandboxProcess(tmp_path / "slow.sqlite3", "--latency", "3000")
    try:
        env = slow.environment()
        single = subprocess.Popen(
            [VOUCHERCTL, "handout", "--user", "103700", "--group", GROUP, "-o", "json"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        wait_for_start(tmp_path)
        in_flight = ledger_query(tmp_path, "select outcome from changes")
        live = json.loads(slow.run("audit", "-o", "json").stdout)
        single.kill()
        single.wait(timeout=30)
        after_kill = json.loads(slow.run("audit", "-o", "json").stdout)
        assert slow.run("handout", "--user", "103701", "--group", GROUP).exit_code == 0
        both = json.loads(slow.run("audit", "-o", "json").stdout)
    finally:
        slow.stop()

    assert in_flight == [("sent",)]
    assert [e["outcome"] for e in live] == ["sent"]
    assert [e["outcome"] for e in after_kill] == ["unknown"]
    assert [(e["identifiers"]["userId"], e["outcome"]) for e in both] == [
        ("103701", "ok"),
        ("103700", "unknown"),
    ]
    assert len(ledger_query(tmp_path, "select id from changes")) == 2  # one record each
