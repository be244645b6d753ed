"""The sandbox's model of SPiD's regime, over real loopback HTTP: quota, token life, signing,
the voucher-group search and the probe's state-file identity.

Time is moved, never waited for: the sandbox reads its clocks through voucherctl.sandbox.clock,
which the `clock` fixture replaces.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

import voucherctl.sandbox.clock as sandbox_clock
from tests.test_sandbox_server import CHAIN, CONTAINER_KEYS, Client, spid_error
from voucherctl.sandbox import SANDBOX, RunningSandbox, SandboxOptions, ensure_state
from voucherctl.sandbox import start_background as serve
from voucherctl.sandbox.options import EMBEDDED_OPTIONS
from voucherctl.sandbox.spid_container import encode_data, signature

GROUPS = "/api/2/vouchers/groups"
VOUCHER = f"/api/2/voucher/{SANDBOX.spid_voucher_code}"
ALL_GROUP_IDS = ["38", "47", "48", "49", "50", "51", "52", "53", "324673248"]

# The signed sample of schibsted/spid-tech-docs resources/articles/endpoints.md, "Signed
# responses", with the sign secret the docs give for it.
DOCS_SIGN_SECRET = "a274de"
DOCS_DATA = (
    "eyJvYmplY3QiOiJvcmRlciIsImVudHJ5IjpbeyJvcmRlcl9pZCI6IjMwMDAxNCIsImNoYW5nZWRfZmllbGRzIjoic3Rh"
    "dHVzIiwidGltZSI6IjIwMTItMDktMzAgMTM6MjE6NDMifSx7Im9yZGVyX2lkIjoiMzAwMDE2IiwiY2hhbmdlZF9maWVs"
    "ZHMiOiJzdGF0dXMiLCJ0aW1lIjoiMjAxMi0wOS0zMCAxMzoyMTo0MyJ9XX0"
)
DOCS_SIG = "GTUVPjN1LzdyU1qwHjnMKS2oNxckfGzXWA6WOGHVOOg"
DOCS_DECODED = {
    "object": "order",
    "entry": [
        {"order_id": "300014", "changed_fields": "status", "time": "2012-09-30 13:21:43"},
        {"order_id": "300016", "changed_fields": "status", "time": "2012-09-30 13:21:43"},
    ],
}


@dataclass
class FakeClock:
    """Both of the sandbox's clocks, moved by hand."""

    wall_now: float
    monotonic_now: float = 1000.0

    def advance(self, seconds: float) -> None:
        self.wall_now += seconds
        self.monotonic_now += seconds


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock(wall_now=1_700_000_000.0)
    monkeypatch.setattr(sandbox_clock, "wall", lambda: fake.wall_now)
    monkeypatch.setattr(sandbox_clock, "monotonic", lambda: fake.monotonic_now)
    return fake


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("regime") / "seeded.sqlite3"
    ensure_state(path)
    return path


@pytest.fixture
def state(tmp_path: Path, template: Path) -> Path:
    path = tmp_path / "state.sqlite3"
    shutil.copyfile(template, path)
    return path


def serving(state: Path, **options: Any) -> RunningSandbox:
    return serve(state, SandboxOptions(**options))


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def group_ids(answer: requests.Response) -> list[str]:
    assert answer.status_code == 200, answer.text
    return [group["voucherGroupId"] for group in answer.json()["data"]]


# --- quota ------------------------------------------------------------------------------------


def test_quota_counts_api_requests_reports_them_and_refuses_beyond(
    state: Path, clock: FakeClock
) -> None:
    with serving(state, quota=3, quota_window=3600) as running:
        client = Client(running.url)
        assert client.token  # the token exchange is no API request: it does not count
        fields = [client.spid("GET", GROUPS).json()["request"] for _ in range(3)]
        assert fields == [
            {"reset": 3600, "limit": 3, "remaining": 2},
            {"reset": 3600, "limit": 3, "remaining": 1},
            {"reset": 3600, "limit": 3, "remaining": 0},
        ]
        clock.advance(1799.5)
        refused = client.spid("POST", "/api/2/voucher_handout", data={"userId": "42"})
        assert refused.status_code == 420
        body = refused.json()
        assert list(body) == CONTAINER_KEYS
        assert (body["type"], body["code"], body["data"]) == ("error", 420, None)
        assert body["error"] == {
            "code": 420,
            "type": "ApiException",
            "description": "Request Ratelimit exceeded",
        }
        assert body["request"] == {"reset": 1801, "limit": 3, "remaining": 0}
        # Past the quota: Spaaza and the token exchange are not SPiD API requests.
        spaaza = client.spaaza("GET", "/get-user-vouchers", params={**CHAIN, "user_id": "1"})
        assert spaaza.status_code == 200
        assert Client(running.url).token
        clock.advance(1800.5)
        again = Client(running.url).spid("GET", GROUPS)
        assert again.status_code == 200
        assert again.json()["request"] == {"reset": 3600, "limit": 3, "remaining": 2}


