"""voucherctl redeem: Spaaza's /auth/redeem-voucher, whole or partial, single and bulk."""

import json
from pathlib import Path

import pytest

from tests import spaaza_stubs as stubs
from tests.conftest import fixture_json
from tests.sandbox_process import SandboxProcess
from voucherctl.sandbox import SANDBOX

CLAIMED = fixture_json("spaaza_claim_voucher.json")["results"]
REDEEMED = {**CLAIMED, "voucher_status": "redeemed", "voucher_amount": 0}


def redeem_voucher(rsps, form, body, **kw):
    return stubs.change(rsps, "POST", "/auth/redeem-voucher", form, body, **kw)


@pytest.fixture(autouse=True)
def session(monkeypatch: pytest.MonkeyPatch) -> None:
    stubs.use_admin_session(monkeypatch)


def test_redeem_sends_the_documented_form(cli, rsps) -> None:
    form = {"voucher_id": "35735", "user_id": "1107604", "chain_id": "3", "amount": "2.50"}
    regenerated = {**CLAIMED, "voucher_id": 610000, "voucher_amount": 2.5}
    redeem_voucher(rsps, form, stubs.ok({**REDEEMED, "regenerated_voucher": regenerated}))

    result = cli("redeem", "--voucher-id", "35735", "--user-id", "1107604", "--amount", "2.50")

    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["regenerated_voucher"]["voucher_id"] == 610000


def test_the_table_shows_the_rest_on_its_new_voucher(cli, rsps) -> None:
    form = {"voucher_id": "35735", "user_id": "1107604", "chain_id": "3", "amount": "2"}
    regenerated = {**CLAIMED, "voucher_id": 610000, "voucher_amount": 3}
    redeem_voucher(rsps, form, stubs.ok({**REDEEMED, "regenerated_voucher": regenerated}))

    result = cli(
        "redeem", "--voucher-id", "35735", "--user-id", "1107604", "--amount", "2", tty=True
    )

    lines = [" ".join(line.split()) for line in result.stdout.splitlines()]
    assert "Status redeemed" in lines
    assert "Rest on €3 (voucher 610000)" in lines


@pytest.mark.parametrize("amount", ["0", "-1", "2.555", "abc", "1e3", "NaN", ""])
def test_a_bad_amount_is_a_usage_error_and_nothing_is_sent(cli, rsps, amount) -> None:
    result = cli("redeem", "--voucher-id", "1", "--user-id", "2", "--amount", amount)

    assert result.exit_code == 2
    assert "--amount must be a positive amount with at most two decimals" in result.stderr
    assert len(rsps.calls) == 0


def test_a_chain_id_is_mandatory(cli, rsps, monkeypatch) -> None:
    monkeypatch.delenv("VOUCHERCTL_SPAAZA_CHAIN_ID")

    result = cli("redeem", "--voucher-id", "1", "--user-id", "2")

    assert result.exit_code == 2
    assert (
        "--chain-id is required" in result.stderr and "VOUCHERCTL_SPAAZA_CHAIN_ID" in result.stderr
    )
    assert len(rsps.calls) == 0


def test_a_third_party_id_is_not_a_way_to_name_it(cli, rsps) -> None:
    result = cli("redeem", "--third-party-id", "1", "--user-id", "2")

    assert result.exit_code == 2
    assert len(rsps.calls) == 0


def test_redeem_end_to_end_in_the_sandbox_single_and_bulk(tmp_path: Path) -> None:
    """Against the real sandbox server: a partial redemption leaves the rest on a new voucher
    that vouchers then lists; a bulk redeem is journaled and never redeems a voucher twice."""
    server = SandboxProcess(tmp_path / "state.sqlite3")
    user, voucher = str(SANDBOX.spaaza_user_id), str(SANDBOX.spaaza_voucher_id)
    try:
        assert server.run("claim", "--voucher-id", voucher, "--user-id", user).exit_code == 0
        partial = server.run("redeem", "--voucher-id", voucher, "--user-id", user, "--amount", "2")
        listed = server.run("vouchers", "--user-id", user, "-o", "json")
        rest = json.loads(partial.stdout)["regenerated_voucher"]["voucher_id"]
        source = tmp_path / "redeem.csv"
        source.write_text(f"voucher_id,user_id\n{rest},{user}\n")
        bulk = server.run("redeem", "--from", str(source))
        again = server.run("redeem", "--from", str(source))
        audit = server.run("audit", "--command", "redeem", "-o", "json")
    finally:
        server.stop()

    assert partial.exit_code == 0, partial.stderr
    statuses = {v["voucher_id"]: v["voucher_status"] for v in json.loads(listed.stdout)}
    assert statuses[int(voucher)] == "redeemed" and statuses[rest] == "claimed"
    assert bulk.exit_code == 0, bulk.stderr
    assert [json.loads(line)["outcome"] for line in bulk.stdout.splitlines()] == ["ok"]
    assert again.exit_code == 2 and "already run to the end" in again.stderr
    assert [e["outcome"] for e in json.loads(audit.stdout)] == ["ok", "ok"]


def test_an_unknown_redeem_row_is_settled_by_the_vouchers_state(cli, rsps, tmp_path) -> None:
    """A redemption that got no answer but went through is ok on the next run, not resent."""
    source = tmp_path / "redeem.csv"
    source.write_text("voucher_id,user_id\n35735,1107604\n")
    command = ("redeem", "--from", str(source), "--journal", str(tmp_path / "j.jsonl"))
    form = {"voucher_id": "35735", "user_id": "1107604", "chain_id": "3"}
    redeem_voucher(rsps, form, "<html>504</html>", status=504)
    assert cli(*command).exit_code == 8

    stubs.get_user_vouchers(
        rsps, {"user_id": "1107604", "chain_id": "3"}, stubs.ok({"vouchers": [REDEEMED]})
    )
    second = cli(*command)

    assert second.exit_code == 0, second.stderr
    assert [json.loads(line)["outcome"] for line in second.stdout.splitlines()] == ["ok"]
