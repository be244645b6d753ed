"""The sandbox server over real loopback HTTP: both APIs, faults, state and concurrency."""

from __future__ import annotations

import calendar
import os
import shutil
import socket
import sqlite3
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import requests

from voucherctl.sandbox import (
    SANDBOX,
    RunningSandbox,
    SandboxOptions,
    ensure_state,
    reset_state,
    start_background,
)

GROUP_SAMPLE_KEYS = [
    "clientId",
    "createdBy",
    "discountId",
    "title",
    "voucherGroupId",
    "productId",
    "created",
    "unique",
    "updated",
    "limit",
    "type",
    "campaignId",
    "description",
]
VOUCHER_SAMPLE_KEYS = [
    "group",
    "status",
    "userId",
    "createdBy",
    "handoutBy",
    "count",
    "handoutTime",
    "voucherGroupId",
    "voucherId",
    "created",
    "voucherCode",
    "updated",
    "type",
]
CONTAINER_KEYS = [
    "name",
    "version",
    "api",
    "object",
    "type",
    "code",
    "request",
    "debug",
    "meta",
    "error",
    "data",
]
CLAIM_SAMPLE_KEYS = [
    "voucher_key",
    "voucher_id",
    "voucher_status",
    "voucher_locked",
    "campaign_id",
    "campaign_type",
    "campaign_title",
    "voucher_expiry_datetime_utc",
    "voucher_expiry_seconds_remaining",
    "voucher_currency_id",
    "voucher_currency_symbol",
    "voucher_amount_original",
    "voucher_amount_redeemed",
    "voucher_amount",
    "voucher_text",
    "voucher_third_party_id",
    "user_id",
    "user_entity_card",
    "result_type",
]
LOCK_SAMPLE_KEYS = [
    "voucher_key",
    "voucher_id",
    "voucher_status",
    "campaign_id",
    "campaign_title",
    "voucher_expiry_datetime_utc",
    "voucher_expiry_seconds_remaining",
    "voucher_currency_id",
    "voucher_amount",
    "voucher_amount_redeemed",
    "voucher_text",
    "voucher_locked_until",
    "voucher_locking_code",
    "voucher_retailer_basket_code_exclusive",
    "user_id",
    "user_entity_card",
    "result_type",
]

VERSION = {"X-Spaaza-API-Version": "1.6.3"}
ADMIN = {
    **VERSION,
    "X-Spaaza-Session-User-Id": str(SANDBOX.spaaza_session_user_id),
    "X-Spaaza-Session-Key": SANDBOX.spaaza_session_key,
}
PRIVILEGED = {
    **VERSION,
    "Authorization": f"Bearer {SANDBOX.spaaza_privileged_token}",
    "X-Spaaza-MyPrice-App-Hostname": SANDBOX.spaaza_app_hostname,
}
CHAIN = {"chain_id": str(SANDBOX.spaaza_chain_id)}
CLAIM = {**CHAIN, "voucher_key": SANDBOX.spaaza_voucher_key, "user_id": str(SANDBOX.spaaza_user_id)}
LOCK_VOUCHER = {"voucher_id": str(SANDBOX.spaaza_lock_voucher_id)}