def test_refused_and_unknown_api_requests_count_too(state: Path, clock: FakeClock) -> None:
    with serving(state, quota=10) as running:
        client = Client(running.url)
        rejected = client.http.get(f"{running.url}{VOUCHER}", timeout=5)
        assert spid_error(rejected) == (403, "Access token rejected")
        assert rejected.json()["request"]["remaining"] == 9
        assert client.spid("GET", "/api/2/nothing").json()["request"]["remaining"] == 8


def test_without_a_quota_the_request_field_counts_down_from_a_large_limit(
    state: Path, clock: FakeClock
) -> None:
    with serving(state) as running:
        client = Client(running.url)
        fields = [client.spid("GET", VOUCHER).json()["request"] for _ in range(2)]
    assert fields == [
        {"reset": 3600, "limit": 360_000, "remaining": 359_999},
        {"reset": 3600, "limit": 360_000, "remaining": 359_998},
    ]


@pytest.mark.parametrize(
    ("quota", "reported"),
    [
        # The rate limit counted the token exchange too: 5 - 2 left.
        (100, {"reset": 60, "limit": 5, "remaining": 3}),
        (2, {"reset": 3600, "limit": 2, "remaining": 1}),
    ],
)
def test_request_field_reports_the_tighter_of_quota_and_rate_limit(
    state: Path, clock: FakeClock, quota: int, reported: dict[str, int]
) -> None:
    with serving(state, quota=quota, rate_limit=5) as running:
        assert Client(running.url).spid("GET", VOUCHER).json()["request"] == reported


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"quota": 0}, "quota must be at least 1 request per window"),
        ({"quota_window": 0}, "quota_window must be at least 1 second"),
        ({"token_ttl": 0}, "token_ttl must be at least 1 second"),
        ({"sign_secret": ""}, "sign_secret must not be empty; leave it out to answer unsigned"),
    ],
)
def test_option_validation(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError) as raised:
        SandboxOptions(**options)
    assert str(raised.value) == message


# --- token lifetime ---------------------------------------------------------------------------


def test_served_tokens_live_900_seconds_then_get_401(state: Path, clock: FakeClock) -> None:
    assert SandboxOptions().token_ttl == 900
    with serving(state) as running:
        client = Client(running.url)
        issued = client.http.post(
            f"{running.url}/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=(SANDBOX.spid_client_id, SANDBOX.spid_client_secret),
            timeout=5,
        ).json()
        assert issued["expires_in"] == 900
        client = Client(running.url, issued["access_token"])
        clock.advance(899)
        assert client.spid("GET", VOUCHER).status_code == 200
        clock.advance(1)
        expired = client.spid("GET", VOUCHER)
        assert expired.status_code == 401
        assert expired.json() == {  # flat, not a container, as SPiD's docs answer it
            "error": "invalid_token",
            "error_code": 401,
            "type": "OAuthException",
            "error_description": "The access token has expired",
        }
        # A fresh token works, and issuing it forgets no recently expired one.
        assert Client(running.url).spid("GET", VOUCHER).status_code == 200
        assert client.spid("GET", VOUCHER).status_code == 401


def test_in_process_sandbox_keeps_week_long_tokens_explicitly(state: Path) -> None:
    assert SandboxOptions(token_ttl=604_800) == EMBEDDED_OPTIONS
    with serve(state) as running:
        answer = requests.post(
            f"{running.url}/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=(SANDBOX.spid_client_id, SANDBOX.spid_client_secret),
            timeout=5,
        )
    assert answer.json()["expires_in"] == 604_800


# --- signed answers ---------------------------------------------------------------------------


def test_signing_reproduces_the_docs_sample() -> None:
    assert json.loads(b64url_decode(DOCS_DATA)) == DOCS_DECODED
    assert encode_data(DOCS_DECODED) == DOCS_DATA
    assert signature(DOCS_DATA, DOCS_SIGN_SECRET) == DOCS_SIG


