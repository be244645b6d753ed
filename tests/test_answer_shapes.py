"""A server that lies about shape ends in one line and exit 1 (a read) or 7 (a change whose
outcome is then unknown), named ``unexpected_answer``, never in output that breaks its published
schema (docs/contract.md#api-error-names). And a sign secret that fails is never reported as
verifying anything (auth status, doctor).

Strict ``responses`` stubs; the ``cli`` fixture holds every output to its published schema.
"""

import json
from typing import Any

import pytest

import tests.spaaza_stubs as spaaza
import tests.spid_stubs as stubs
from tests.test_signed import signed

QUERY = {"user_id": "1", "chain_id": "3"}
VOUCHER = {"voucher_id": 35735, "voucher_key": "k", "voucher_status": "claimed"}


def error_of(result: Any) -> tuple[int, int | None, str | None]:
    [line] = result.stderr.splitlines()
    error = json.loads(line)["error"]
    assert error["exit_code"] == result.exit_code
    return result.exit_code, error["http_status"], error["api_error"]


@pytest.mark.parametrize(
    "results",
    [
        "notanobject",
        {"basket_vouchers": [{"voucher_id": "notint"}]},
        {"basket_vouchers": [VOUCHER, 7]},  # 7 was dropped without a word
        {"basket_vouchers": [VOUCHER], "honour_vouchers": None},
        [VOUCHER, "x"],
    ],
)
def test_a_wrong_shaped_voucher_list_is_exit_1(cli, rsps, monkeypatch, results) -> None:
    """Catches `vouchers` printing [] (or a list breaking `schema vouchers`) and exiting 0."""
    spaaza.use_admin_session(monkeypatch)
    spaaza.get_user_vouchers(rsps, QUERY, spaaza.ok(results))

    result = cli("vouchers", "--user-id", "1", "-o", "json")

    assert result.stdout == ""
    assert error_of(result) == (1, 200, "unexpected_answer")


def test_a_well_shaped_voucher_list_still_prints(cli, rsps, monkeypatch) -> None:
    spaaza.use_admin_session(monkeypatch)
    results = {"basket_vouchers": [VOUCHER], "honour_vouchers": [], "var_price_vouchers": []}
    spaaza.get_user_vouchers(rsps, QUERY, spaaza.ok(results))

    result = cli("vouchers", "--user-id", "1", "-o", "json")

    assert result.exit_code == 0
    assert [v["voucher_id"] for v in json.loads(result.stdout)] == [35735]


@pytest.mark.parametrize("command", [("auth", "status"), ("doctor", "--require", "spaaza")])
def test_a_session_check_answered_wrongly_does_not_pass(cli, rsps, monkeypatch, command) -> None:
    """Catches `auth status` and `doctor` passing (exit 0) on an answer of the wrong shape."""
    spaaza.use_admin_session(monkeypatch)
    probe = {"user_id": spaaza.SESSION_USER, "chain_id": "3"}
    spaaza.get_user_vouchers(rsps, probe, spaaza.ok("notanobject"))

    result = cli(*command, "-o", "json")

    assert result.exit_code == 1


def test_a_claim_answered_with_a_wrong_shape_is_outcome_unknown(cli, rsps, monkeypatch) -> None:
    spaaza.use_admin_session(monkeypatch)
    form = {"voucher_id": "7", "user_id": "42", "chain_id": "3"}
    spaaza.claim_voucher(rsps, form, spaaza.ok({"voucher_id": "seven", "voucher_locked": 1}))

    result = cli("claim", "--voucher-id", "7", "--user-id", "42", "-o", "json")

    assert result.stdout == ""
    assert error_of(result) == (7, 200, "unexpected_answer")


@pytest.fixture
def spid(monkeypatch, rsps) -> Any:
    stubs.use_client_credentials(monkeypatch)
    stubs.oauth_token(rsps)
    return rsps


@pytest.mark.parametrize(
    "voucher",
    [
        {"voucherCode": 5, "status": ["x"]},
        {"voucherCode": "X", "status": ["x"]},
        {"voucherId": "9"},  # no code at all
        ["X"],
    ],
)
def test_a_wrong_shaped_spid_voucher_is_exit_1(cli, spid, voucher) -> None:
    """Catches `show` exiting 0 with output that breaks `schema show`."""
    stubs.get_voucher(spid, "X", voucher)

    result = cli("show", "X", "-o", "json")

    assert result.stdout == ""
    assert error_of(result) == (1, 200, "unexpected_answer")


def test_a_wrong_shaped_group_in_a_list_is_exit_1(cli, spid) -> None:
    stubs.voucher_groups(spid, [{"voucherGroupId": "1"}, {"voucherGroupId": ["2"]}])

    result = cli("groups", "-o", "json")

    assert error_of(result) == (1, 200, "unexpected_answer")


# -- a sign secret that fails is not "verified" ---------------------------------------------


@pytest.fixture
def wrong_sign_secret(spid, monkeypatch) -> Any:
    monkeypatch.setenv("VOUCHERCTL_SPID_SIGN_SECRET", "not-the-clients-sign-secret")
    stubs.voucher_groups(spid, None, body=signed([{"voucherGroupId": "1"}], secret="real"))
    return spid


def test_auth_status_with_a_wrong_sign_secret_does_not_say_verified(cli, wrong_sign_secret) -> None:
    """Catches `signatures: verified (...)` beside the failed signature check."""
    result = cli("auth", "status", "spid", "-o", "json")

    [spid] = json.loads(result.stdout)
    assert result.exit_code == 1 and spid["ok"] is False
    assert spid["verifies_signatures"] is False
    assert spid["signatures"].startswith("failed")
    assert "verified" not in spid["signatures"]


def test_doctor_with_a_wrong_sign_secret_fails_its_sign_secret_check(
    cli, wrong_sign_secret
) -> None:
    """Catches doctor's "spid sign secret" check showing ok: true while the read fails on it."""
    result = cli("doctor", "--require", "spid", "-o", "json")

    checks = {check["name"]: check for check in json.loads(result.stdout)["checks"]}
    assert result.exit_code == 1
    assert checks["spid sign secret"]["ok"] is False
    assert checks["spid sign secret"]["exit_code"] == 1
    assert "does not match" in checks["spid sign secret"]["detail"]


def test_a_failed_signature_is_named(cli, spid, monkeypatch) -> None:
    monkeypatch.setenv("VOUCHERCTL_SPID_SIGN_SECRET", "not-the-clients-sign-secret")
    stubs.get_voucher(spid, "X", None, body=signed({"voucherCode": "X"}, secret="real"))

    result = cli("show", "X", "-o", "json")

    assert error_of(result) == (1, None, "signature_invalid")
