"""``voucherctl groups`` and ``voucherctl group``."""

import json

import pytest

from tests import spid_stubs as stubs
from tests.conftest import fixture_json, table_lines

GROUP_47 = fixture_json("spid_get_voucher.json")["group"]
GROUP_9 = {**GROUP_47, "voucherGroupId": "9", "title": "Summer sale", "type": "5", "unique": "0"}


@pytest.fixture(autouse=True)
def credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    stubs.use_client_credentials(monkeypatch)


def test_groups_as_json(cli, rsps) -> None:
    stubs.oauth_token(rsps)
    stubs.voucher_groups(rsps, [GROUP_47, GROUP_9])

    result = cli("groups")

    assert json.loads(result.stdout) == [GROUP_47, GROUP_9]


def test_groups_table(cli, rsps) -> None:
    stubs.oauth_token(rsps)
    stubs.voucher_groups(rsps, [GROUP_47, GROUP_9])

    result = cli("groups", tty=True)

    lines = table_lines(result.stdout)
    assert lines[1] == "Id Title Type Codes Created"
    assert lines[3] == "47 Freebies for everyone! payment method unique 2014-08-06 11:47:25"
    assert lines[4] == "9 Summer sale campaign shared 2014-08-06 11:47:25"


def test_groups_filtered_by_title(cli, rsps) -> None:
    stubs.oauth_token(rsps)
    stubs.voucher_groups(rsps, [GROUP_47, GROUP_9])

    result = cli("groups", "--title", "SUMMER", "-o", "jsonl")

    assert [json.loads(line)["voucherGroupId"] for line in result.stdout.splitlines()] == ["9"]


def test_a_collection_keyed_by_id_is_listed_too(cli, rsps) -> None:
    stubs.oauth_token(rsps)
    rsps.get(
        f"{stubs.SPID}/api/2/vouchers/groups",
        json=stubs.spid_container({"47": GROUP_47}, kind="collection"),
    )

    assert json.loads(cli("groups").stdout) == [GROUP_47]


def test_group_shows_one_group(cli, rsps) -> None:
    stubs.oauth_token(rsps)
    stubs.voucher_group(rsps, "47", GROUP_47)

    result = cli("group", "47", tty=True)

    lines = table_lines(result.stdout)
    assert "Title Freebies for everyone!" in lines
    assert "Type payment method" in lines


def test_unknown_group_is_exit_3(cli, rsps) -> None:
    stubs.oauth_token(rsps)
    stubs.voucher_group(rsps, "5", None, status=404, error="Voucher group not found")

    result = cli("group", "5")

    assert result.exit_code == 3
    assert result.stderr == (
        "voucherctl: error: show voucher group 5: HTTP 404: Voucher group not found\n"
    )
