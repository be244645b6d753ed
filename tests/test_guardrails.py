"""Protected profiles, dry runs and the audit log."""

import json
from pathlib import Path

import pytest

from tests import spaaza_stubs, spid_stubs


@pytest.fixture
def protected_profile(isolated_environment: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = isolated_environment / "config" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text(
        "[profiles.prod]\nprotected = true\n\n"
        f'[profiles.prod.spid]\nbase_url = "{spid_stubs.SPID}"\n'
    )
    monkeypatch.setenv("VOUCHERCTL_SPID_TOKEN", spid_stubs.TOKEN)


def test_a_protected_profile_needs_yes_off_a_terminal(cli, rsps, protected_profile) -> None:
    result = cli("handout", "--user", "42", "--group", "47", "-p", "prod")

    assert result.exit_code == 2
    assert result.stderr == (
        "Profile 'prod' is protected: handout changes vouchers on https://spid.test.\n"
        "voucherctl: error: profile 'prod' is protected: add --yes to confirm changes when not "
        "on a terminal; nothing was sent\n"
    )


def test_yes_confirms(cli, rsps, protected_profile) -> None:
    spid_stubs.voucher_handout(rsps, "42", "47")

    result = cli("handout", "--user", "42", "--group", "47", "-p", "prod", "--yes")

    assert result.exit_code == 0
    assert "Profile 'prod' is protected" in result.stderr


def test_on_a_terminal_the_profile_name_must_be_typed(cli, rsps, protected_profile) -> None:
    spid_stubs.voucher_handout(rsps, "42", "47")

    typed = cli("handout", "--user", "42", "--group", "47", "-p", "prod", tty=True, input="prod\n")
    wrong = cli("handout", "--user", "42", "--group", "47", "-p", "prod", tty=True, input="yes\n")

    assert typed.exit_code == 0
    assert "Type the profile name (prod) to go on" in typed.stderr
    assert wrong.exit_code == 2
    assert "not confirmed; nothing was sent" in wrong.stderr


def test_a_protected_bulk_run_is_confirmed_after_validation(
    cli, rsps, protected_profile, tmp_path
) -> None:
    source = tmp_path / "rows.csv"
    source.write_text("userId,voucherGroupId\n42,47\n")

    result = cli("handout", "--from", str(source), "-p", "prod")

    assert result.exit_code == 2
    assert "add --yes" in result.stderr


def test_reads_are_not_guarded(cli, rsps, protected_profile) -> None:
    spid_stubs.get_voucher(rsps, "X", {"voucherCode": "X"})

    assert cli("show", "X", "-p", "prod").exit_code == 0


@pytest.mark.parametrize(
    ("args", "form"),
    [
        (["handout", "--user", "42", "--group", "47"], {"userId": "42", "voucherGroupId": "47"}),
        (
            ["claim", "--voucher-id", "5", "--user-id", "7", "--chain-id", "3"],
            {"voucher_id": "5", "user_id": "7", "chain_id": "3"},
        ),
        (
            ["lock", "--voucher-key", "k1", "--period", "120"],
            {"voucher_key": "k1", "voucher_lock_period": "120"},
        ),
        (["unlock", "--voucher-id", "5"], {"voucher_id": "5"}),
        (["unclaim", "--voucher-id", "5"], {"voucher_id": "5"}),
    ],
)
def test_dry_run_on_every_change_sends_nothing(cli, rsps, args, form) -> None:
    result = cli(*args, "--dry-run", "-o", "json")

    assert result.exit_code == 0
    assert json.loads(result.stdout)["form"] == form


def test_every_change_and_its_outcome_is_audited(cli, rsps, monkeypatch) -> None:
    spid_stubs.use_client_credentials(monkeypatch)
    spaaza_stubs.use_admin_session(monkeypatch)
    spid_stubs.oauth_token(rsps)
    spid_stubs.voucher_handout(rsps, "42", "47")
    spaaza_stubs.claim_voucher(
        rsps,
        {"voucher_id": "5", "user_id": "7", "chain_id": "3"},
        spaaza_stubs.error(300, "voucher_already_claimed", "Already claimed"),
        status=409,
    )
    cli("handout", "--user", "42", "--group", "47")
    cli("claim", "--voucher-id", "5", "--user-id", "7")

    result = cli("audit", "-o", "json")

    entries = list(reversed(json.loads(result.stdout)))  # newest first
    assert [(e["command"], e["outcome"], e["exit_code"]) for e in entries] == [
        ("handout", "ok", 0),
        ("claim", "failed", 5),
    ]
    assert entries[0]["identifiers"] == {"userId": "42", "voucherGroupId": "47"}
    assert entries[0]["host"] == spid_stubs.SPID
    assert entries[0]["profile"] == "default"
    assert entries[0]["user"]
    assert spid_stubs.TOKEN not in result.stdout and spid_stubs.CLIENT_SECRET not in result.stdout


def test_bulk_rows_are_audited_one_by_one(cli, rsps, monkeypatch, tmp_path) -> None:
    spid_stubs.use_client_credentials(monkeypatch)
    spid_stubs.oauth_token(rsps)
    spid_stubs.voucher_handout(rsps, "42", "47")
    spid_stubs.voucher_handout(rsps, "43", "47")
    source = tmp_path / "rows.csv"
    source.write_text("userId\n42\n43\n")

    cli("handout", "--from", str(source), "--group", "47")
    result = cli("audit", "--command", "handout", "-o", "jsonl")

    users = sorted(json.loads(line)["identifiers"]["userId"] for line in result.stdout.splitlines())
    assert users == ["42", "43"]


def test_dry_runs_are_not_audited(cli, rsps) -> None:
    cli("handout", "--user", "42", "--group", "47", "--dry-run")

    assert cli("audit", "-o", "json").stdout.strip() == "[]"


@pytest.mark.parametrize("since", ["24h", "7d", "30m", "2026-01-01", "2026-01-01T10:00"])
def test_since_takes_spans_and_dates(cli, since) -> None:
    assert cli("audit", "--since", since).exit_code == 0


def test_a_bad_since_is_a_usage_error(cli) -> None:
    result = cli("audit", "--since", "yesterday")

    assert result.exit_code == 2
    assert "give a span like 24h" in result.stderr
