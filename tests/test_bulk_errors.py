"""How a bulk run that stops tells a script (docs/contract.md#for-scripts): under -o json|jsonl
the last stderr line, and with -q the only one, is the error object; every row of the file prints,
rows not started as skipped with an error named not_started; a row done elsewhere carries its note
as an error object named done_elsewhere."""

import json
import os
import shutil
import subprocess
from pathlib import Path

from tests.hostile_server import HostileServer, reply
from tests.sandbox_process import VOUCHERCTL, SandboxProcess, base_environment, run_cli
from tests.schema_check import check
from voucherctl.sandbox import SANDBOX


def users_file(path: Path, users: range, group: int = 47) -> Path:
    path.write_text("userId,voucherGroupId\n" + "".join(f"{u},{group}\n" for u in users))
    return path


def error_only(stderr: str) -> dict[str, object]:
    """stderr is exactly one line, the error object; its inner object."""
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    document = json.loads(lines[0])
    check("error", document, "stderr")
    return document["error"]  # type: ignore[no-any-return]


def test_invalid_rows_are_only_the_error_object_under_json_and_quiet(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("userId,voucherGroupId\nnot-a-user,47\n100000,47\n")
    env = base_environment(tmp_path)
    env["VOUCHERCTL_OUTPUT"] = "json"
    done = run_cli("handout", "--from", str(bad), "--sandbox", "-q", "-o", "jsonl", env=env)
    assert done.exit_code == 2
    error = error_only(done.stderr)
    assert error["api_error"] == "invalid_rows"
    assert "line 2" in str(error["message"])  # the bad row is named inside the object


def test_invalid_rows_keep_their_text_lines_without_json(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("userId,voucherGroupId\nnot-a-user,47\n")
    done = run_cli(
        "handout", "--from", str(bad), "--sandbox", "-o", "table", env=base_environment(tmp_path)
    )
    assert done.exit_code == 2
    assert f"voucherctl: error: {bad}: line 2: " in done.stderr


def test_a_spent_quota_ends_with_the_error_object_and_prints_every_row(tmp_path: Path) -> None:
    server = SandboxProcess(tmp_path / "state.sqlite3", "--quota", "6", "--quota-window", "20")
    try:
        source = users_file(tmp_path / "users.csv", range(105000, 105012))
        done = server.run(
            "handout",
            "--from",
            str(source),
            "--concurrency",
            "1",
            "--max-wait",
            "1",
            "-q",
            "-o",
            "jsonl",
        )
    finally:
        server.stop()
    assert done.exit_code == 6, done.stderr
    error = error_only(done.stderr)
    assert error["api_error"] == "quota_spent" and error["exit_code"] == 6
    records = [json.loads(line) for line in done.stdout.splitlines()]
    for record in records:
        check("row", record, "stdout")
    assert sorted(r["line"] for r in records) == list(range(2, 14))  # every row of the file
    not_started = [r for r in records if (r["error"] or {}).get("api_error") == "not_started"]
    assert not_started and all(r["outcome"] == "skipped" for r in not_started)
    assert all(r["exit_code"] == 6 and r["error"]["exit_code"] == 6 for r in not_started)


def test_the_summary_counts_the_rows_not_started(tmp_path: Path) -> None:
    server = SandboxProcess(tmp_path / "state.sqlite3", "--quota", "6", "--quota-window", "20")
    try:
        source = users_file(tmp_path / "users.csv", range(105100, 105112))
        done = server.run(
            "handout", "--from", str(source), "--concurrency", "1", "--max-wait", "1", "-o", "jsonl"
        )
    finally:
        server.stop()
    assert done.exit_code == 6
    lines = done.stderr.splitlines()
    assert json.loads(lines[-1])["error"]["api_error"] == "quota_spent"  # the last line
    records = [json.loads(line) for line in done.stdout.splitlines()]
    skipped = sum(1 for r in records if r["outcome"] == "skipped")
    assert f"; {skipped} not started" in done.stderr


def test_a_closed_stdout_ends_with_the_error_object(tmp_path: Path) -> None:
    source = users_file(tmp_path / "users.csv", range(105200, 105203))
    done = subprocess.run(
        [VOUCHERCTL, "handout", "--from", str(source), "--sandbox", "-q", "-o", "jsonl"],
        stderr=subprocess.PIPE,
        text=True,
        env=base_environment(tmp_path),
        preexec_fn=lambda: os.close(1),  # started with stdout closed (>&-)
    )
    assert done.returncode == 1, done.stderr
    assert error_only(done.stderr)["api_error"] == "output_closed"


def test_credentials_refused_mid_run_end_with_the_error_object(tmp_path: Path) -> None:
    refused = {"error": {"code": 401, "name": "invalid_session", "description": "no"}}
    server = HostileServer(lambda request: reply(401, refused))
    try:
        source = tmp_path / "lock.csv"
        source.write_text("voucher_key\nk1\nk2\nk3\n")
        env = base_environment(tmp_path)
        env.update(
            VOUCHERCTL_SPAAZA_URL=server.url,
            VOUCHERCTL_SPAAZA_USER_ID=str(SANDBOX.spaaza_session_user_id),
            VOUCHERCTL_SPAAZA_SESSION_KEY=SANDBOX.spaaza_session_key,
            VOUCHERCTL_SPAAZA_CHAIN_ID=str(SANDBOX.spaaza_chain_id),
            VOUCHERCTL_OUTPUT="json",
        )
        quiet = run_cli("unlock", "--from", str(source), "--concurrency", "1", "-q", env=env)
        loud = run_cli(
            "unlock",
            "--from",
            str(source),
            "--concurrency",
            "1",
            "--run",
            "b",
            "-o",
            "table",
            env=env,
        )
    finally:
        server.close()
    assert quiet.exit_code == 4, quiet.stderr
    error = error_only(quiet.stderr)
    assert error["exit_code"] == 4 and error["http_status"] == 401
    assert loud.exit_code == 4
    assert loud.stderr.splitlines()[-1].startswith("voucherctl: error: ")


def test_rows_failed_end_with_the_error_object_under_json(tmp_path: Path) -> None:
    source = tmp_path / "claims.csv"
    source.write_text("voucher_key,user_id\nno-such-key,1107604\n")
    env = base_environment(tmp_path)
    done = run_cli("claim", "--from", str(source), "--sandbox", "-q", "-o", "jsonl", env=env)
    assert done.exit_code == 8, done.stderr
    assert error_only(done.stderr)["api_error"] == "rows_failed"
    table = run_cli(
        "claim", "--from", str(source), "--sandbox", "-q", "-o", "table", "--again", env=env
    )
    assert table.exit_code == 8 and "error" not in table.stderr  # people keep the table


def test_a_copy_under_sandbox_is_refused_and_reset_allows_a_fresh_run(tmp_path: Path) -> None:
    env = base_environment(tmp_path)
    first = users_file(tmp_path / "a.csv", range(105300, 105302))
    copy = tmp_path / "copy.csv"
    shutil.copy(first, copy)
    assert run_cli("handout", "--from", str(first), "--sandbox", "-q", env=env).exit_code == 0
    again = run_cli("handout", "--from", str(copy), "--sandbox", "-q", "-o", "json", env=env)
    assert again.exit_code == 2
    assert error_only(again.stderr)["api_error"] == "run_finished"  # a copy: the same input
    assert run_cli("sandbox", "reset", env=env).exit_code == 0
    fresh = run_cli("handout", "--from", str(copy), "--sandbox", "-q", "-o", "jsonl", env=env)
    assert fresh.exit_code == 0, fresh.stderr
    assert [json.loads(x)["outcome"] for x in fresh.stdout.splitlines()] == ["ok", "ok"]


def test_a_row_done_elsewhere_carries_its_note_as_an_error_object(tmp_path: Path) -> None:
    env = base_environment(tmp_path)
    first = users_file(tmp_path / "a.csv", range(105400, 105401))
    both = users_file(tmp_path / "b.csv", range(105400, 105402))
    assert run_cli("handout", "--from", str(first), "--sandbox", "-q", env=env).exit_code == 0
    done = run_cli("handout", "--from", str(both), "--sandbox", "-q", "-o", "jsonl", env=env)
    assert done.exit_code == 0, done.stderr
    records = [json.loads(line) for line in done.stdout.splitlines()]
    for record in records:
        check("row", record, "stdout")
    skipped = records[0]
    assert skipped["outcome"] == "skipped" and skipped["exit_code"] == 0
    assert skipped["error"]["api_error"] == "done_elsewhere"
    assert skipped["error"]["exit_code"] == 0 and "done before" in skipped["error"]["message"]
