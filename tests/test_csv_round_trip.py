"""A list's ``-o csv`` fed back as ``--from`` sends exactly the values listed: what the CSV guard
put before a formula-like cell (``'-1+1``) is taken off again, and a value that starts with ``'``
of its own keeps it (docs/contract.md#bulk-runs)."""

import csv
import io
import json

import pytest

from tests import spaaza_stubs as stubs
from tests.conftest import fixture_json
from voucherctl.bulk import rows
from voucherctl.ui.output import csv_cell

LOCKED = fixture_json("spaaza_lock_voucher.json")["results"]
# Values a spreadsheet would run, values that start with ' themselves, and signed numbers (not
# guarded: a spreadsheet reads a number).
AWKWARD = ["-1+1", "'x", "''y'", "=SUM(A1)", "@me", "+1", "-2", "'-1+1", "x'", "'"]


def listed(rsps, field: str) -> str:
    """``vouchers -o csv`` of one voucher per awkward value, in ``field``."""
    vouchers = [
        {**LOCKED, "voucher_id": 50000 + n, "voucher_key": f"k{n}", field: value}
        for n, value in enumerate(AWKWARD)
    ]
    results = {"basket_vouchers": vouchers, "honour_vouchers": [], "var_price_vouchers": []}
    stubs.get_user_vouchers(rsps, {"user_id": "1", "chain_id": "3"}, stubs.ok(results))
    return vouchers


@pytest.fixture(autouse=True)
def session(monkeypatch: pytest.MonkeyPatch) -> None:
    stubs.use_admin_session(monkeypatch)


def test_the_guard_is_written_and_taken_off_for_every_awkward_value() -> None:
    written = [csv_cell(value) for value in AWKWARD]

    assert written == [
        "'-1+1",
        "''x",
        "'''y'",
        "'=SUM(A1)",
        "'@me",
        "+1",
        "-2",
        "''-1+1",
        "x'",
        "''",
    ]
    assert [rows.unguard(cell) for cell in written] == AWKWARD


def test_a_formula_behind_blanks_is_guarded_too() -> None:
    """Catches "\u00a0=1" (a non-breaking space, then a formula) written unguarded."""
    assert csv_cell("\u00a0=1") == "'\u00a0=1"
    assert csv_cell(" @me") == "' @me"
    assert csv_cell(" -2") == " -2"  # a number, even with a blank before it


def test_a_lists_locking_codes_go_back_into_lock_exactly(cli, rsps) -> None:
    """Catches the guard sent as part of the value (voucher_locking_code='-1+1), and a code
    that starts with ' losing it."""
    vouchers = listed(rsps, "voucher_locking_code")
    table = cli("vouchers", "--user-id", "1", "-o", "csv")
    assert table.exit_code == 0, table.stderr
    for voucher in vouchers:
        form = {
            "voucher_key": voucher["voucher_key"],
            "voucher_locking_code": voucher["voucher_locking_code"],
        }
        stubs.lock_voucher(rsps, form, stubs.ok(voucher))

    result = cli("lock", "--from", "-", "-o", "jsonl", input=table.stdout)

    assert result.exit_code == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    sent = {r["input"]["voucher_key"]: r["input"]["voucher_locking_code"] for r in records}
    assert sent == {v["voucher_key"]: v["voucher_locking_code"] for v in vouchers}


def test_a_lists_keys_go_back_into_unlock_exactly(cli, rsps) -> None:
    vouchers = listed(rsps, "voucher_key")
    table = cli("vouchers", "--user-id", "1", "-o", "csv")
    assert table.exit_code == 0, table.stderr
    for voucher in vouchers:
        stubs.unlock_voucher(rsps, {"voucher_key": voucher["voucher_key"]}, stubs.ok(voucher))

    result = cli("unlock", "--from", "-", "-o", "jsonl", input=table.stdout)

    assert result.exit_code == 0, result.stderr
    assert len(result.stdout.splitlines()) == len(AWKWARD)


def test_a_hand_written_cell_drops_one_leading_quote() -> None:
    """The rule, as a person writing a file meets it: one ' is taken off, so a value that
    starts with ' is written with two."""
    source = "voucher_id,voucher_locking_code\n1,'-1+1\n2,''x\n3,plain\n4,  'pad  \n"
    cells = csv.reader(io.StringIO(source))
    next(cells)

    assert [rows.unguard(code) for _, code in cells] == ["-1+1", "'x", "plain", "pad"]
