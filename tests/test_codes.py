"""``voucherctl codes``: codes SPiD shows once are kept on disk before anything prints them."""

import csv
import io
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from tests import spid_stubs as stubs
from tests.conftest import fixture_json, table_lines
from tests.sandbox_process import VOUCHERCTL, SandboxProcess, ledger_rows
from voucherctl.core.redact import ScrubbedStream
from voucherctl.sandbox import SANDBOX

SAMPLE = fixture_json("spid_vouchers_handout.json")  # SPiD's documented sample answer
# The codes' own columns, then every other field schema codes declares (createdBy was dropped).
CSV = (
    "voucherCode,voucherId,voucherGroupId,type,created,"
    "status,userId,updated,createdBy,handoutBy,handoutTime,count,group\n"
    'SJ-FTMW-BN4A,557914,46,8,2014-08-05 14:37:03,,,,"[ID of admin user, or client]",,,,\n'
)


@pytest.fixture(autouse=True)
def credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VOUCHERCTL_SPID_URL", stubs.SPID)
    monkeypatch.setenv("VOUCHERCTL_SPID_TOKEN", stubs.TOKEN)


def kept_files(home: Path) -> list[Path]:
    folder = home / "data" / "codes"
    return sorted(folder.iterdir()) if folder.exists() else []


def test_codes_are_kept_0600_before_they_are_printed_as_json(cli, rsps, isolated_environment):
    stubs.vouchers_handout(rsps, "46", "1", SAMPLE)

    result = cli("codes", "46", "--amount", "1")

    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == SAMPLE
    [kept] = kept_files(isolated_environment)
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    assert stat.S_IMODE(kept.parent.stat().st_mode) == 0o700
    assert json.loads(kept.read_text())["vouchers"] == SAMPLE
    assert result.stderr == f"1 codes taken out of voucher group 46, kept in {kept}\n"


@pytest.mark.parametrize("fmt", ["json", "csv", "table"])
def test_the_kept_codes_are_on_disk_before_the_first_byte_reaches_stdout(
    cli, rsps, monkeypatch, tmp_path, fmt
) -> None:
    """Catches the fsync of the kept file (or of its folder, which holds its name) dropped or
    moved after printing: a crash just after the codes scroll by would then lose them."""
    stubs.vouchers_handout(rsps, "46", "1", SAMPLE)
    events: list[tuple[str, str]] = []
    real_fsync, real_write = os.fsync, ScrubbedStream.write

    def fsync(fd: int) -> None:
        events.append(("fsync", os.readlink(f"/proc/self/fd/{fd}")))
        real_fsync(fd)

    def write(self: ScrubbedStream, text: str) -> int:
        if self.raw is sys.stdout and text:
            events.append(("stdout", text))
        return real_write(self, text)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(ScrubbedStream, "write", write)
    out = tmp_path / "partner.csv"

    result = cli("codes", "46", "-o", fmt, "--out", str(out))

    assert result.exit_code == 0, result.stderr
    [kept] = kept_files(tmp_path / "home")
    first_print = next(n for n, (what, _) in enumerate(events) if what == "stdout")
    synced = [path for what, path in events[:first_print] if what == "fsync"]
    file_synced = synced.index(str(kept.with_name(f".{kept.name}.tmp")))
    assert str(kept.parent) in synced[file_synced + 1 :]  # its name, after its content
    assert str(out) in synced


def test_the_amount_defaults_to_one(cli, rsps) -> None:
    stubs.vouchers_handout(rsps, "46", "1", SAMPLE)

    assert cli("codes", "46").exit_code == 0


def test_two_runs_never_share_a_file(cli, rsps, isolated_environment) -> None:
    stubs.vouchers_handout(rsps, "46", "1", SAMPLE)
    cli("codes", "46")
    cli("codes", "46")

    assert len(kept_files(isolated_environment)) == 2


def test_csv_output_has_the_documented_columns(cli, rsps) -> None:
    stubs.vouchers_handout(rsps, "46", "1", SAMPLE)

    assert cli("codes", "46", "-o", "csv").stdout == CSV


def test_a_table_on_a_terminal_shows_the_code_whole(cli, rsps) -> None:
    stubs.vouchers_handout(rsps, "46", "1", SAMPLE)

    lines = table_lines(cli("codes", "46", tty=True).stdout)

    assert any(line.startswith("SJ-FTMW-BN4A 557914 46 payment method") for line in lines)