def expected_sig(data: str, secret: str) -> str:
    digest = hmac.new(secret.encode(), data.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


@pytest.mark.parametrize(
    ("method", "path", "status", "data"),
    [
        ("GET", VOUCHER, 200, None),
        ("GET", GROUPS, 200, None),
        ("GET", "/api/2/voucher/NOPE", 404, None),
        ("POST", "/api/2/voucher_handout", 200, {"userId": "42", "voucherGroupId": "48"}),
    ],
)
def test_signed_containers(
    state: Path, method: str, path: str, status: int, data: dict[str, str] | None
) -> None:
    with serve(state) as plain:
        unsigned = Client(plain.url).spid(method, path, data=data).json()
    secret = "sandbox-sign-secret"
    with serving(state, sign_secret=secret) as running:
        answer = Client(running.url).spid(method, path, data=data)
    assert answer.status_code == status
    body = answer.json()
    assert list(body) == [*CONTAINER_KEYS, "algorithm", "sig"]
    assert body["algorithm"] == "HMAC-SHA256"
    assert isinstance(body["data"], str) and "=" not in body["data"] + body["sig"]
    assert body["sig"] == expected_sig(body["data"], secret)
    assert json.loads(b64url_decode(body["data"])) == unsigned["data"]
    assert {k: v for k, v in body.items() if k not in ("data", "algorithm", "sig")} == {
        k: v for k, v in unsigned.items() if k not in ("data", "request")
    } | {"request": body["request"]}


def test_rate_limited_answers_are_signed_and_token_answers_are_not(state: Path) -> None:
    with serving(state, sign_secret="s", quota=1) as running:
        client = Client(running.url)
        token = client.http.post(
            f"{running.url}/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=(SANDBOX.spid_client_id, SANDBOX.spid_client_secret),
            timeout=5,
        ).json()
        assert "sig" not in token and isinstance(token["access_token"], str)
        client = Client(running.url, token["access_token"])
        client.spid("GET", VOUCHER)
        refused = client.spid("GET", VOUCHER).json()
    assert refused["code"] == 420
    assert refused["data"] == "bnVsbA"  # base64url of JSON null
    assert refused["sig"] == expected_sig("bnVsbA", "s")


# --- the voucher-group search -----------------------------------------------------------------


@pytest.fixture
def spid(state: Path) -> Iterator[Client]:
    with serve(state) as running:
        yield Client(running.url)


def test_groups_page_by_limit_and_offset(spid: Client) -> None:
    assert group_ids(spid.spid("GET", GROUPS)) == ALL_GROUP_IDS
    pages = [
        group_ids(spid.spid("GET", GROUPS, params={"limit": "4", "offset": str(offset)}))
        for offset in (0, 4, 8)
    ]
    assert pages == [ALL_GROUP_IDS[:4], ALL_GROUP_IDS[4:8], ALL_GROUP_IDS[8:]]
    past = spid.spid("GET", GROUPS, params={"limit": "4", "offset": "9"})
    assert spid_error(past) == (404, "No voucher groups found")
    assert group_ids(spid.spid("GET", GROUPS, params={"limit": "1000", "offset": ""})) == (
        ALL_GROUP_IDS
    )


@pytest.mark.parametrize(
    ("params", "ids"),
    [
        ({"title": "Summer campaign"}, ["50", "51"]),
        ({"title": "Vouchers for all"}, ["38"]),
        ({"campaignId": "7"}, ["50", "53"]),
        ({"type": "5"}, ["48", "50", "51", "324673248"]),
        ({"productId": "1001", "type": "3"}, ["53"]),
        ({"title": "Summer campaign", "campaignId": "8", "limit": "1"}, ["51"]),
        ({"title": "", "campaignId": ""}, ALL_GROUP_IDS),
    ],
)
def test_groups_filters(spid: Client, params: dict[str, str], ids: list[str]) -> None:
    assert group_ids(spid.spid("GET", GROUPS, params=params)) == ids


@pytest.mark.parametrize(
    "params", [{"title": "summer campaign"}, {"title": "Summer"}, {"campaignId": "9"}]
)
def test_groups_search_finding_nothing_is_404(spid: Client, params: dict[str, str]) -> None:
    assert spid_error(spid.spid("GET", GROUPS, params=params)) == (
        404,
        "No voucher groups found",
    )


@pytest.mark.parametrize(
    ("params", "text"),
    [
        ({"limit": "0"}, "limit must be an integer from 1 to 1000"),
        ({"limit": "1001"}, "limit must be an integer from 1 to 1000"),
        ({"limit": "ten"}, "limit must be an integer from 1 to 1000"),
        ({"limit": "-1"}, "limit must be an integer from 1 to 1000"),
        ({"offset": "-1"}, "offset must be an integer, 0 or more"),
        ({"offset": "1.5"}, "offset must be an integer, 0 or more"),
    ],
)
def test_groups_bad_paging_is_400(spid: Client, params: dict[str, str], text: str) -> None:
    answer = spid.spid("GET", GROUPS, params=params)
    assert spid_error(answer) == (400, text)
    assert answer.json()["error"]["type"] == "ApiException"


# --- the probe --------------------------------------------------------------------------------


def test_probe_names_the_state_file_through_a_symlink(state: Path, tmp_path: Path) -> None:
    link = tmp_path / "link.sqlite3"
    link.symlink_to(state)
    other = tmp_path / "other.sqlite3"
    shutil.copyfile(state, other)
    with serve(link) as via_link, serve(other) as elsewhere:
        probe = requests.get(f"{via_link.url}/__sandbox__", timeout=5).json()
        other_probe = requests.get(f"{elsewhere.url}/__sandbox__", timeout=5).json()
    stat = os.stat(state)
    assert probe["state"] == str(state.resolve())
    assert (probe["state_device"], probe["state_inode"]) == (stat.st_dev, stat.st_ino)
    assert other_probe["state_inode"] != stat.st_ino
    assert other_probe["state"] == str(other.resolve())
