"""CSV columns that do not depend on the records, ``--query`` in the format asked for, and a
single-value option given twice refused (docs/contract.md#csv-columns, #output,
#common-options)."""

import csv
import io
import json

import pytest

import tests.spaaza_stubs as spaaza
import tests.spid_stubs as stubs
from voucherctl.api import shapes

GROUPS = [
    {"voucherGroupId": "46", "title": "Summer", "type": "5"},
    {"voucherGroupId": "47", "title": "Winter", "type": "8"},
]


@pytest.fixture
def spid(monkeypatch, rsps):
    stubs.use_client_credentials(monkeypatch)
    stubs.oauth_token(rsps)
    return rsps


def test_an_empty_groups_csv_still_has_its_header(cli, spid) -> None:
    """Catches `groups -o csv` printing no header for an empty list (audit prints one)."""
    stubs.voucher_groups(spid, [], status=404, error="No voucher groups found")

    result = cli("groups", "-o", "csv")

    assert result.exit_code == 0
    assert result.stdout.splitlines() == [",".join(shapes.declared("groups", "group"))]


def test_groups_csv_columns_are_the_declared_ones_whatever_the_records(cli, spid) -> None:
    stubs.voucher_groups(spid, GROUPS)

    result = cli("groups", "-o", "csv")

    header = next(csv.reader(io.StringIO(result.stdout)))
    assert header == shapes.declared("groups", "group")


def test_an_empty_vouchers_csv_still_has_its_header(cli, rsps, monkeypatch) -> None:
    spaaza.use_admin_session(monkeypatch)
    spaaza.get_user_vouchers(rsps, {"user_id": "1", "chain_id": "3"}, spaaza.ok([]))

    result = cli("vouchers", "--user-id", "1", "-o", "csv")

    assert result.stdout.splitlines() == [",".join(shapes.declared("vouchers", "voucher"))]


def test_query_with_csv_prints_csv(cli, spid) -> None:
    """Catches `--query` with `-o csv` printing JSON."""
    stubs.voucher_groups(spid, GROUPS)

    result = cli("groups", "--query", "[].{id: voucherGroupId, title: title}", "-o", "csv")

    assert result.stdout.splitlines() == ["id,title", "46,Summer", "47,Winter"]


def test_query_of_values_with_csv_prints_one_cell_a_line(cli, spid) -> None:
    stubs.voucher_groups(spid, GROUPS)

    result = cli("groups", "--query", "[].title", "-o", "csv")

    assert result.stdout.splitlines() == ["Summer", "Winter"]


def test_query_with_jsonl_prints_one_item_a_line(cli, spid) -> None:
    """Catches `--query` with `-o jsonl` printing the whole list on one line."""
    stubs.voucher_groups(spid, GROUPS)

    result = cli("groups", "--query", "[].{id: voucherGroupId}", "-o", "jsonl")

    assert [json.loads(line) for line in result.stdout.splitlines()] == [{"id": "46"}, {"id": "47"}]


@pytest.mark.parametrize(
    "args",
    [
        ("handout", "--user", "1", "--user", "2", "--group", "3"),
        ("handout", "--user", "1", "--group", "3", "--group-id", "4"),  # another spelling
        ("show", "X", "--timeout", "5", "--timeout", "9"),
    ],
)
def test_a_single_value_option_given_twice_is_refused(cli, args) -> None:
    """Catches `handout --user 1 --user 2` silently handing out to user 2; nothing is sent
    (strict stubs: none registered)."""
    result = cli(*args, "-o", "json")

    assert (result.exit_code, result.stdout) == (2, "")
    error = json.loads(result.stderr)["error"]
    assert "more than once" in error["message"] and error["api_error"] is None


def test_flags_may_still_be_repeated(cli, spid) -> None:
    stubs.get_voucher(spid, "X", {"voucherCode": "X"})

    assert cli("show", "X", "-v", "-v", "-o", "json").exit_code == 0
