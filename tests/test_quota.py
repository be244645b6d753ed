"""SPiD's quota: every request waits for the quota the last answers reported, never meets a 420
it could have seen coming, and gives up at once (exit 6, nothing sent) when the quota resets
later than --max-wait. Waits are recorded, never slept (the ``no_waiting`` fixture)."""

import threading
import time
from time import localtime, strftime
from typing import Any

import pytest

from tests import spid_stubs as stubs
from tests.conftest import fixture_json, spid_container
from voucherctl.api.spid.client import SpidClient
from voucherctl.api.transport.http import HttpClient
from voucherctl.api.transport.pacing import Pacer, QuotaExhausted, QuotaReport
from voucherctl.core.errors import ExitCode, QuotaSpentError
from voucherctl.secrets.sets import SpidCredentials

SAMPLE = fixture_json("spid_get_voucher.json")


def answer(data: Any, *, limit: int = 3600, remaining: int, reset: int) -> dict[str, Any]:
    """A container reporting the quota as SPiD does."""
    body = spid_container(data)
    body["request"] = {"reset": reset, "limit": limit, "remaining": remaining}
    return body


def client(max_wait: float = 60, pacer: Pacer | None = None) -> SpidClient:
    credentials = SpidCredentials(source="test", access_token=stubs.TOKEN)
    http = HttpClient(timeout=5, max_wait=max_wait, pacer=pacer)
    return SpidClient(http, stubs.SPID, credentials)


# -- the pacer alone, on a clock that waiting moves -----------------------------------------


class FakeTime:
    """The pacer's clock: ``sleep`` (the pacer's pause) moves it and records the wait."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.waits: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def time(self) -> float:
        return 1_700_000_000.0 + self.now

    def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds

    localtime = staticmethod(localtime)
    strftime = staticmethod(strftime)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeTime:
    fake = FakeTime()
    monkeypatch.setattr("voucherctl.api.transport.pacing.time", fake)
    monkeypatch.setattr("voucherctl.api.transport.pacing.pause", fake.sleep)
    return fake


def report(pacer: Pacer, remaining: int, reset: float, limit: int = 100) -> None:
    """One counted request, answered with this quota."""
    pacer.finished(pacer.wait_turn(counted=True), QuotaReport(limit, remaining, reset))


def test_a_spent_quota_holds_counted_requests_until_its_reset(clock) -> None:
    """Catches sending on while the last answer said nothing is left."""
    pacer = Pacer()
    report(pacer, remaining=0, reset=30)

    pacer.wait_turn(counted=True)

    assert clock.waits == [30]


def test_requests_the_quota_does_not_count_are_not_held(clock) -> None:
    pacer = Pacer()
    report(pacer, remaining=0, reset=30)

    pacer.wait_turn()  # a token request: SPiD's quota does not count it

    assert clock.waits == []


def test_requests_in_flight_count_against_what_is_left(clock) -> None:
    """Catches workers each spending the same last request: two are left and two are in
    flight, so a third waits for the reset."""
    pacer = Pacer()
    report(pacer, remaining=2, reset=30)
    pacer.wait_turn(counted=True)
    pacer.wait_turn(counted=True)
    assert clock.waits == []

    pacer.wait_turn(counted=True)

    assert clock.waits == [30]


def test_an_answer_overtaken_on_its_way_cannot_raise_what_is_left(clock) -> None:
    """Catches trusting the last answer to arrive rather than the lowest count: an earlier
    request's answer that arrives late says more is left than there is."""
    pacer = Pacer()
    late, early = pacer.wait_turn(counted=True), pacer.wait_turn(counted=True)
    pacer.finished(early, QuotaReport(100, 0, 30))
    pacer.finished(late, QuotaReport(100, 1, 30))

    pacer.wait_turn(counted=True)

    assert clock.waits == [30]


def test_after_the_reset_the_whole_allowance_is_there_again(clock) -> None:
    """Catches a period's spent quota held against the next one: after the reset, the
    allowance is there until the new period's answers say otherwise."""
    pacer = Pacer()
    report(pacer, remaining=0, reset=30, limit=3)

    first = pacer.wait_turn(counted=True)  # waits for the reset
    pacer.wait_turn(counted=True)
    pacer.wait_turn(counted=True)
    assert clock.waits == [30]
    pacer.finished(first, QuotaReport(3, 0, 30))  # the new period's first answer: all spent
    pacer.wait_turn(counted=True)

    assert clock.waits == [30, 30]


def test_with_the_allowance_in_flight_the_next_request_waits_for_their_answers(clock) -> None:
    """Catches sending past a small allowance at a period's start, before any answer of the
    period said when it ends (a quota smaller than --concurrency)."""
    pacer = Pacer()
    report(pacer, remaining=0, reset=30, limit=2)
    first = pacer.wait_turn(counted=True)  # waits for the reset
    pacer.wait_turn(counted=True)  # the new period's second and last
    third = threading.Thread(target=pacer.wait_turn, kwargs={"counted": True})
    third.start()
    time.sleep(0.05)  # not an assertion: lets the third get as far as it would go

    pacer.finished(first, QuotaReport(2, 0, 30))  # all spent, the period ends in 30 s
    third.join()

    assert clock.waits == [30, 30]


def test_a_reset_beyond_max_wait_is_given_up_at_once(clock) -> None:
    pacer = Pacer()
    report(pacer, remaining=0, reset=3000, limit=50)

    with pytest.raises(QuotaExhausted) as spent:
        pacer.wait_turn(counted=True, max_wait=60)

    assert clock.waits == []
    assert (spent.value.seconds, spent.value.limit) == (3000, 50)