def test_out_writes_csv_to_a_new_0600_file(cli, rsps, tmp_path) -> None:
    stubs.vouchers_handout(rsps, "46", "1", SAMPLE)
    out = tmp_path / "partner.csv"

    result = cli("codes", "46", "--out", str(out))

    assert result.exit_code == 0, result.stderr
    assert out.read_text() == CSV
    assert stat.S_IMODE(out.stat().st_mode) == 0o600


def test_out_refuses_an_existing_file_and_sends_nothing(cli, rsps, tmp_path) -> None:
    out = tmp_path / "partner.csv"
    out.write_text("precious\n")

    result = cli("codes", "46", "--amount", "5", "--out", str(out))

    assert result.exit_code == 2
    assert "exists already" in result.stderr and "Nothing was sent" in result.stderr
    assert out.read_text() == "precious\n"
    assert len(rsps.calls) == 0


@pytest.mark.parametrize("amount", ["0", "-2", "1.5", "x"])
def test_a_bad_amount_is_a_usage_error_and_nothing_is_sent(cli, rsps, amount) -> None:
    assert cli("codes", "46", "--amount", amount).exit_code == 2
    assert len(rsps.calls) == 0


def test_a_5xx_is_exit_7_and_says_what_support_needs(cli, rsps, tmp_path) -> None:
    stubs.vouchers_handout(rsps, "46", "20", status=502, error="Bad gateway")
    out = tmp_path / "partner.csv"

    result = cli("codes", "46", "--amount", "20", "--out", str(out))

    assert result.exit_code == 7
    assert result.stdout == ""
    assert "Up to 20 codes may have been taken out of voucher group 46" in result.stderr
    assert "cannot be asked for again" in result.stderr
    assert not out.exists()  # the file made for them is gone again: a rerun may use the name


def test_more_than_are_left_is_refused_with_the_numbers(cli, rsps) -> None:
    text = "Only 3 vouchers available in voucher group 46, 5 asked for; none handed out"
    stubs.vouchers_handout(rsps, "46", "5", status=404, error=text)

    result = cli("codes", "46", "--amount", "5")

    assert result.exit_code == 5
    assert result.stderr.endswith(f"HTTP 404: {text}\n")


def test_an_unknown_group_is_not_found(cli, rsps) -> None:
    text = "Voucher group not found, or handouts not enabled"
    stubs.vouchers_handout(rsps, "46", "1", status=404, error=text)

    assert cli("codes", "46").exit_code == 3


def test_the_audit_log_has_the_request_and_the_file_never_the_codes(
    cli, rsps, isolated_environment
) -> None:
    stubs.vouchers_handout(rsps, "46", "1", SAMPLE)
    cli("codes", "46")

    data = isolated_environment / "data"
    [(identifiers,)] = ledger_rows(data, "select identifiers from changes")
    [kept] = kept_files(isolated_environment)
    assert json.loads(identifiers) == {
        "voucherGroupId": "46",
        "amount": "1",
        "codesFile": str(kept),
    }
    files = [p for p in data.glob("ledger.sqlite3*") if p.is_file()]
    assert b"SJ-FTMW-BN4A" not in b"".join(p.read_bytes() for p in files)


def test_codes_that_could_not_be_kept_are_not_asked_for(cli, rsps, isolated_environment) -> None:
    (isolated_environment / "data").mkdir(parents=True)
    (isolated_environment / "data" / "codes").write_text("a file where the folder goes")

    result = cli("codes", "46")

    assert result.exit_code == 2 and "nothing was sent" in result.stderr
    assert len(rsps.calls) == 0


def test_dry_run_sends_nothing(cli, rsps) -> None:
    result = cli("codes", "46", "--amount", "4", "--dry-run", "-o", "json")

    assert json.loads(result.stdout)["path"] == "/api/2/vouchers/handout/46"
    assert len(rsps.calls) == 0


# -- end to end: the installed CLI and the real sandbox server ----------------------------------


def unused(server: SandboxProcess, group: str) -> int:
    [(count,)] = server.query(
        "SELECT count(*) FROM spid_voucher WHERE group_id = ? AND status = 0", int(group)
    )
    return int(count)


