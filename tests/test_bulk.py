"""Bulk runs against strict stubs: validation, journal, resume, outputs and exit codes."""

import json
from pathlib import Path

import pytest
import requests

from tests import spid_stubs as stubs
from tests.conftest import spid_container


@pytest.fixture(autouse=True)
def credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    stubs.use_client_credentials(monkeypatch)


def csv_file(tmp_path: Path, text: str) -> str:
    path = tmp_path / "rows.csv"
    path.write_text(text, encoding="utf-8")
    return str(path)


def records(stdout: str) -> list[dict]:
    return [json.loads(line) for line in stdout.splitlines()]


def test_every_row_is_sent_once_and_reported(cli, rsps, tmp_path) -> None:
    source = csv_file(tmp_path, "userId,voucherGroupId\n42,47\n43,47\n")
    stubs.oauth_token(rsps)
    stubs.voucher_handout(rsps, "42", "47")
    stubs.voucher_handout(rsps, "43", "47", success=False, error="No vouchers available")

    result = cli("handout", "--from", source, "--concurrency", "1")

    assert result.exit_code == 8
    by_line = {r["line"]: r for r in records(result.stdout)}
    assert by_line[2] == {
        "line": 2,
        "input": {"userId": "42", "voucherGroupId": "47"},
        "outcome": "ok",
        "exit_code": 0,
        "error": None,
        "result": {"success": True, "userId": "42", "voucherGroupId": "47"},
    }
    assert by_line[3]["outcome"] == "failed"
    assert by_line[3]["exit_code"] == 5
    assert "handout: 2 of 2 rows: 1 ok, 1 failed" in result.stderr


def test_an_option_fills_a_column_the_file_lacks(cli, rsps, tmp_path) -> None:
    source = csv_file(tmp_path, "userId\n42\n")
    stubs.oauth_token(rsps)
    stubs.voucher_handout(rsps, "42", "47")

    result = cli("handout", "--from", source, "--group", "47")

    assert result.exit_code == 0
    assert records(result.stdout)[0]["input"] == {"userId": "42", "voucherGroupId": "47"}


def test_an_option_for_a_column_the_file_has_is_a_usage_error(cli, rsps, tmp_path) -> None:
    source = csv_file(tmp_path, "userId,voucherGroupId\n42,47\n")

    result = cli("handout", "--from", source, "--group", "47")

    assert result.exit_code == 2
    assert "voucherGroupId that a command-line option also gives" in result.stderr


def test_invalid_rows_stop_the_run_before_anything_is_sent(cli, rsps, tmp_path) -> None:
    source = csv_file(tmp_path, "userId,voucherGroupId\n42,47\nabc,47\n44\n")

    result = cli("handout", "--from", source)

    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert (
        f"voucherctl: error: {source}: line 3: userId must be a positive whole number" in lines[0]
    )
    assert "line 4: has 1 cells, the header names 2 columns" in lines[1]
    assert "2 of 3 rows are invalid" in lines[2]


def test_skip_invalid_sends_the_rest_and_reports_the_invalid_as_failed(cli, rsps, tmp_path):
    source = csv_file(tmp_path, "userId,voucherGroupId\n42,47\nabc,47\n")
    stubs.oauth_token(rsps)
    stubs.voucher_handout(rsps, "42", "47")

    result = cli("handout", "--from", source, "--skip-invalid")

    assert result.exit_code == 8
    by_line = {r["line"]: r for r in records(result.stdout)}
    assert by_line[2]["outcome"] == "ok"
    assert by_line[3]["outcome"] == "failed" and by_line[3]["exit_code"] == 2


def test_a_second_run_with_the_journal_skips_rows_done(cli, rsps, tmp_path) -> None:
    source = csv_file(tmp_path, "userId,voucherGroupId\n42,47\n43,47\n")
    journal = str(tmp_path / "j.jsonl")
    stubs.oauth_token(rsps)
    stubs.voucher_handout(rsps, "42", "47")
    stubs.voucher_handout(rsps, "43", "47", status=404, error="User not found")
    assert cli("handout", "--from", source, "--journal", journal).exit_code == 8

    stubs.oauth_token(rsps)
    stubs.voucher_handout(rsps, "43", "47")  # the failed row is sent again, the done one not
    result = cli("handout", "--from", source, "--journal", journal)

    assert result.exit_code == 0
    outcomes = {r["line"]: r["outcome"] for r in records(result.stdout)}
    assert outcomes == {2: "skipped", 3: "ok"}