def test_the_wait_is_told_to_whoever_shows_progress(clock) -> None:
    """The hook a bulk run's progress display uses: when the wait starts, until when, and
    when it is over."""
    told: list[float | None] = []
    pacer = Pacer(on_wait=told.append)
    report(pacer, remaining=0, reset=30)

    pacer.wait_turn(counted=True)

    assert told == [clock.time(), None]  # told when the wait began: the moment of the reset
    assert pacer.waiting_until is None and pacer.waiting_text is None


def test_waiting_text_names_the_reset_time(clock) -> None:
    pacer = Pacer()
    pacer.hold_all(90)

    expected = time.strftime("%H:%M:%S", time.localtime(clock.time() + 90))
    assert pacer.waiting_until == clock.time() + 90
    assert pacer.waiting_text == f"waiting for the quota to reset at {expected}"


# -- over the wire -------------------------------------------------------------------------


def test_a_call_waits_for_the_reset_the_last_answer_reported(rsps, no_waiting) -> None:
    """Catches a quota followed only after a 420: the second call waits, and is sent once."""
    stubs.get_voucher(rsps, "X", None, body=answer(SAMPLE, remaining=0, reset=20))
    stubs.get_voucher(rsps, "Y", None, body=answer(SAMPLE, remaining=3599, reset=3600))
    api = client()

    api.voucher("X")
    api.voucher("Y")

    assert len(no_waiting) == 1 and 19.9 < no_waiting[0] <= 20


def test_a_quota_spent_beyond_max_wait_sends_nothing_and_says_when_it_resets(rsps) -> None:
    """Catches sending a request the quota cannot take (and meeting the 420) when the reset
    is further away than --max-wait; the error carries the reset for a bulk run to stop on."""
    stubs.get_voucher(rsps, "X", None, body=answer(SAMPLE, limit=50, remaining=0, reset=3000))
    api = client(max_wait=60)
    api.voucher("X")

    with pytest.raises(QuotaSpentError) as spent:
        api.voucher("Y")  # no stub: had it been sent, responses would refuse the connection

    error = spent.value
    assert error.exit_code == ExitCode.RATE_LIMITED and error.sent is False
    assert 2990 < error.resets_at - time.time() <= 3000
    assert error.message.startswith(
        "show voucher Y: rate limited by spid.test: its quota of 50 requests is spent and "
        "resets in 3000 s, at "
    )
    assert error.message.endswith(", later than --max-wait (60 s) allows; not sent")


def test_a_420_beyond_max_wait_carries_the_reset_too(rsps, no_waiting) -> None:
    body = spid_container(None, code=420, error="Request Ratelimit exceeded", reset=3000)
    rsps.get(f"{stubs.SPID}/api/2/voucher/X", json=body, status=420)

    with pytest.raises(QuotaSpentError) as spent:
        client().voucher("X")

    assert spent.value.sent is True
    assert 2990 < spent.value.resets_at - time.time() <= 3000
    assert no_waiting == []


def test_a_pacer_shared_by_two_clients_is_one_quota(rsps, no_waiting) -> None:
    """The workers of a bulk run share one pacer: what one learnt holds the other back."""
    pacer = Pacer()
    stubs.get_voucher(rsps, "X", None, body=answer(SAMPLE, remaining=0, reset=3000))
    client(pacer=pacer).voucher("X")

    with pytest.raises(QuotaSpentError):
        client(pacer=pacer).voucher("Y")


def test_the_cli_exits_6_without_sending_when_the_pages_spend_the_quota(
    cli, rsps, monkeypatch
) -> None:
    """``groups`` pages on; a page that reports the quota spent until after --max-wait stops
    the listing before the next page is asked for."""
    stubs.use_client_credentials(monkeypatch)
    stubs.oauth_token(rsps)
    page = [{"voucherGroupId": str(n)} for n in range(1000)]
    rsps.get(
        f"{stubs.SPID}/api/2/vouchers/groups",
        json=answer(page, remaining=0, reset=600),
    )

    result = cli("groups", "--max-wait", "30")

    assert result.exit_code == 6
    assert result.stdout == ""
    assert "its quota of 3600 requests is spent and resets in 600 s" in result.stderr


@pytest.mark.parametrize(
    "request_field",
    [
        {"reset": "60", "limit": "100", "remaining": "0"},  # numbers as strings, as SPiD's data
        {"reset": 60.4, "limit": 100, "remaining": -3},  # below zero: nothing left
    ],
)
def test_quota_fields_are_read_as_spid_may_send_them(rsps, no_waiting, request_field) -> None:
    body = {**spid_container(SAMPLE), "request": request_field}
    stubs.get_voucher(rsps, "X", None, body=body)
    stubs.get_voucher(rsps, "Y", SAMPLE)
    api = client(max_wait=120)

    api.voucher("X")
    api.voucher("Y")

    assert len(no_waiting) == 1 and 59 < no_waiting[0] <= 60.4


@pytest.mark.parametrize(
    "request_field",
    [None, {}, {"reset": "soon", "limit": 1, "remaining": 0}, {"reset": 1e300, "remaining": 0}],
)
def test_a_quota_field_that_says_nothing_usable_holds_nothing_back(
    rsps, no_waiting, request_field
) -> None:
    stubs.get_voucher(rsps, "X", None, body={**spid_container(SAMPLE), "request": request_field})
    stubs.get_voucher(rsps, "Y", SAMPLE)
    api = client()

    api.voucher("X")
    api.voucher("Y")

    assert no_waiting == []