def test_codes_survive_a_closed_stdout(tmp_path: Path) -> None:
    server = SandboxProcess(tmp_path / "state.sqlite3")
    group = SANDBOX.spid_group_id
    try:
        done = subprocess.run(
            ["sh", "-c", f'exec "{VOUCHERCTL}" codes {group} --amount 3 >&-'],
            env=server.environment(),
            capture_output=True,
            text=True,
            timeout=120,
        )
        handed_out = server.query(
            "SELECT code FROM spid_voucher WHERE group_id = ? AND status = 1", int(group)
        )
    finally:
        server.stop()

    assert done.returncode == 0, done.stderr
    assert "could not be printed" in done.stderr
    [kept] = sorted((tmp_path / "data" / "codes").iterdir())
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    codes = [voucher["voucherCode"] for voucher in json.loads(kept.read_text())["vouchers"]]
    assert sorted(codes) == sorted(code for (code,) in handed_out)
    assert len(codes) == 3


def test_out_refusal_end_to_end_sends_nothing(tmp_path: Path) -> None:
    server = SandboxProcess(tmp_path / "state.sqlite3")
    out = tmp_path / "partner.csv"
    out.write_text("")
    try:
        before = unused(server, SANDBOX.spid_group_id)
        refused = server.run("codes", SANDBOX.spid_group_id, "--amount", "2", "--out", str(out))
        after = unused(server, SANDBOX.spid_group_id)
    finally:
        server.stop()

    assert refused.exit_code == 2
    assert before == after


def test_generate_then_codes_to_a_file_end_to_end(tmp_path: Path) -> None:
    server = SandboxProcess(tmp_path / "state.sqlite3")
    group, out = SANDBOX.spid_empty_group_id, tmp_path / "codes.csv"
    try:
        made = server.run("generate", group, "--amount", "2")
        taken = server.run("codes", group, "--amount", "2", "--out", str(out))
        short = server.run("codes", group)
    finally:
        server.stop()

    assert (made.exit_code, taken.exit_code) == (0, 0), taken.stderr
    printed = json.loads(taken.stdout)
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert [
        {key: row[key] for key in ("voucherCode", "voucherId", "type", "created")} for row in rows
    ] == [
        {key: str(v[key]) for key in ("voucherCode", "voucherId", "type", "created")}
        for v in printed
    ]
    assert {row["voucherGroupId"] for row in rows} == {str(group)}
    assert short.exit_code == 5 and "Only 0 vouchers available" in short.stderr


def test_a_5xx_end_to_end_is_exit_7_with_the_reconcile_message(tmp_path: Path) -> None:
    """A failing server over the same state, with a token from a working one."""
    state = tmp_path / "state.sqlite3"
    working = SandboxProcess(state)
    try:
        token = requests.post(
            f"{working.url}/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=(SANDBOX.spid_client_id, SANDBOX.spid_client_secret),
            timeout=10,
        ).json()["access_token"]
    finally:
        working.stop()
    failing = SandboxProcess(state, "--fail-rate", "1")
    try:
        done = failing.run("codes", "47", "--amount", "4", VOUCHERCTL_SPID_TOKEN=token)
    finally:
        failing.stop()

    assert done.exit_code == 7, done.stderr
    assert "Up to 4 codes may have been taken out of voucher group 47" in done.stderr


def _file_size_limit(limit: int) -> None:
    import resource
    import signal

    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))


def test_codes_with_no_room_to_keep_them_are_not_asked_for(tmp_path: Path) -> None:
    """Catches codes taken on a full disk: the codes/ file failed, the printed copy was cut
    short on the same disk, and 87 of 200 codes existed nowhere. Room is checked first."""
    server = SandboxProcess(tmp_path / "state.sqlite3")
    try:
        before = unused(server, SANDBOX.spid_group_id)
        done = subprocess.run(
            [VOUCHERCTL, "codes", SANDBOX.spid_group_id, "--amount", "50"],
            env=server.environment(),
            capture_output=True,
            text=True,
            timeout=60,
            preexec_fn=lambda: _file_size_limit(20_000),
        )
        after = unused(server, SANDBOX.spid_group_id)
    finally:
        server.stop()

    assert done.returncode == 2, done.stderr
    assert "nothing was sent" in done.stderr
    assert before == after
