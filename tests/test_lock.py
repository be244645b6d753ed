"""``voucherctl lock`` and ``unlock``."""

import calendar
import json
import time

import pytest

from tests import spaaza_stubs as stubs
from tests.conftest import fixture_json, table_lines
from voucherctl.commands.spaaza.options import relative

LOCK = fixture_json("spaaza_lock_voucher.json")
KEY = LOCK["results"]["voucher_key"]


@pytest.fixture(autouse=True)
def session(monkeypatch: pytest.MonkeyPatch) -> None:
    stubs.use_admin_session(monkeypatch)


def test_lock_sends_every_option_under_the_api_name(cli, rsps) -> None:
    form = {
        "voucher_key": KEY,
        "retailer_basket_code": "RCPT401075452002",
        "voucher_locking_code": "lock4001",
        "voucher_lock_period": "600",
    }
    stubs.lock_voucher(rsps, form, LOCK)

    result = cli(
        "lock",
        "--voucher-key",
        KEY,
        "--basket-code",
        "RCPT401075452002",
        "--locking-code",
        "lock4001",
        "--period",
        "600",
    )

    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == LOCK["results"]


def test_without_period_no_period_and_no_chain_id_is_sent(cli, rsps) -> None:
    stubs.lock_voucher(rsps, {"voucher_id": "44974"}, LOCK)

    assert cli("lock", "--voucher-id", "44974").exit_code == 0


def test_the_table_shows_when_the_lock_ends(cli, rsps) -> None:
    stubs.lock_voucher(rsps, {"voucher_id": "44974"}, LOCK)

    result = cli("lock", "--voucher-id", "44974", tty=True)

    lines = table_lines(result.stdout)
    assert any(line.startswith("Lock until 2018-10-16 15:54:01 (") for line in lines)
    assert lines[0] == "Voucher locked (times: UTC)"  # said once, not after each time
    assert "Locking code lock4001" in lines
    assert "Basket code RCPT401075452002" in lines


def test_relative_times_read_naturally() -> None:
    now = calendar.timegm(time.strptime("2018-10-16 15:49:01", "%Y-%m-%d %H:%M:%S"))

    assert relative("2018-10-16 15:54:01", now=now) == "in 5 minutes"
    assert relative("2018-10-16 15:49:31", now=now) == "in 30 seconds"
    assert relative("2018-10-16 14:49:01", now=now) == "60 minutes ago"
    assert relative("2018-10-16 15:50:01", now=now) == "in 60 seconds"
    assert relative("garbage", now=now) == "time unreadable"


@pytest.mark.parametrize("period", ["119", "3601", "abc", "300.5", "-300", "", "1e3", "٣٠٠"])
def test_a_bad_period_is_a_usage_error_and_nothing_is_sent(cli, rsps, period) -> None:
    result = cli("lock", "--voucher-id", "1", "--period", period)

    assert result.exit_code == 2
    assert "--period must be a whole number of seconds from 120 to 3600" in result.stderr


@pytest.mark.parametrize("period", ["120", "3600"])
def test_the_period_bounds_are_allowed(cli, rsps, period) -> None:
    stubs.lock_voucher(rsps, {"voucher_id": "1", "voucher_lock_period": period}, LOCK)

    assert cli("lock", "--voucher-id", "1", "--period", period).exit_code == 0


def test_lock_takes_no_third_party_id(cli, rsps) -> None:
    result = cli("lock", "--third-party-id", "5")

    assert result.exit_code == 2


def test_lock_needs_a_voucher(cli, rsps) -> None:
    result = cli("lock")

    assert result.exit_code == 2
    assert "exactly one of --voucher-key or --voucher-id" in result.stderr


def test_a_locked_voucher_is_a_rejection(cli, rsps) -> None:
    stubs.lock_voucher(
        rsps,
        {"voucher_id": "1"},
        stubs.error(300, "voucher_locked", "Voucher is locked"),
        status=409,
    )

    result = cli("lock", "--voucher-id", "1")

    assert result.exit_code == 5
    assert result.stderr == (
        "voucherctl: error: lock voucher 1: HTTP 409: Voucher is locked (voucher_locked)\n"
    )


def test_unlock(cli, rsps) -> None:
    unlocked = {**LOCK["results"], "voucher_locked": False, "voucher_locked_until": None}
    stubs.unlock_voucher(rsps, {"voucher_key": KEY}, stubs.ok(unlocked))

    result = cli("unlock", "--voucher-key", KEY, tty=True)

    assert result.exit_code == 0
    assert "Lock not locked" in table_lines(result.stdout)
