"""``voucherctl generate``: SPiD's POST /api/2/vouchers/generate/{id}, answering only success."""

import json
from pathlib import Path

import pytest

from tests import spid_stubs as stubs
from tests.conftest import table_lines
from tests.sandbox_process import SandboxProcess
from voucherctl.sandbox import SANDBOX


@pytest.fixture(autouse=True)
def credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    stubs.use_client_credentials(monkeypatch)


def test_generate_sends_the_amount_and_prints_the_outcome(cli, rsps) -> None:
    stubs.oauth_token(rsps)
    stubs.vouchers_generate(rsps, "47", "3")

    result = cli("generate", "47", "--amount", "3")

    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == {"success": True, "voucherGroupId": "47", "amount": 3}
    assert result.stderr == ""


def test_generate_table_on_a_terminal(cli, rsps) -> None:
    stubs.oauth_token(rsps)
    stubs.vouchers_generate(rsps, "47", "3")

    lines = table_lines(cli("generate", "47", "--amount", "3", tty=True).stdout)

    assert {"Generated yes", "Voucher group 47", "Amount 3"} <= set(lines)


@pytest.mark.parametrize("amount", ["0", "-1", "1.5", "abc", "1e3", " ", "3.0"])
def test_a_bad_amount_is_a_usage_error_and_nothing_is_sent(cli, rsps, amount) -> None:
    result = cli("generate", "47", "--amount", amount)

    assert result.exit_code == 2
    assert "--amount must be a whole number, 1 or more" in result.stderr
    assert len(rsps.calls) == 0


def test_the_amount_is_required(cli, rsps) -> None:
    result = cli("generate", "47")

    assert result.exit_code == 2 and "--amount" in result.stderr
    assert len(rsps.calls) == 0


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Voucher group not found", 3),
        ("Voucher group 38 is shared: its vouchers share one code (unique 0)", 5),
        ("Voucher group 49 allows 15 vouchers and has 10: 6 more would pass its limit", 5),
        ("Unknown client ID", 4),
    ],
)
def test_a_404_exits_as_its_text_says(cli, rsps, text, code) -> None:
    stubs.oauth_token(rsps)
    stubs.vouchers_generate(rsps, "47", "1", status=404, error=text)

    result = cli("generate", "47", "--amount", "1")

    assert result.exit_code == code
    assert result.stdout == ""
    assert result.stderr.endswith(f"HTTP 404: {text}\n")


def test_a_5xx_is_an_unknown_outcome_exit_7(cli, rsps) -> None:
    stubs.oauth_token(rsps)
    stubs.vouchers_generate(rsps, "47", "2", status=503, error="Service unavailable")

    result = cli("generate", "47", "--amount", "2")

    assert result.exit_code == 7
    assert "may or may not have been made" in result.stderr


def test_dry_run_shows_the_path_and_form_and_sends_nothing(cli, rsps) -> None:
    result = cli("generate", "47", "--amount", "2", "--dry-run", "-o", "json")

    assert result.exit_code == 0
    assert json.loads(result.stdout) == {
        "method": "POST",
        "path": "/api/2/vouchers/generate/47",
        "form": {"amount": "2"},
    }
    assert len(rsps.calls) == 0


def test_generate_is_audited(cli, rsps) -> None:
    stubs.oauth_token(rsps)
    stubs.vouchers_generate(rsps, "47", "2")
    cli("generate", "47", "--amount", "2")

    audit = json.loads(cli("audit", "-o", "json").stdout)

    assert [(e["command"], e["identifiers"], e["outcome"]) for e in audit] == [
        ("generate", {"voucherGroupId": "47", "amount": "2"}, "ok")
    ]


def test_a_protected_profile_needs_yes(cli, rsps, isolated_environment, monkeypatch) -> None:
    config = isolated_environment / "config" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text(
        f'[profiles.prod]\nprotected = true\n\n[profiles.prod.spid]\nbase_url = "{stubs.SPID}"\n'
    )
    monkeypatch.delenv("VOUCHERCTL_SPID_URL")

    result = cli("generate", "47", "--amount", "2", "-p", "prod")

    assert result.exit_code == 2 and "add --yes" in result.stderr
    assert len(rsps.calls) == 0


def test_generate_end_to_end_against_the_sandbox(tmp_path: Path) -> None:
    """The installed CLI and the real sandbox: usage errors send nothing; a shared group and a
    group's limit are refused with 5; what is generated can then be taken out with codes."""
    server = SandboxProcess(tmp_path / "state.sqlite3")
    empty = SANDBOX.spid_empty_group_id
    try:
        bad = [server.run("generate", empty, "--amount", n) for n in ("0", "2.5")]
        shared = server.run("generate", "38", "--amount", "1")
        over = server.run("generate", SANDBOX.spid_disabled_group_id, "--amount", "6")
        made = server.run("generate", empty, "--amount", "2")
        unused = server.query(
            "SELECT count(*) FROM spid_voucher WHERE group_id = ? AND status = 0", int(empty)
        )
    finally:
        server.stop()

    assert [run.exit_code for run in bad] == [2, 2]
    assert (shared.exit_code, over.exit_code) == (5, 5), (shared.stderr, over.stderr)
    assert made.exit_code == 0, made.stderr
    assert json.loads(made.stdout) == {"success": True, "voucherGroupId": empty, "amount": 2}
    assert unused == [(2,)]


def test_the_contract_says_a_refusing_404_exits_5() -> None:
    """docs/contract.md's SPiD table gave every 404 but the client's exit 3, while a generate
    or codes 404 that refuses (test_a_404_exits_as_its_text_says) exits 5, as README says."""
    contract = (Path(__file__).parent.parent / "docs" / "contract.md").read_text()
    spid = contract.split("## Wire facts: SPiD")[1].split("## Wire facts: Spaaza")[0]
    [rule] = [
        " ".join(item.split())
        for item in spid.split("\n- ")
        if item.startswith("Errors to exit codes")
    ]

    assert (
        'a 404 answering `generate` or `codes` whose text does not say "not found" (a shared '
        "group, the group's limit, fewer vouchers left than asked), which is a refusal and "
        "gives 5"
    ) in rule