def test_a_row_with_no_answer_is_unknown_and_not_resent(cli, rsps, tmp_path) -> None:
    source = csv_file(tmp_path, "userId,voucherGroupId\n42,47\n")
    journal = str(tmp_path / "j.jsonl")
    stubs.oauth_token(rsps)
    rsps.post(
        f"{stubs.SPID}/api/2/voucher_handout",
        body=requests.exceptions.ReadTimeout("read timed out"),
    )
    first = cli("handout", "--from", source, "--journal", journal)
    assert first.exit_code == 8
    assert records(first.stdout)[0]["outcome"] == "unknown"

    stubs.oauth_token(rsps)  # nothing else: the row must not be sent again
    second = cli("handout", "--from", source, "--journal", journal)

    assert second.exit_code == 8
    [row] = records(second.stdout)
    assert row["outcome"] == "unknown"
    assert "--retry-unknown" in row["error"]["message"]


def test_retry_unknown_resends(cli, rsps, tmp_path) -> None:
    source = csv_file(tmp_path, "userId,voucherGroupId\n42,47\n")
    journal = tmp_path / "j.jsonl"
    journal.write_text(
        json.dumps({"voucherctl_journal": 1, "command": "handout", "host": stubs.SPID, "fixed": {}})
        + "\n"
        + json.dumps(
            {"line": 2, "hash": _digest({"userId": "42", "voucherGroupId": "47"}), "state": "sent"}
        )
        + "\n"
    )
    stubs.oauth_token(rsps)
    stubs.voucher_handout(rsps, "42", "47")

    result = cli("handout", "--from", source, "--journal", str(journal), "--retry-unknown")

    assert result.exit_code == 0
    assert records(result.stdout)[0]["outcome"] == "ok"


def test_a_journal_of_another_command_is_refused(cli, rsps, tmp_path) -> None:
    source = csv_file(tmp_path, "userId,voucherGroupId\n42,47\n")
    journal = tmp_path / "j.jsonl"
    journal.write_text(
        json.dumps({"voucherctl_journal": 1, "command": "claim", "host": stubs.SPID, "fixed": {}})
        + "\n"
    )
    stubs.oauth_token(rsps)

    result = cli("handout", "--from", source, "--journal", str(journal))

    assert result.exit_code == 2
    assert "records a different run (command 'claim'" in result.stderr


def test_a_refused_credential_stops_the_run_with_exit_4(cli, rsps, tmp_path) -> None:
    source = csv_file(tmp_path, "userId,voucherGroupId\n42,47\n")
    stubs.oauth_token(rsps, status=401, body={"error": "invalid_client", "error_code": 401})

    result = cli("handout", "--from", source)

    assert result.exit_code == 4
    assert result.stdout == ""


def test_dry_run_prints_requests_and_sends_nothing(cli, rsps, tmp_path) -> None:
    source = csv_file(tmp_path, "userId\n42\n43\n")

    result = cli("handout", "--from", source, "--group", "47", "--dry-run")

    assert result.exit_code == 0
    assert records(result.stdout)[1] == {
        "line": 3,
        "input": {"userId": "43", "voucherGroupId": "47"},
        "request": {
            "method": "POST",
            "path": "/api/2/voucher_handout",
            "form": {"userId": "43", "voucherGroupId": "47"},
        },
        "error": None,
    }


def test_stdin_and_csv_output(cli, rsps) -> None:
    stubs.oauth_token(rsps)
    stubs.voucher_handout(rsps, "42", "47")

    result = cli(
        "handout", "--from", "-", "-o", "csv", input="\ufeffuserId,voucherGroupId\n42,47\n"
    )

    assert result.exit_code == 0
    header, row = result.stdout.splitlines()
    assert header == "line,outcome,exit_code,error,userId,voucherGroupId,result"
    assert row.startswith("2,ok,0,,42,47,")


