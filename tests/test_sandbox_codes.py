"""SPiD's generate and batch handout in the sandbox: the shapes and refusals SPiD's docs give."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.test_sandbox_server import Client, spid_error
from voucherctl.sandbox import SANDBOX, ensure_state, start_background

# The sample answer of POST /vouchers/handout/{id} in SPiD's docs has exactly these fields.
HANDED_OUT_FIELDS = ["voucherId", "voucherGroupId", "voucherCode", "type", "createdBy", "created"]
SHARED_GROUP = "38"  # the docs' "Vouchers for all", unique "0"
LIMITED = SANDBOX.spid_disabled_group_id  # 10 vouchers, limit 15


@pytest.fixture
def client(tmp_path: Path) -> Iterator[Client]:
    state = tmp_path / "state.sqlite3"
    ensure_state(state)
    with start_background(state) as running:
        yield Client(running.url)


def generate(client: Client, group: str, amount: str | None = None) -> requests.Response:
    form = {"amount": amount} if amount is not None else {}
    return client.spid("POST", f"/api/2/vouchers/generate/{group}", data=form)


def hand_out(client: Client, group: str, amount: str | None = None) -> requests.Response:
    form = {"amount": amount} if amount is not None else {}
    return client.spid("POST", f"/api/2/vouchers/handout/{group}", data=form)


def test_generate_answers_only_success_and_the_vouchers_appear_unused(client: Client) -> None:
    group = SANDBOX.spid_empty_group_id
    answer = generate(client, group, "2")

    assert answer.status_code == 200
    assert answer.json()["data"] == {"success": True}
    taken = hand_out(client, group, "2").json()["data"]
    assert len(taken) == 2


def test_generate_refuses_a_shared_group_with_404(client: Client) -> None:
    status, text = spid_error(generate(client, SHARED_GROUP, "1"))

    assert status == 404 and "shared" in text and "not found" not in text.lower()


def test_generate_refuses_more_than_the_limit_and_makes_none(client: Client) -> None:
    assert generate(client, LIMITED, "5").json()["data"] == {"success": True}  # 15 of 15

    status, text = spid_error(generate(client, LIMITED, "1"))

    assert status == 404
    assert text == (
        f"Voucher group {LIMITED} allows 15 vouchers and has 15: 1 more would pass its limit; "
        "none generated"
    )


def test_generate_of_an_unknown_group_is_not_found(client: Client) -> None:
    assert spid_error(generate(client, "5", "1")) == (404, "Voucher group not found")


def test_batch_handout_shows_the_documented_fields_only(client: Client) -> None:
    answer = hand_out(client, SANDBOX.spid_group_id, "2")

    body = answer.json()
    assert body["type"] == "collection"
    assert [list(voucher) for voucher in body["data"]] == [HANDED_OUT_FIELDS] * 2
    assert {voucher["voucherGroupId"] for voucher in body["data"]} == {"47"}


def test_batch_handout_amount_defaults_to_one(client: Client) -> None:
    assert len(hand_out(client, SANDBOX.spid_group_id).json()["data"]) == 1


def test_batch_handout_never_returns_a_code_twice(client: Client) -> None:
    first = hand_out(client, SANDBOX.spid_group_id, "3").json()["data"]
    second = hand_out(client, SANDBOX.spid_group_id, "3").json()["data"]

    codes = [voucher["voucherCode"] for voucher in first + second]
    assert len(set(codes)) == 6


def test_batch_handout_beyond_what_is_left_is_404_with_the_numbers(client: Client) -> None:
    group = SANDBOX.spid_empty_group_id

    assert spid_error(hand_out(client, group, "2")) == (
        404,
        f"Only 0 vouchers available in voucher group {group}, 2 asked for; none handed out",
    )


@pytest.mark.parametrize("amount", ["0", "1001", "two"])
def test_a_bad_amount_is_400(client: Client, amount: str) -> None:
    assert spid_error(hand_out(client, SANDBOX.spid_group_id, amount))[0] == 400
    assert spid_error(generate(client, SANDBOX.spid_empty_group_id, amount))[0] == 400
