"""Bulk runs outside the cases a single run imagines: two runs at once, files edited between
runs, a finished file run again, data directories that cannot be written, disks that fill,
odd journals and closed streams. Each test names the bug it catches."""

import json
import os
import resource
import signal
import stat
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.sandbox_process import VOUCHERCTL, Done, SandboxProcess, base_environment, run_cli
from voucherctl.sandbox import SANDBOX

GROUP = SANDBOX.spid_handout_group_id


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[SandboxProcess]:
    server = SandboxProcess(tmp_path / "state.sqlite3", "--latency", "30")
    yield server
    server.stop()


def users_file(path: Path, users: list[int]) -> Path:
    path.write_text("userId,voucherGroupId\n" + "".join(f"{u},{GROUP}\n" for u in users))
    return path


def vouchers_per_user(sandbox: SandboxProcess, users: list[int]) -> Counter[int]:
    rows = sandbox.query(
        "select user_id, count(*) from spid_voucher where user_id between ? and ? group by user_id",
        min(users),
        max(users),
    )
    return Counter(dict(rows))


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


def wait_for_start(journal: Path) -> None:
    """Until the run holding ``journal`` has begun sending (its first row is recorded)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if journal.exists() and b'"state": "sent"' in journal.read_bytes():
            return
        time.sleep(0.02)
    raise AssertionError(f"no run started on {journal}")


def wait_for_a_handout(sandbox: SandboxProcess, users: list[int]) -> None:
    """Until the sandbox has handed a voucher to one of ``users``: a run is sending."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if vouchers_per_user(sandbox, users):
            return
        time.sleep(0.02)
    raise AssertionError(f"no voucher handed out to users {users[0]}..{users[-1]}")


@pytest.mark.parametrize("journal_option", [True, False], ids=["--journal", "default journal"])
def test_a_second_run_on_a_journal_in_use_is_refused_and_sends_nothing(
    sandbox, tmp_path, journal_option
) -> None:
    """Catches two runs sharing a journal: both sent every row, and 1,992 of 2,000 users got
    two vouchers. The second run must be refused at once (exit 2), naming the journal."""
    users = list(range(102000, 102120))
    source = users_file(tmp_path / "users.csv", users)
    journal = tmp_path / "journal.jsonl"
    args = ["handout", "--from", str(source), "--concurrency", "2"]
    if journal_option:
        args += ["--journal", str(journal)]
    first = start(sandbox, *args)
    try:
        if not journal_option:  # the default journal: found once the first run made it
            folder = tmp_path / "data" / "journals"
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and not list(folder.glob("handout-*.jsonl")):
                time.sleep(0.02)
            [journal] = folder.glob("handout-*.jsonl")
        wait_for_start(journal)
        second = sandbox.run(*args)
    finally:
        _, stderr = first.communicate(timeout=120)

    assert second.exit_code == 2
    assert second.stdout == ""
    assert "is in use by another voucherctl run" in second.stderr
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
    assert "--journal" in again.stderr
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
    """Catches a journal on a filling disk ending the run with exit 1, no summary, and rows
    never reported; and audit-log write errors turning succeeded rows into unknown ones."""
    users = list(range(102700, 102760))
    source = users_file(tmp_path / "users.csv", users)
    journal = tmp_path / "j.jsonl"
    command = [VOUCHERCTL, "handout", "--from", str(source), "--journal", str(journal)]
    full = subprocess.run(
        [*command, "--concurrency", "1"],
        env=sandbox.environment(),
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=lambda: _file_size_limit(3000),
    )

    reported = [json.loads(line) for line in full.stdout.splitlines()]
    assert full.returncode == 1, full.stderr
    # Whichever file fills first (the audit log's records are longer) stops the run.
    assert "stopped accepting records" in full.stderr or "cannot write to" in full.stderr
    assert "not started" in full.stderr  # the summary
    ok = [r for r in reported if r["outcome"] == "ok"]
    refused = [r for r in reported if r["outcome"] != "ok"]
    assert len(refused) <= 1 and all(r["exit_code"] == 2 for r in refused)  # not sent
    assert 0 < len(ok) < len(users)
    given = vouchers_per_user(sandbox, users)
    assert set(given.values()) == {1} and len(given) >= len(ok)

    # Room again: the run goes on and everyone has exactly one voucher. A row whose "ok" the
    # full disk lost is unknown (sent, outcome not recorded) and is not sent again.
    rest = sandbox.run(*command[1:])
    assert rest.exit_code == 0, rest.stderr
    assert vouchers_per_user(sandbox, users) == Counter(dict.fromkeys(users, 1))
    audited = json.loads(sandbox.run("audit", "-o", "json").stdout)
    assert {e["identifiers"]["userId"] for e in audited} == {str(u) for u in users}


@pytest.mark.parametrize("kind", ["fifo", "/dev/null", "folder"])
def test_a_journal_that_is_not_a_regular_file_is_refused(sandbox, tmp_path, kind) -> None:
    """Catches a FIFO given as --journal hanging forever, and /dev/null accepted as one."""
    journal = {"fifo": tmp_path / "fifo", "/dev/null": Path("/dev/null"), "folder": tmp_path}[kind]
    if kind == "fifo":
        os.mkfifo(journal)
    source = users_file(tmp_path / "users.csv", [102800])

    done = sandbox.run("handout", "--from", str(source), "--journal", str(journal))

    assert done.exit_code == 2
    assert "journal" in done.stderr and "nothing was sent" in done.stderr
    assert vouchers_per_user(sandbox, [102800]) == Counter()


