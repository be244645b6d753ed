"""``voucherctl vouchers``: a user's vouchers for support."""

import json

import pytest

from tests import spaaza_stubs as stubs
from tests.conftest import fixture_json, table_lines

CLAIMED = fixture_json("spaaza_claim_voucher.json")["results"]
LOCKED = {**fixture_json("spaaza_lock_voucher.json")["results"], "voucher_locked": True}


@pytest.fixture(autouse=True)
def session(monkeypatch: pytest.MonkeyPatch) -> None:
    stubs.use_admin_session(monkeypatch)


def test_json_is_a_list_of_the_vouchers_as_returned(cli, rsps) -> None:
    results = {"basket_vouchers": [CLAIMED], "honour_vouchers": [LOCKED], "var_price_vouchers": []}
    stubs.get_user_vouchers(rsps, {"user_id": "1", "chain_id": "3"}, stubs.ok(results))

    result = cli("vouchers", "--user-id", "1")

    assert result.exit_code == 0
    assert json.loads(result.stdout) == [CLAIMED, LOCKED]


def test_the_table_lists_vouchers_wherever_they_are_nested(cli, rsps, monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    results = {"wallet": {"vouchers": [CLAIMED]}, "progress": [{"vouchers": [LOCKED]}]}
    stubs.get_user_vouchers(rsps, {"username": "a@b.test", "chain_id": "3"}, stubs.ok(results))

    result = cli("vouchers", "--username", "a@b.test", tty=True)

    lines = table_lines(result.stdout)
    key = CLAIMED["voucher_key"]
    assert lines[0] == "Vouchers (times: UTC)"
    assert lines[1] == (
        "Id Status Amount Locked until Basket code Locking code Expires Campaign Key"
    )
    assert lines[3] == f"35735 claimed €5 2050-01-01 00:00:00 Earn €5 on signup (136) {key}"
    assert lines[4].startswith(  # the lock's end, holder (basket code) and locking code
        "44974 claimed €20 2018-10-16 15:54:01 RCPT401075452002 lock4001 2050-01-01 00:00:00"
    )


def test_at_80_columns_secondary_columns_are_left_out_and_named(cli, rsps, monkeypatch) -> None:
    """Catches a narrow table that wraps the campaign to many lines or cuts the key, rather
    than leaving out what the voucher's id already says and naming what it left out."""
    monkeypatch.setenv("COLUMNS", "80")
    results = {"wallet": {"vouchers": [CLAIMED]}}
    stubs.get_user_vouchers(rsps, {"user_id": "1", "chain_id": "3"}, stubs.ok(results))

    result = cli("vouchers", "--user-id", "1", tty=True)

    lines = table_lines(result.stdout)
    assert lines[1:3] == ["Id Status Amount Locked Basket code Locking code Expires", "until"]
    assert lines[4] == "35735 claimed €5 2050-01-01 00:00:00"
    assert lines[-1] == "Key, Campaign left out to fit 80 columns; -o json shows all"
    assert all(len(line) <= 80 for line in result.stdout.splitlines())


def test_a_key_too_long_for_the_room_is_shortened_and_said_so(cli, rsps, monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "60")
    stubs.get_user_vouchers(rsps, {"user_id": "1", "chain_id": "3"}, stubs.ok([CLAIMED]))

    result = cli("vouchers", "--user-id", "1", "--voucher-id", "35735", tty=True)

    key = CLAIMED["voucher_key"]
    lines = table_lines(result.stdout)
    assert f"Voucher key {key[:8]}…{key[-4:]}" in lines
    assert lines[-1] == "… shortens long identifiers; -o json shows them whole"


def test_jsonl_prints_one_voucher_per_line(cli, rsps) -> None:
    stubs.get_user_vouchers(rsps, {"user_id": "1", "chain_id": "3"}, stubs.ok([CLAIMED, LOCKED]))

    result = cli("vouchers", "--user-id", "1", "-o", "jsonl")

    assert [json.loads(line)["voucher_id"] for line in result.stdout.splitlines()] == [35735, 44974]


def test_a_user_is_required(cli, rsps) -> None:
    result = cli("vouchers")

    assert result.exit_code == 2
    assert "name the user with one of" in result.stderr


def test_an_unknown_user_is_exit_3(cli, rsps) -> None:
    stubs.get_user_vouchers(
        rsps,
        {"user_id": "9", "chain_id": "3"},
        stubs.error(80, "user_not_found", "No such user"),
        status=404,
    )

    assert cli("vouchers", "--user-id", "9").exit_code == 3


def test_permission_denied_with_http_500_is_exit_4_not_1(cli, rsps) -> None:
    """Spaaza answers ``permission_denied_or_non_existent`` with HTTP 500: the error's name,
    read before the status, makes it an authorization failure, not a server failure."""
    stubs.get_user_vouchers(
        rsps,
        {"user_id": "9", "chain_id": "3"},
        stubs.error(68, "permission_denied_or_non_existent", "Permission denied"),
        status=500,
    )

    result = cli("vouchers", "--user-id", "9")

    assert result.exit_code == 4
    assert "HTTP 500: Permission denied (permission_denied_or_non_existent)" in result.stderr


@pytest.mark.parametrize(
    ("option", "value"),
    [("--voucher-id", "44974"), ("--voucher-key", LOCKED["voucher_key"])],
)
def test_one_voucher_by_id_or_key_with_its_lock(cli, rsps, option, value) -> None:
    """Catches a --voucher-id/--voucher-key that does not narrow the user's list, and a view
    that leaves out the lock's holder, code or end (support asked five commands for them)."""
    results = {"basket_vouchers": [CLAIMED], "honour_vouchers": [LOCKED]}
    stubs.get_user_vouchers(rsps, {"user_id": "1", "chain_id": "3"}, stubs.ok(results))

    result = cli("vouchers", "--user-id", "1", option, value, tty=True)

    assert result.exit_code == 0, result.stderr
    lines = table_lines(result.stdout)
    assert lines[0] == "Voucher 44974 (times: UTC)"  # said once, not after each time
    assert "Voucher id 44974" in lines
    assert "Basket code RCPT401075452002" in lines
    assert "Locking code lock4001" in lines
    assert any(line.startswith("Lock until 2018-10-16 15:54:01 (") for line in lines)
    assert "35735" not in result.stdout


def test_one_voucher_in_json_is_a_list_of_it(cli, rsps) -> None:
    results = {"basket_vouchers": [CLAIMED, LOCKED]}
    stubs.get_user_vouchers(rsps, {"user_id": "1", "chain_id": "3"}, stubs.ok(results))

    result = cli("vouchers", "--user-id", "1", "--voucher-id", "35735", "-o", "json")

    assert json.loads(result.stdout) == [CLAIMED]


def test_a_voucher_the_user_does_not_hold_is_exit_3(cli, rsps) -> None:
    stubs.get_user_vouchers(rsps, {"user_id": "1", "chain_id": "3"}, stubs.ok([CLAIMED]))

    result = cli("vouchers", "--user-id", "1", "--voucher-id", "44974")

    assert result.exit_code == 3
    assert result.stdout == ""
    assert "holds no voucher with --voucher-id 44974" in result.stderr


def test_two_voucher_identifiers_are_refused_before_sending(cli, rsps) -> None:
    result = cli("vouchers", "--user-id", "1", "--voucher-id", "1", "--voucher-key", "ab")

    assert result.exit_code == 2
    assert "exactly one of" in result.stderr
