"""Server tokens live 900 s (JWTs): a long run renews them before they expire, once for all
workers, and a token the API refuses is renewed once. Time is moved, never waited for."""

import threading
from types import SimpleNamespace
from typing import Any

import pytest
import responses

from tests import spid_stubs as stubs
from tests.conftest import fixture_json, spid_container
from voucherctl.api.spid.client import SpidClient
from voucherctl.api.transport.http import HttpClient
from voucherctl.core.errors import ExitCode, VoucherctlError
from voucherctl.secrets.sets import CachedToken, MemoryTokenCache, SpidCredentials

SAMPLE = fixture_json("spid_get_voucher.json")
NOW = 1_700_000_000.0


@pytest.fixture
def wall(monkeypatch: pytest.MonkeyPatch) -> SimpleNamespace:
    """The wall clock tokens are timed by (``wall.now``, moved by hand)."""
    clock = SimpleNamespace(now=NOW)
    fake = SimpleNamespace(time=lambda: clock.now)
    monkeypatch.setattr("voucherctl.secrets.sets.time", fake)
    monkeypatch.setattr("voucherctl.api.spid.client.time", fake)
    return clock


def token_answer(token: str, lifetime: int) -> dict[str, Any]:
    return {"access_token": token, "expires_in": lifetime, "token_type": "Bearer"}


def client() -> SpidClient:
    credentials = SpidCredentials(
        source="test",
        client_id=stubs.CLIENT_ID,
        client_secret=stubs.CLIENT_SECRET,
        cache=MemoryTokenCache(),
    )
    return SpidClient(HttpClient(timeout=5, max_wait=60), stubs.SPID, credentials)


def calls_to(rsps: responses.RequestsMock, path: str) -> int:
    return sum(call.request.url.startswith(stubs.SPID + path) for call in rsps.calls)


@pytest.mark.parametrize(
    ("lifetime", "fresh_until"),
    [(900, 840), (604_800, 604_740), (5, 4.5), (1, 0.9)],
)
def test_a_token_is_renewed_a_tenth_of_its_life_early_a_minute_at_most(
    wall, lifetime, fresh_until
) -> None:
    """Catches a fixed margin: a minute before the end renews a 5 s token on every request,
    while a tenth of a week would throw away 17 hours of each."""
    token = CachedToken("t", NOW + lifetime, lifetime)

    wall.now = NOW + fresh_until - 0.01
    assert token.fresh
    wall.now = NOW + fresh_until
    assert not token.fresh


def test_a_token_living_seconds_is_not_fetched_for_every_request(rsps, wall) -> None:
    stubs.oauth_token(rsps, body=token_answer(stubs.TOKEN, 5))
    for _ in range(20):
        stubs.get_voucher(rsps, "X", SAMPLE)
    api = client()

    for step in range(20):
        wall.now = NOW + step * 0.2  # 20 requests over 4 s of its 5
        api.voucher("X")

    assert calls_to(rsps, "/oauth/token") == 1


def test_a_long_run_renews_before_expiry_once_for_all_workers(rsps, wall) -> None:
    """Catches each worker fetching a token of its own when the shared one runs out (or none
    renewing it until the API refuses it)."""
    stubs.oauth_token(rsps, body=token_answer(stubs.TOKEN, 900))
    stubs.oauth_token(rsps, body=token_answer("canary-renewed-token-0002", 900))
    rsps.get(f"{stubs.SPID}/api/2/voucher/X", json=spid_container(SAMPLE))
    api = client()
    api.voucher("X")

    wall.now = NOW + 850  # ten minutes of the token's fifteen... and then some: renew now
    workers = [threading.Thread(target=api.voucher, args=("X",)) for _ in range(8)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    assert calls_to(rsps, "/oauth/token") == 2
    sent = [call.request.headers["Authorization"] for call in rsps.calls[2:]]
    assert sent.count("Bearer canary-renewed-token-0002") == 8


def test_a_refused_cached_token_is_renewed_once_and_only_once(rsps, wall) -> None:
    """Catches renewing on every refusal: a renewed token refused again is exit 4."""
    stubs.oauth_token(rsps, body=token_answer(stubs.TOKEN, 900))
    stubs.get_voucher(rsps, "X", SAMPLE)
    stubs.get_voucher(rsps, "X", None, status=401, error="Access token expired")
    stubs.oauth_token(rsps, body=token_answer("canary-renewed-token-0003", 900))
    stubs.get_voucher(
        rsps, "X", None, status=401, error="Access token expired", token="canary-renewed-token-0003"
    )
    api = client()
    api.voucher("X")

    with pytest.raises(VoucherctlError) as refused:
        api.voucher("X")

    assert refused.value.exit_code == ExitCode.AUTH
    assert calls_to(rsps, "/oauth/token") == 2


def test_a_request_that_waited_for_the_quota_goes_with_a_token_renewed_meanwhile(
    rsps, wall, monkeypatch
) -> None:
    """Catches the token being taken before the wait for the quota: after waiting out a
    period longer than the token's life, a stale token would go out (and be refused)."""

    def wait(seconds: float) -> None:
        wall.now += seconds

    monkeypatch.setattr("voucherctl.api.transport.pacing.pause", wait)
    spent = spid_container(SAMPLE)
    spent["request"] = {"reset": 1000, "limit": 3600, "remaining": 0}
    stubs.oauth_token(rsps, body=token_answer(stubs.TOKEN, 900))
    stubs.get_voucher(rsps, "X", None, body=spent)
    stubs.oauth_token(rsps, body=token_answer("canary-renewed-token-0004", 900))
    stubs.get_voucher(rsps, "Y", SAMPLE, token="canary-renewed-token-0004")
    credentials = client().credentials
    api = SpidClient(HttpClient(timeout=5, max_wait=1200), stubs.SPID, credentials)

    api.voucher("X")
    api.voucher("Y")  # waits 1000 s for the quota: the first token is gone by then

    assert calls_to(rsps, "/oauth/token") == 2