@pytest.mark.parametrize(
    "damage",
    [b"\xff\xfe not utf-8\n", b'{"row": "ab/0", "line": 1' + b"9" * 5000 + b', "state": "ok"}\n'],
    ids=["invalid UTF-8", "a number too large"],
)
def test_a_damaged_journal_is_a_usage_error_naming_it(sandbox, tmp_path, damage) -> None:
    """Catches a damaged journal ending in 'unexpected error' (exit 1)."""
    source = users_file(tmp_path / "users.csv", [102900])
    journal = tmp_path / "j.jsonl"
    command = ("handout", "--from", str(source), "--journal", str(journal))
    assert sandbox.run(*command).exit_code == 0
    journal.write_bytes(journal.read_bytes() + damage + b'{"run": "start"}\n')

    done = sandbox.run(*command)

    assert done.exit_code == 2
    assert f"the journal {journal} is damaged at line" in done.stderr


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


def test_stdin_in_another_order_or_with_a_line_more_is_the_same_run(sandbox, tmp_path) -> None:
    """Catches the default journal of --from - being keyed by the piped content: the same rows
    reordered (a query with no fixed order) started a fresh run and sent every row again."""
    users = list(range(103100, 103110))
    source = users_file(tmp_path / "users.csv", users)
    first = sandbox.run("handout", "--from", "-", input=source.read_text())
    assert first.exit_code == 0, first.stderr

    reordered = "userId,voucherGroupId\n" + "".join(
        f"{u},{GROUP}\n" for u in [103110, *users[::-1]]
    )
    again = sandbox.run("handout", "--from", "-", input=reordered)
    resumed = sandbox.run("handout", "--from", "-", "--resume", input=reordered)

    assert again.exit_code == 2 and "already run to the end" in again.stderr
    assert resumed.exit_code == 0, resumed.stderr
    assert outcomes(resumed) == Counter({"skipped": 10, "ok": 1})
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
        assert "were done before" in done.stderr and "--journal" in done.stderr
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
    assert [json.loads(line)["outcome"] for line in done.stdout.splitlines()] == ["failed"]
    assert "nothing was sent" in done.stdout and "not started" in done.stderr


def test_a_row_whose_journal_outcome_was_lost_is_known_done_from_the_audit_log(
    sandbox, tmp_path
) -> None:
    """Catches a successful row whose "ok" the full disk kept out of the journal being reported
    unknown ever after, with advice (--retry-unknown) that would give a second voucher."""
    users = list(range(103400, 103403))
    source = users_file(tmp_path / "users.csv", users)
    journal = tmp_path / "j.jsonl"
    command = ("handout", "--from", str(source), "--journal", str(journal))
    assert sandbox.run(*command).exit_code == 0
    # As if the disk had filled after user 103402's "sent": its "ok" (and the end) never made it.
    lines = journal.read_text().splitlines()
    last_sent = max(i for i, line in enumerate(lines) if '"state": "sent"' in line)
    journal.write_text("\n".join(lines[: last_sent + 1]) + "\n")

    again = sandbox.run(*command)

    assert again.exit_code == 0, again.stderr
    assert outcomes(again) == Counter({"skipped": 3})
    assert vouchers_per_user(sandbox, users) == Counter(dict.fromkeys(users, 1))


def test_a_journal_that_is_also_stdout_is_refused(sandbox, tmp_path) -> None:
    """Catches '--journal j.jsonl > j.jsonl': the shell empties the journal first, and the
    run sent every row again as if new."""
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

    assert done.returncode == 2
    assert "is also where stdout goes" in done.stderr
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


def test_the_audit_log_names_a_change_before_it_is_sent(sandbox, tmp_path) -> None:
    """A change is in the audit log as sent before its request goes out, so a kill between
    the two leaves it listed as unknown, never missing; a cut record swallows no other."""
    log = tmp_path / "data" / "audit.jsonl"
    assert sandbox.run("handout", "--user", "103700", "--group", GROUP).exit_code == 0
    records = [json.loads(line) for line in log.read_text().splitlines()]
    assert [r["outcome"] for r in records] == ["sent", "ok"]
    assert records[0]["change"] == records[1]["change"]

    log.write_bytes(log.read_bytes() + b'{"time": "2026-11-29T00:00:00Z", "change": "cut')
    assert sandbox.run("handout", "--user", "103701", "--group", GROUP).exit_code == 0
    shown = json.loads(sandbox.run("audit", "-o", "json").stdout)

    assert [(e["identifiers"]["userId"], e["outcome"]) for e in shown] == [
        ("103701", "ok"),
        ("103700", "ok"),
    ]


def test_a_named_journal_leaves_its_folder_and_the_input_as_they_were(sandbox, tmp_path) -> None:
    """Catches voucherctl chmodding a folder it did not make (a team's 2775 folder, /dev as
    root) and repairing a file that is not its journal (the input CSV lost its last line)."""
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o2775)
    source = tmp_path / "u.csv"
    source.write_bytes(b"userId,voucherGroupId\n102801,47\n102802,47")  # no final newline

    done = sandbox.run("handout", "--from", str(source), "--journal", str(source))
    assert done.exit_code == 2
    assert "not a voucherctl journal" in done.stderr
    assert source.read_bytes() == b"userId,voucherGroupId\n102801,47\n102802,47"

    done = sandbox.run("handout", "--from", str(source), "--journal", str(shared / "j.jsonl"))
    assert done.exit_code == 0, done.stderr
    assert stat.S_IMODE(shared.stat().st_mode) == 0o2775