class Client:
    """requests against one sandbox, with a SPiD token fetched on first use."""

    def __init__(self, url: str, token: str = "") -> None:
        self.url = url
        self.http = requests.Session()
        self._token = token

    @property
    def token(self) -> str:
        if not self._token:
            answer = self.http.post(
                f"{self.url}/oauth/token",
                data={"grant_type": "client_credentials"},
                auth=(SANDBOX.spid_client_id, SANDBOX.spid_client_secret),
                timeout=10,
            )
            self._token = answer.json()["access_token"]
        return self._token

    def spid(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        headers = {"Authorization": f"Bearer {self.token}", **kwargs.pop("headers", {})}
        return self.http.request(method, f"{self.url}{path}", headers=headers, timeout=10, **kwargs)

    def handout(self, user: object, group: object) -> requests.Response:
        return self.spid(
            "POST",
            "/api/2/voucher_handout",
            data={"userId": str(user), "voucherGroupId": str(group)},
        )

    def voucher(self, code: str) -> dict[str, Any]:
        data: dict[str, Any] = self.spid("GET", f"/api/2/voucher/{quote(code)}").json()["data"]
        return data

    def spaaza(
        self, method: str, path: str, headers: dict[str, str] | None = None, **kwargs: Any
    ) -> requests.Response:
        return self.http.request(
            method,
            f"{self.url}{path}",
            timeout=10,
            headers=ADMIN if headers is None else headers,
            **kwargs,
        )


@pytest.fixture(scope="session")
def seeded_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One seeded state file; each test copies it instead of seeding again."""
    path = tmp_path_factory.mktemp("template") / "seeded.sqlite3"
    ensure_state(path)
    return path


@pytest.fixture
def state(tmp_path: Path, seeded_template: Path) -> Path:
    path = tmp_path / "s.sqlite3"
    shutil.copyfile(seeded_template, path)
    return path


@pytest.fixture
def sandbox(state: Path) -> Iterator[RunningSandbox]:
    with start_background(state) as running:
        yield running


@pytest.fixture
def client(sandbox: RunningSandbox) -> Client:
    return Client(sandbox.url)


def spaaza_error(answer: requests.Response) -> tuple[int, str]:
    body = answer.json()
    assert body["result"] == {"code": 2, "status": "error"}
    return answer.status_code, body["error"]["name"]


def spid_error(answer: requests.Response) -> tuple[int, str]:
    body = answer.json()
    assert body["type"] == "error" and body["code"] == answer.status_code
    return answer.status_code, body["error"]["description"]


def utc_epoch(text: str) -> int:
    return calendar.timegm(time.strptime(text, "%Y-%m-%d %H:%M:%S"))


# --- probe and wire ---------------------------------------------------------------------------


def test_probe_says_it_is_the_sandbox(sandbox: RunningSandbox, state: Path) -> None:
    answer = requests.get(f"{sandbox.url}/__sandbox__", timeout=5)
    assert answer.status_code == 200
    stat = os.stat(state)
    assert answer.json() == {
        "sandbox": "voucherctl",
        "apis": ["spid", "spaaza"],
        "state": str(state.resolve()),
        "state_device": stat.st_dev,
        "state_inode": stat.st_ino,
    }
    assert sandbox.url == f"http://127.0.0.1:{sandbox.port}"


def test_answers_are_keep_alive_json_with_length_and_date(client: Client) -> None:
    answer = client.http.get(f"{client.url}/__sandbox__", timeout=5)
    assert answer.headers["Content-Type"] == "application/json; charset=utf-8"
    assert int(answer.headers["Content-Length"]) == len(answer.content)
    assert answer.headers["Connection"] == "keep-alive"
    assert answer.headers["Date"].endswith(" GMT")


def raw_exchange(url: str, data: bytes) -> bytes:
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(data)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        (b"garbage\r\n\r\n", b"400"),
        (b"POST /api/2/voucher_handout HTTP/1.1\r\nContent-Length: 2000000\r\n\r\n", b"413"),
        (b"GET /get-user-vouchers HTTP/1.1\r\nBroken header\r\n\r\n", b"400"),
        (b"POST /claim-voucher HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", b"411"),
    ],
)
def test_malformed_requests_get_an_error_and_a_closed_connection(
    client: Client, raw: bytes, status: bytes
) -> None:
    answer = raw_exchange(client.url, raw)
    assert answer.startswith(b"HTTP/1.1 " + status)
    assert b"Connection: close" in answer
    assert client.http.get(f"{client.url}/__sandbox__", timeout=5).status_code == 200


# --- SPiD: tokens -----------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["basic", "form"])
def test_token_exchange(client: Client, how: str) -> None:
    form = {"grant_type": "client_credentials"}
    auth = None
    if how == "basic":
        auth = (SANDBOX.spid_client_id, SANDBOX.spid_client_secret)
    else:
        form |= {"client_id": SANDBOX.spid_client_id, "client_secret": SANDBOX.spid_client_secret}
    answer = client.http.post(f"{client.url}/oauth/token", data=form, auth=auth, timeout=5)
    assert answer.status_code == 200
    body = answer.json()
    assert body["expires_in"] == 604800 and body["token_type"] == "Bearer"
    assert len(body["access_token"]) >= 32
    assert {"scope", "server_time", "user_id", "is_admin"} <= body.keys()


def test_bad_client_secret_is_a_flat_oauth_error(client: Client) -> None:
    answer = client.http.post(
        f"{client.url}/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(SANDBOX.spid_client_id, "wrong"),
        timeout=5,
    )
    assert answer.status_code == 401
    body = answer.json()
    assert body.keys() == {"error", "error_code", "type", "error_description"}
    assert (body["error"], body["error_code"], body["type"]) == (
        "invalid_client_id",
        401,
        "OAuthException",
    )


@pytest.mark.parametrize(
    ("grant", "error"), [("password", "unsupported_grant_type"), ("", "invalid_request")]
)
def test_bad_grant_type(client: Client, grant: str, error: str) -> None:
    answer = client.http.post(
        f"{client.url}/oauth/token",
        data={"grant_type": grant},
        auth=(SANDBOX.spid_client_id, SANDBOX.spid_client_secret),
        timeout=5,
    )
    assert (answer.status_code, answer.json()["error"]) == (400, error)


def test_api_calls_need_a_token(client: Client) -> None:
    answer = client.http.get(f"{client.url}/api/2/voucher/64-HB2I-OPBL", timeout=5)
    assert spid_error(answer) == (403, "Access token rejected")


def test_an_unknown_token_is_a_flat_oauth_error(client: Client) -> None:
    headers = {"Authorization": "Bearer not-a-token"}
    answer = client.http.get(f"{client.url}/api/2/voucher/64-HB2I-OPBL", headers=headers, timeout=5)
    assert answer.status_code == 401
    assert answer.json() == {
        "error": "invalid_token",
        "error_code": 401,
        "type": "OAuthException",
        "error_description": "The access token is not valid",
    }


def test_oauth_token_param_works(client: Client) -> None:
    answer = client.http.get(
        f"{client.url}/api/2/voucher/{SANDBOX.spid_voucher_code}",
        params={"oauth_token": client.token},
        timeout=5,
    )
    assert answer.status_code == 200


# --- SPiD: vouchers ---------------------------------------------------------------------------


def test_show_sample_voucher_has_exactly_the_docs_fields(client: Client) -> None:
    answer = client.spid("GET", "/api/2/voucher/64-HB2I-OPBL")
    assert answer.status_code == 200
    body = answer.json()
    assert list(body) == CONTAINER_KEYS
    assert (body["name"], body["version"], body["api"], body["type"], body["code"]) == (
        "SPP Container",
        "0.2",
        2,
        "element",
        200,
    )
    assert body["error"] is None
    voucher = body["data"]
    assert list(voucher) == VOUCHER_SAMPLE_KEYS
    assert list(voucher["group"]) == GROUP_SAMPLE_KEYS
    assert voucher["group"] | {"clientId": "x", "createdBy": "x"} == {
        "clientId": "x",
        "createdBy": "x",
        "discountId": None,
        "title": "Freebies for everyone!",
        "voucherGroupId": "47",
        "productId": None,
        "created": "2014-08-06 11:47:25",
        "unique": "1",
        "updated": "2014-08-06 11:47:26",
        "limit": None,
        "type": "8",
        "campaignId": None,
        "description": None,
    }
    assert voucher["group"]["clientId"] == SANDBOX.spid_client_id
    assert (
        voucher["voucherId"],
        voucher["voucherCode"],
        voucher["status"],
        voucher["userId"],
        voucher["handoutTime"],
        voucher["type"],
    ) == ("557916", "64-HB2I-OPBL", "0", None, None, "8")


def test_percent_encoded_code_with_a_space(client: Client) -> None:
    answer = client.spid("GET", "/api/2/voucher/My%20voucher")
    assert answer.json()["data"]["voucherCode"] == "My voucher"


def test_unknown_voucher(client: Client) -> None:
    assert spid_error(client.spid("GET", "/api/2/voucher/NOPE")) == (404, "Voucher not found")


def test_handout_then_show(client: Client) -> None:
    answer = client.handout(SANDBOX.spid_user_id, SANDBOX.spid_group_id)
    assert answer.status_code == 200
    assert answer.json()["data"] == {"success": True} and answer.json()["error"] is None
    voucher = client.voucher(SANDBOX.spid_voucher_code)
    assert (voucher["status"], voucher["userId"], voucher["handoutBy"]) == ("1", "42", "0")
    assert abs(utc_epoch(voucher["handoutTime"]) - time.time()) < 5
    assert client.handout("42", SANDBOX.spid_handout_group_id).json()["data"]["success"]


@pytest.mark.parametrize(
    ("form", "text"),
    [
        ({"userId": "42"}, "Missing required userId and/or voucherGroupId parameters"),
        ({"voucherGroupId": "47"}, "Missing required userId and/or voucherGroupId parameters"),
        ({"userId": "7", "voucherGroupId": "47"}, "User not found"),
        (
            {"userId": "42", "voucherGroupId": "999"},
            "Voucher group not found, or handouts not enabled",
        ),
        (
            {"userId": "42", "voucherGroupId": SANDBOX.spid_disabled_group_id},
            "Voucher group not found, or handouts not enabled",
        ),
    ],
)
def test_handout_documented_errors(client: Client, form: dict[str, str], text: str) -> None:
    assert spid_error(client.spid("POST", "/api/2/voucher_handout", data=form)) == (404, text)


def test_handout_with_none_left_is_success_false(client: Client) -> None:
    answer = client.handout("42", SANDBOX.spid_empty_group_id)
    assert answer.status_code == 200
    body = answer.json()
    assert body["data"] == {"success": False}
    assert body["error"]["description"] == (
        f"No vouchers available in voucher group {SANDBOX.spid_empty_group_id}"
    )


def test_groups_group_generate_and_batch_handout(client: Client) -> None:
    groups = client.spid(
        "GET", "/api/2/vouchers/groups", params={"title": "Freebies for everyone!"}
    ).json()
    assert groups["type"] == "collection"
    assert [group["voucherGroupId"] for group in groups["data"]] == ["47"]
    assert client.spid("GET", "/api/2/vouchers/group/47").json()["data"]["title"] == (
        "Freebies for everyone!"
    )
    assert spid_error(client.spid("GET", "/api/2/vouchers/group/5")) == (
        404,
        "Voucher group not found",
    )
    empty = SANDBOX.spid_empty_group_id
    made = client.spid("POST", f"/api/2/vouchers/generate/{empty}", data={"amount": "3"})
    assert made.json()["data"] == {"success": True}
    given = client.spid("POST", f"/api/2/vouchers/handout/{empty}", data={"amount": "3"})
    assert {voucher["voucherGroupId"] for voucher in given.json()["data"]} == {empty}
    assert spid_error(client.spid("POST", f"/api/2/vouchers/handout/{empty}")) == (
        404,
        f"Only 0 vouchers available in voucher group {empty}, 1 asked for; none handed out",
    )
    too_many = client.spid("POST", f"/api/2/vouchers/generate/{empty}", data={"amount": "1001"})
    assert too_many.status_code == 400


def test_spid_unknown_path_and_wrong_method(client: Client) -> None:
    assert spid_error(client.spid("GET", "/api/2/nothing"))[0] == 404
    answer = client.spid("GET", "/api/2/voucher_handout")
    assert spid_error(answer)[0] == 405 and answer.headers["Allow"] == "POST"


# --- faults -----------------------------------------------------------------------------------


def test_rate_limit(state: Path) -> None:
    with start_background(state, SandboxOptions(rate_limit=3)) as running:
        client = Client(running.url)
        first = client.spid("GET", "/api/2/vouchers/groups").json()["request"]
        assert (first["limit"], first["remaining"]) == (3, 1)
        client.spid("GET", "/api/2/vouchers/groups")
        answer = client.spid("GET", "/api/2/vouchers/groups")
        assert spid_error(answer) == (420, "Request Ratelimit exceeded")
        assert answer.json()["request"]["remaining"] == 0
        assert 1 <= answer.json()["request"]["reset"] <= 60
        limited = client.spaaza("GET", "/get-user-vouchers", params={**CHAIN, "user_id": "1"})
        assert spaaza_error(limited) == (429, "rate_limited")
        assert client.http.get(f"{running.url}/__sandbox__", timeout=5).status_code == 200


def test_fail_rate_answers_5xx_and_changes_nothing(state: Path, sandbox: RunningSandbox) -> None:
    healthy = Client(sandbox.url)
    token = healthy.token
    with start_background(state, SandboxOptions(fail_rate=1.0, seed=7)) as failing:
        client = Client(failing.url, token)
        for _ in range(4):
            answer = client.handout("42", "47")
            assert answer.status_code in (500, 503)
            assert answer.json()["type"] == "error"
        spaaza = client.spaaza("POST", "/claim-voucher", data=CLAIM)
        assert spaaza_error(spaaza)[1] in ("internal_error", "service_unavailable")
    assert healthy.voucher(SANDBOX.spid_voucher_code)["status"] == "0"
    claimed = healthy.spaaza(
        "GET", "/get-user-vouchers", params={**CHAIN, "user_id": str(SANDBOX.spaaza_user_id)}
    )
    assert claimed.json()["results"]["basket_vouchers"][0]["voucher_status"] == "generated"


def test_latency(state: Path) -> None:
    with start_background(state, SandboxOptions(latency_ms=300)) as running:
        client = Client(running.url)
        started = time.perf_counter()
        client.spaaza("GET", "/get-user-vouchers", params={**CHAIN, "user_id": "1"})
        assert time.perf_counter() - started >= 0.3
        started = time.perf_counter()
        client.http.get(f"{running.url}/__sandbox__", timeout=5)
        assert time.perf_counter() - started < 0.3


# --- Spaaza: sessions and auth ----------------------------------------------------------------


def test_end_user_login_gives_a_session(client: Client) -> None:
    answer = client.spaaza(
        "POST",
        "/auth/login",
        headers=VERSION,
        data={"username": SANDBOX.spaaza_user_username, "password": SANDBOX.spaaza_user_password},
    )
    info = answer.json()["results"]["session_info"]
    assert info["session_user_id"] == SANDBOX.spaaza_user_id
    assert utc_epoch(info["session_expires_date"]) > time.time()
    user = {
        **VERSION,
        "X-Spaaza-Session-User-Id": str(info["session_user_id"]),
        "X-Spaaza-Session-Key": info["session_key"],
        "X-Spaaza-MyPrice-App-Hostname": SANDBOX.spaaza_app_hostname,
    }
    claimed = client.spaaza(
        "POST", "/claim-voucher", headers=user, data={"voucher_id": str(SANDBOX.spaaza_voucher_id)}
    )
    assert claimed.json()["results"]["voucher_status"] == "claimed"
    mine = client.spaaza("GET", "/get-user-vouchers", headers=user).json()["results"]
    assert [v["voucher_id"] for v in mine["basket_vouchers"]] == [SANDBOX.spaaza_voucher_id]
    other = client.spaaza("PUT", "/lock-voucher", headers=user, data=LOCK_VOUCHER)
    assert spaaza_error(other) == (404, "voucher_not_found")
    assert spaaza_error(
        client.spaaza(
            "PUT",
            "/unlock-voucher",
            headers=user,
            data={"voucher_id": str(SANDBOX.spaaza_voucher_id)},
        )
    ) == (403, "permission_denied_or_non_existent")


def test_admin_two_factor_login(client: Client) -> None:
    first = client.spaaza(
        "POST",
        "/auth/login",
        headers=VERSION,
        data={"username": SANDBOX.spaaza_admin_username, "password": SANDBOX.spaaza_admin_password},
    )
    info = first.json()["results"]  # at the top of results, as Spaaza's collection reads it
    assert list(info) == ["result_type", "session_passcode_key", "session_passcode_expiry_date"]
    wrong = client.spaaza(
        "POST",
        "/auth/session",
        headers=VERSION,
        data={"session_passcode": "000000", "session_passcode_key": info["session_passcode_key"]},
    )
    assert spaaza_error(wrong) == (401, "invalid_session_passcode")
    second = client.spaaza(
        "POST",
        "/auth/session",
        headers=VERSION,
        data={
            "session_passcode": SANDBOX.spaaza_admin_passcode,
            "session_passcode_key": info["session_passcode_key"],
        },
    )
    session = second.json()["results"]["session_info"]
    admin = {
        **VERSION,
        "X-Spaaza-Session-User-Id": str(session["session_user_id"]),
        "X-Spaaza-Session-Key": session["session_key"],
    }
    assert client.spaaza("POST", "/claim-voucher", headers=admin, data=CLAIM).status_code == 200


def test_wrong_password(client: Client) -> None:
    answer = client.spaaza(
        "POST",
        "/auth/login",
        headers=VERSION,
        data={"username": SANDBOX.spaaza_user_username, "password": "nope"},
    )
    assert spaaza_error(answer) == (401, "invalid_login")


@pytest.mark.parametrize(
    ("headers", "error"),
    [
        ({}, (400, "api_version_required")),
        (VERSION, (401, "no_valid_session")),
        ({**ADMIN, "X-Spaaza-Session-Key": "forged"}, (401, "no_valid_session")),
        (
            {**ADMIN, "X-Spaaza-MyPrice-App-Hostname": SANDBOX.spaaza_app_hostname},
            (400, "app_hostname_not_allowed_with_admin_auth"),
        ),
        (
            {**VERSION, "Authorization": f"Bearer {SANDBOX.spaaza_privileged_token}"},
            (403, "no_myprice_app"),
        ),
        (
            {**PRIVILEGED, "X-Spaaza-MyPrice-App-Hostname": "elsewhere.test"},
            (403, "no_myprice_app"),
        ),
        ({**PRIVILEGED, "Authorization": "Bearer forged"}, (401, "no_valid_session")),
    ],
)
def test_spaaza_auth_rules(client: Client, headers: dict[str, str], error: tuple[int, str]) -> None:
    assert (
        spaaza_error(client.spaaza("POST", "/claim-voucher", headers=headers, data=CLAIM)) == error
    )


def test_spaaza_unknown_path_and_wrong_method(client: Client) -> None:
    assert spaaza_error(client.spaaza("GET", "/nothing")) == (404, "unknown_endpoint")
    answer = client.spaaza("POST", "/lock-voucher", data=LOCK_VOUCHER)
    assert spaaza_error(answer) == (405, "method_not_allowed")
    assert answer.headers["Allow"] == "PUT"


# --- Spaaza: claims ---------------------------------------------------------------------------


def test_claim_and_unclaim(client: Client) -> None:
    answer = client.spaaza("POST", "/claim-voucher", data=CLAIM)
    assert answer.status_code == 200
    body = answer.json()
    assert body["result"] == {"code": 1, "status": "ok"}
    results = body["results"]
    assert list(results) == CLAIM_SAMPLE_KEYS
    assert results | {"voucher_expiry_seconds_remaining": 0} == {
        "voucher_key": SANDBOX.spaaza_voucher_key,
        "voucher_id": 35735,
        "voucher_status": "claimed",
        "voucher_locked": False,
        "campaign_id": 136,
        "campaign_type": "signup",
        "campaign_title": "Earn €5 on signup",
        "voucher_expiry_datetime_utc": "2050-01-01 00:00:00",
        "voucher_expiry_seconds_remaining": 0,
        "voucher_currency_id": 2,
        "voucher_currency_symbol": "€",
        "voucher_amount_original": 5,
        "voucher_amount_redeemed": 0,
        "voucher_amount": 5,
        "voucher_text": None,
        "voucher_third_party_id": 3914599659,
        "user_id": 1107604,
        "user_entity_card": {"type": "custom", "code": "404064"},
        "result_type": "claim-voucher",
    }
    again = client.spaaza("PUT", "/claim-voucher", data=CLAIM)
    assert spaaza_error(again) == (409, "voucher_already_claimed")
    undone = client.spaaza("POST", "/unclaim-voucher", data=CLAIM).json()["results"]
    assert (undone["voucher_status"], undone["result_type"]) == ("generated", "unclaim-voucher")
    assert spaaza_error(client.spaaza("PUT", "/unclaim-voucher", data=CLAIM)) == (
        409,
        "voucher_not_claimed",
    )


def test_claim_by_other_identifiers_with_privileged_auth(client: Client) -> None:
    answer = client.spaaza(
        "POST",
        "/claim-voucher",
        headers=PRIVILEGED,
        data={
            "third_party_id": str(SANDBOX.spaaza_voucher_third_party_id),
            "member_number": "M1107604",
        },
    )
    assert answer.json()["results"]["voucher_status"] == "claimed"
    bulk = client.spaaza(
        "POST",
        "/claim-voucher",
        headers=PRIVILEGED,
        data={"voucher_id": "600000", "username": "USER100000@sandbox.test"},
    )
    assert bulk.json()["results"]["user_id"] == 100000


@pytest.mark.parametrize(
    ("form", "error"),
    [
        (
            {"voucher_key": SANDBOX.spaaza_voucher_key, "user_id": "1107604"},
            (400, "chain_id_required"),
        ),
        ({**CLAIM, "chain_id": "999"}, (403, "permission_denied_or_non_existent")),
        ({**CHAIN, "user_id": "1107604"}, (400, "missing_parameter")),
        ({**CLAIM, "voucher_id": "35735"}, (400, "conflicting_parameters")),
        ({**CHAIN, "voucher_key": SANDBOX.spaaza_voucher_key}, (400, "missing_parameter")),
        (
            {**CLAIM, "user_id": "1", "username": "user1@sandbox.test"},
            (400, "conflicting_parameters"),
        ),
        ({**CLAIM, "user_id": "abc"}, (400, "invalid_parameter")),
        ({**CLAIM, "user_id": "77"}, (404, "user_not_found")),
        ({**CLAIM, "user_id": "1"}, (404, "voucher_not_found")),
        ({**CLAIM, "voucher_key": "0" * 64}, (404, "voucher_not_found")),
        (
            {**CHAIN, "voucher_id": str(SANDBOX.spaaza_redeemed_voucher_id), "user_id": "1"},
            (409, "voucher_already_redeemed"),
        ),
    ],
)
def test_claim_errors(client: Client, form: dict[str, str], error: tuple[int, str]) -> None:
    assert spaaza_error(client.spaaza("POST", "/claim-voucher", data=form)) == error


def test_multipart_form_is_read(client: Client) -> None:
    answer = client.spaaza(
        "POST", "/claim-voucher", files={name: (None, value) for name, value in CLAIM.items()}
    )
    assert answer.json()["results"]["voucher_status"] == "claimed"


def test_get_user_vouchers(client: Client) -> None:
    answer = client.spaaza("GET", "/get-user-vouchers", params={**CHAIN, "user_id": "1"})
    vouchers = answer.json()["results"]["basket_vouchers"]
    assert [v["voucher_id"] for v in vouchers] == [
        SANDBOX.spaaza_lock_voucher_id,
        SANDBOX.spaaza_redeemed_voucher_id,
    ]
    assert set(CLAIM_SAMPLE_KEYS[:-1]) | set(LOCK_SAMPLE_KEYS[:-1]) <= set(vouchers[0])
    assert spaaza_error(client.spaaza("GET", "/get-user-vouchers", params={"user_id": "1"})) == (
        400,
        "chain_id_required",
    )


# --- Spaaza: locks ----------------------------------------------------------------------------


def test_lock_defaults_to_300_seconds_in_utc(client: Client) -> None:
    answer = client.spaaza(
        "PUT",
        "/lock-voucher",
        data={
            **LOCK_VOUCHER,
            "voucher_locking_code": "lock4001",
            "retailer_basket_code": "RCPT401075452002",
        },
    )
    results = answer.json()["results"]
    assert [key for key in results if key != "voucher_locked"] == LOCK_SAMPLE_KEYS
    assert results["voucher_locked"] is True
    assert abs(utc_epoch(results["voucher_locked_until"]) - (time.time() + 300)) < 5
    assert (
        results["voucher_locking_code"],
        results["voucher_retailer_basket_code_exclusive"],
        results["result_type"],
        results["voucher_text"],
    ) == ("lock4001", "RCPT401075452002", "lock-voucher", "Your new voucher, enjoy!")


@pytest.mark.parametrize(
    ("period", "ok"),
    [("119", False), ("120", True), ("3600", True), ("3601", False), ("ten", False)],
)
def test_lock_period_bounds(client: Client, period: str, ok: bool) -> None:
    answer = client.spaaza(
        "PUT", "/lock-voucher", data={**LOCK_VOUCHER, "voucher_lock_period": period}
    )
    if ok:
        until = utc_epoch(answer.json()["results"]["voucher_locked_until"])
        assert abs(until - (time.time() + int(period))) < 5
    else:
        assert spaaza_error(answer) == (400, "invalid_lock_period")


def test_lock_codes_refresh_conflict_expiry_and_unlock(client: Client, state: Path) -> None:
    first = client.spaaza(
        "PUT", "/lock-voucher", data={**LOCK_VOUCHER, "voucher_locking_code": "A"}
    )
    assert first.status_code == 200
    other = client.spaaza(
        "PUT", "/lock-voucher", data={**LOCK_VOUCHER, "voucher_locking_code": "B"}
    )
    assert spaaza_error(other) == (409, "voucher_locked")
    same = client.spaaza(
        "PUT",
        "/lock-voucher",
        data={**LOCK_VOUCHER, "voucher_locking_code": "A", "voucher_lock_period": "3600"},
    )
    assert abs(utc_epoch(same.json()["results"]["voucher_locked_until"]) - (time.time() + 3600)) < 5
    with sqlite3.connect(state) as db:
        db.execute(
            "UPDATE spaaza_voucher SET locked_until = ? WHERE id = ?",
            (int(time.time()) - 1, SANDBOX.spaaza_lock_voucher_id),
        )
    assert (
        client.spaaza(
            "PUT", "/lock-voucher", data={**LOCK_VOUCHER, "voucher_locking_code": "B"}
        ).status_code
        == 200
    )
    unlocked = client.spaaza(
        "POST", "/unlock-voucher", headers=PRIVILEGED, data=LOCK_VOUCHER
    ).json()["results"]
    assert (
        unlocked["voucher_locked"],
        unlocked["voucher_locked_until"],
        unlocked["voucher_locking_code"],
        unlocked["result_type"],
    ) == (False, None, None, "unlock-voucher")


def test_redeemed_voucher_cannot_be_locked(client: Client) -> None:
    answer = client.spaaza(
        "PUT", "/lock-voucher", data={"voucher_id": str(SANDBOX.spaaza_redeemed_voucher_id)}
    )
    assert spaaza_error(answer) == (409, "voucher_already_redeemed")


# --- state ------------------------------------------------------------------------------------


def test_state_survives_a_restart(state: Path) -> None:
    with start_background(state) as running:
        client = Client(running.url)
        assert client.handout("42", "47").json()["data"]["success"]
    with start_background(state) as running:
        again = Client(running.url, client.token)
        assert again.voucher(SANDBOX.spid_voucher_code)["userId"] == "42"


def test_reset_state_reseeds_and_drops_tokens(state: Path) -> None:
    with start_background(state) as running:
        client = Client(running.url)
        client.handout("42", "47")
        stale = client.token
    reset_state(state)
    with start_background(state) as running:
        client = Client(running.url)
        assert client.voucher(SANDBOX.spid_voucher_code)["status"] == "0"
        rejected = client.http.get(
            f"{running.url}/api/2/voucher/x",
            headers={"Authorization": f"Bearer {stale}"},
            timeout=5,
        )
        assert (rejected.status_code, rejected.json()["error"]) == (401, "invalid_token")


def test_ensure_state_is_idempotent_when_racing(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "fresh.sqlite3"
    with ThreadPoolExecutor(4) as pool:
        for future in [pool.submit(ensure_state, path) for _ in range(4)]:
            future.result()
    ensure_state(path)
    with sqlite3.connect(path) as db:
        users = db.execute("SELECT count(*) FROM spid_user").fetchone()[0]
        unused = dict(
            db.execute("SELECT group_id, count(*) FROM spid_voucher WHERE status = 0 GROUP BY 1")
        )
    assert users == 10_001
    assert unused == {47: 12_002, 49: 10, 324673248: 12_000}


def test_two_servers_never_hand_out_one_voucher_twice(state: Path) -> None:
    group = SANDBOX.spid_empty_group_id
    with start_background(state) as one, start_background(state) as two:
        first = Client(one.url)
        first.spid("POST", f"/api/2/vouchers/generate/{group}", data={"amount": "50"})

        def hand_out(worker: int) -> list[int]:
            client = Client((one, two)[worker % 2].url, first.token)
            users = [100_000 + worker * 10 + n for n in range(10)]
            return [u for u in users if client.handout(u, group).json()["data"]["success"]]

        with ThreadPoolExecutor(16) as pool:
            winners = [user for won in pool.map(hand_out, range(16)) for user in won]
    with sqlite3.connect(state) as db:
        holders = [
            row[0]
            for row in db.execute(
                "SELECT user_id FROM spid_voucher WHERE group_id = ? AND user_id >= 100000",
                (int(group),),
            )
        ]
    assert len(winners) == 50
    assert sorted(holders) == sorted(winners)


def test_sandbox_info_lists_every_credential() -> None:
    info = SANDBOX.as_dict()
    assert info["spid_voucher_code"] == "64-HB2I-OPBL"
    assert info["spid_handout_group_id"] == "324673248"
    assert {
        "spid_client_secret",
        "spaaza_session_key",
        "spaaza_privileged_token",
        "spaaza_admin_passcode",
        "spaaza_app_hostname",
    } <= info.keys()


def test_quiet_unless_log_is_on(state: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with start_background(state) as running:
        Client(running.url).voucher("My voucher")
    assert capsys.readouterr().err == ""
    with start_background(state, SandboxOptions(log=True)) as running:
        Client(running.url).voucher("My voucher")
    lines = capsys.readouterr().err.splitlines()
    assert [line.split(" ", 1)[1].rsplit(" ", 1)[0] for line in lines] == [
        '"POST /oauth/token" 200',
        '"GET /api/2/voucher/My%20voucher" 200',
    ]


def test_spaaza_error_table_in_the_docstring_matches_the_code() -> None:
    from voucherctl.sandbox import spaaza_errors

    documented = {
        line.split()[0]: line.split()[1:3]
        for line in (spaaza_errors.__doc__ or "").splitlines()
        if line[:1].isalpha() and line.split()[0] in spaaza_errors.ERRORS
    }
    assert documented.keys() == spaaza_errors.ERRORS.keys()
    for name, (status, code) in spaaza_errors.ERRORS.items():
        assert documented[name][1] == str(code)
        assert documented[name][0] in (str(status), "4xx")
