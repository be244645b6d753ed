"""Spaaza's POST|PUT /auth/redeem-voucher in the sandbox, over real loopback HTTP."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.test_sandbox_server import (
    ADMIN,
    CHAIN,
    CLAIM,
    CLAIM_SAMPLE_KEYS,
    PRIVILEGED,
    VERSION,
    Client,
    spaaza_error,
)
from voucherctl.sandbox import SANDBOX, ensure_state, start_background

REDEEM = "/auth/redeem-voucher"
CLAIMED = {
    **CHAIN,
    "voucher_key": SANDBOX.spaaza_voucher_key,
    "user_id": str(SANDBOX.spaaza_user_id),
}
TWENTY = {**CHAIN, "voucher_id": str(SANDBOX.spaaza_lock_voucher_id), "user_id": "1"}


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("redeem") / "seeded.sqlite3"
    ensure_state(path)
    return path


@pytest.fixture
def client(tmp_path: Path, template: Path) -> Iterator[Client]:
    state = tmp_path / "state.sqlite3"
    shutil.copyfile(template, state)
    with start_background(state) as running:
        yield Client(running.url)


def claim(client: Client, form: dict[str, str]) -> None:
    assert client.spaaza("POST", "/claim-voucher", data=form).status_code == 200


def vouchers_of(client: Client, user_id: object) -> list[dict[str, Any]]:
    answer = client.spaaza("GET", "/get-user-vouchers", params={**CHAIN, "user_id": str(user_id)})
    found: list[dict[str, Any]] = answer.json()["results"]["basket_vouchers"]
    return found


def test_full_redemption(client: Client) -> None:
    claim(client, CLAIM)
    answer = client.spaaza("POST", REDEEM, data=CLAIMED)
    assert answer.status_code == 200
    body = answer.json()
    assert body["result"] == {"code": 1, "status": "ok"}
    results = body["results"]
    assert set(CLAIM_SAMPLE_KEYS) <= set(results)  # the redeem sample's shape: test_contract_*
    assert (
        results["voucher_key"],
        results["voucher_status"],
        results["voucher_amount_original"],
        results["voucher_amount_redeemed"],
        results["voucher_amount"],
        results["user_id"],
        results["result_type"],
    ) == (SANDBOX.spaaza_voucher_key, "redeemed", 5, 5, 0, 1107604, "redeem-voucher")
    (shown,) = vouchers_of(client, SANDBOX.spaaza_user_id)
    assert (shown["voucher_status"], shown["voucher_amount_redeemed"]) == ("redeemed", 5)
    again = client.spaaza("PUT", REDEEM, data=CLAIMED)
    assert spaaza_error(again) == (409, "voucher_already_redeemed")


def test_partial_redemption_regenerates_the_rest(client: Client) -> None:
    claim(client, TWENTY)
    form = {**CHAIN, "voucher_id": str(SANDBOX.spaaza_lock_voucher_id), "amount": "7.5"}
    answer = client.spaaza("PUT", REDEEM, headers=PRIVILEGED, data=form)
    results = answer.json()["results"]
    assert {*CLAIM_SAMPLE_KEYS, "regenerated_voucher"} <= set(results)
    assert (
        results["voucher_status"],
        results["voucher_amount_redeemed"],
        results["voucher_amount"],
    ) == ("redeemed", 7.5, 0)
    rest = results["regenerated_voucher"]
    assert set(CLAIM_SAMPLE_KEYS[:-1]) <= set(rest) and "result_type" not in rest
    shown = {key: rest[key] for key in CLAIM_SAMPLE_KEYS[:-1]}
    assert shown | {"voucher_key": "k", "voucher_expiry_seconds_remaining": 0} == {
        "voucher_key": "k",
        "voucher_id": 610_000,  # next after the seed's bulk vouchers, 600000 to 609999
        "voucher_status": "claimed",
        "voucher_locked": False,
        "campaign_id": 2,
        "campaign_type": "basket",
        "campaign_title": "20 EUR voucher for every 200 EUR spent",
        "voucher_expiry_datetime_utc": "2050-01-01 00:00:00",
        "voucher_expiry_seconds_remaining": 0,
        "voucher_currency_id": 2,
        "voucher_currency_symbol": "€",
        "voucher_amount_original": 12.5,
        "voucher_amount_redeemed": 0,
        "voucher_amount": 12.5,
        "voucher_text": "Your new voucher, enjoy!",
        "voucher_third_party_id": None,
        "user_id": 1,
        "user_entity_card": {"type": "regular", "code": "1"},
    }
    assert len(rest["voucher_key"]) == 64 and rest["voucher_key"] != results["voucher_key"]
    assert [(v["voucher_id"], v["voucher_status"]) for v in vouchers_of(client, 1)] == [
        (SANDBOX.spaaza_lock_voucher_id, "redeemed"),
        (SANDBOX.spaaza_redeemed_voucher_id, "redeemed"),
        (rest["voucher_id"], "claimed"),
    ]
    whole_rest = {**CHAIN, "voucher_key": rest["voucher_key"], "amount": "12.50"}
    final = client.spaaza("POST", REDEEM, headers=PRIVILEGED, data=whole_rest).json()["results"]
    assert (final["voucher_status"], final["voucher_amount_redeemed"]) == ("redeemed", 12.5)
    assert "regenerated_voucher" not in final


def test_redeeming_a_locked_voucher_ends_its_lock(client: Client) -> None:
    claim(client, TWENTY)
    locked = {"voucher_id": str(SANDBOX.spaaza_lock_voucher_id), "voucher_locking_code": "till7"}
    assert client.spaaza("PUT", "/lock-voucher", data=locked).json()["results"]["voucher_locked"]
    results = client.spaaza("POST", REDEEM, data=TWENTY).json()["results"]
    assert (results["voucher_status"], results["voucher_locked"]) == ("redeemed", False)


@pytest.mark.parametrize(
    ("headers", "form", "error"),
    [
        (
            ADMIN,
            {**CHAIN, "voucher_id": "600000", "user_id": "100000"},
            (409, "voucher_not_claimed"),
        ),
        (ADMIN, {**TWENTY, "amount": "20.01"}, (409, "redeem_amount_exceeds_voucher_amount")),
        (ADMIN, {**TWENTY, "amount": "0"}, (400, "invalid_amount")),
        (ADMIN, {**TWENTY, "amount": "-1"}, (400, "invalid_amount")),
        (ADMIN, {**TWENTY, "amount": "1.005"}, (400, "invalid_amount")),
        (ADMIN, {**TWENTY, "amount": "NaN"}, (400, "invalid_amount")),
        (ADMIN, {**TWENTY, "amount": "ten"}, (400, "invalid_amount")),
        (ADMIN, {**TWENTY, "chain_id": ""}, (400, "chain_id_required")),
        (
            PRIVILEGED,
            {"voucher_id": str(SANDBOX.spaaza_lock_voucher_id)},
            (400, "chain_id_required"),
        ),
        (ADMIN, {**TWENTY, "chain_id": "999"}, (403, "permission_denied_or_non_existent")),
        (ADMIN, {**TWENTY, "user_id": ""}, (400, "missing_parameter")),
        (ADMIN, {**TWENTY, "user_id": "100000"}, (404, "voucher_not_found")),
        (ADMIN, {**CHAIN, "voucher_key": "0" * 64, "user_id": "1"}, (404, "voucher_not_found")),
        (
            ADMIN,
            {**CHAIN, "third_party_id": "3914599659", "user_id": "1"},
            (400, "missing_parameter"),
        ),
        (
            ADMIN,
            {**TWENTY, "voucher_key": SANDBOX.spaaza_lock_voucher_key},
            (400, "conflicting_parameters"),
        ),
        (
            ADMIN,
            {**CHAIN, "voucher_id": str(SANDBOX.spaaza_redeemed_voucher_id), "user_id": "1"},
            (409, "voucher_already_redeemed"),
        ),
        ({**ADMIN, "X-Spaaza-Session-Key": "forged"}, TWENTY, (401, "no_valid_session")),
    ],
)
def test_redeem_errors_change_nothing(
    client: Client, headers: dict[str, str], form: dict[str, str], error: tuple[int, str]
) -> None:
    claim(client, TWENTY)
    assert spaaza_error(client.spaaza("POST", REDEEM, headers=headers, data=form)) == error
    (twenty, _) = vouchers_of(client, 1)
    assert (twenty["voucher_status"], twenty["voucher_amount"]) == ("claimed", 20)


def test_redeem_refuses_user_auth_and_get(client: Client) -> None:
    login = client.spaaza(
        "POST",
        "/auth/login",
        headers=VERSION,
        data={"username": SANDBOX.spaaza_user_username, "password": SANDBOX.spaaza_user_password},
    ).json()["results"]["session_info"]
    user = {
        **VERSION,
        "X-Spaaza-Session-User-Id": str(login["session_user_id"]),
        "X-Spaaza-Session-Key": login["session_key"],
        "X-Spaaza-MyPrice-App-Hostname": SANDBOX.spaaza_app_hostname,
    }
    claim(client, CLAIM)
    refused = client.spaaza("POST", REDEEM, headers=user, data=CLAIMED)
    assert spaaza_error(refused) == (403, "permission_denied_or_non_existent")
    wrong_method = client.spaaza("GET", REDEEM, params=CLAIMED)
    assert spaaza_error(wrong_method) == (405, "method_not_allowed")
    assert wrong_method.headers["Allow"] == "POST, PUT"