def test_bulk_options_need_from(cli, rsps) -> None:
    result = cli("handout", "--user", "1", "--group", "2", "--journal", "x")

    assert result.exit_code == 2
    assert "--journal can only be used with --from FILE" in result.stderr


def test_a_mistyped_column_is_named_and_its_rows_stop_the_run(cli, rsps, tmp_path) -> None:
    source = csv_file(tmp_path, "userId,voucherGroupID\n42,47\n")

    result = cli("handout", "--from", source)

    assert result.exit_code == 2
    assert "handout ignores the column(s) voucherGroupID" in result.stderr
    assert "line 2: voucherGroupId is required" in result.stderr


def _digest(values: dict) -> str:
    from voucherctl.storage.ledger import digest

    return digest(values)


def test_the_request_index_counts_every_repeat_while_growing() -> None:
    from voucherctl.bulk.rows import RequestIndex
    from voucherctl.storage.ledger import digest

    index = RequestIndex(capacity=4)
    noted = [index.note(digest({"userId": str(line % 700)}), line) for line in range(3000)]

    assert noted == [(line % 700, line // 700) for line in range(3000)]


def test_a_chain_id_from_the_environment_yields_to_the_files_column(
    cli, rsps, tmp_path, monkeypatch
) -> None:
    from tests import spaaza_stubs

    spaaza_stubs.use_admin_session(monkeypatch, chain_id="3")
    source = csv_file(tmp_path, "voucher_id,user_id,chain_id\n5,1,9\n6,1,\n")
    claimed = {"voucher_id": 5, "voucher_status": "claimed"}
    spaaza_stubs.claim_voucher(
        rsps, {"voucher_id": "5", "user_id": "1", "chain_id": "9"}, spaaza_stubs.ok(claimed)
    )
    spaaza_stubs.claim_voucher(
        rsps,
        {"voucher_id": "6", "user_id": "1", "chain_id": "3"},
        spaaza_stubs.ok({**claimed, "voucher_id": 6}),
    )

    result = cli("claim", "--from", source, "--concurrency", "1")

    assert result.exit_code == 0, result.stderr
    assert [r["input"]["chain_id"] for r in records(result.stdout)] == ["9", "3"]


def test_a_typed_chain_id_for_a_file_with_the_column_is_refused(cli, rsps, tmp_path) -> None:
    source = csv_file(tmp_path, "voucher_id,chain_id\n5,9\n")

    result = cli("claim", "--from", source, "--chain-id", "3")

    assert result.exit_code == 2
    assert "chain_id that a command-line option also gives" in result.stderr


def test_in_a_log_progress_is_a_plain_line_now_and_then(cli, rsps, tmp_path, monkeypatch) -> None:
    """Hours-long runs in cron or CI say how far they are without carriage-return animation."""
    import time as clock

    monkeypatch.setattr("voucherctl.bulk.progress.LOG_EVERY_SECONDS", 0.05)
    source = csv_file(
        tmp_path, "userId,voucherGroupId\n" + "".join(f"{u},47\n" for u in range(1, 7))
    )
    stubs.oauth_token(rsps)

    def slow(request):  # each handout takes a moment, so the progress line comes round
        clock.sleep(0.04)
        return (200, {}, json.dumps(spid_container({"success": True}, obj="Success")))

    rsps.add_callback("POST", f"{stubs.SPID}/api/2/voucher_handout", callback=slow)

    result = cli("handout", "--from", source, "--concurrency", "1")

    assert result.exit_code == 0, result.stderr
    lines = [line for line in result.stderr.splitlines() if " of 6 rows (" in line]
    assert lines and "\r" not in result.stderr
    assert lines[0].startswith("handout: ") and "rows/s" in lines[0]


def test_the_progress_line_says_when_the_quota_resets() -> None:
    from voucherctl.api.transport.pacing import Pacer, clock_time
    from voucherctl.bulk.progress import Progress
    from voucherctl.ui.environment import Environment

    pacer = Pacer()
    pacer.waiting_until = 2_000_000_000.0
    progress = Progress(Environment(), "handout", 300, pacer)
    progress.done = 100

    assert progress.line().startswith("handout: 100 of 300 rows (33%), ")
    assert progress.line().endswith(f"; waiting for the quota to reset at {clock_time(2e9)}")
