"""Every error voucherctl raises itself has a documented ``api_error`` name and, whenever an
answer came, that answer's ``http_status`` (docs/contract.md#api-error-names); the API's own
name wins when it gives one. ``null`` is left to plain usage errors.

Wire-level, with strict ``responses`` stubs; the ``cli`` fixture checks every output against
its published schema too.
"""

import json
from typing import Any

import pytest
import requests

import tests.spaaza_stubs as spaaza
import tests.spid_stubs as stubs
from tests.conftest import spid_container

CLAIM = {"voucher_id": "7", "user_id": "42", "chain_id": "3"}
CLAIM_ARGS = ("claim", "--voucher-id", "7", "--user-id", "42")


def error_of(stderr: str) -> dict[str, Any]:
    error: dict[str, Any] = json.loads(stderr)["error"]
    return error


def summary(result: Any) -> tuple[int, int | None, str | None]:
    error = error_of(result.stderr)
    assert error["exit_code"] == result.exit_code
    return result.exit_code, error["http_status"], error["api_error"]


@pytest.fixture
def spid(monkeypatch, rsps) -> Any:
    stubs.use_client_credentials(monkeypatch)
    stubs.oauth_token(rsps)
    return rsps


@pytest.fixture
def spaaza_session(monkeypatch) -> None:
    spaaza.use_admin_session(monkeypatch)


def test_spid_420_after_the_retries_is_rate_limited_with_its_status(cli, spid) -> None:
    """Catches a rate limit after the retries reported with api_error and http_status null."""
    body = spid_container(None, code=420, error="Request Ratelimit exceeded", reset=2)
    spid.get(f"{stubs.SPID}/api/2/voucher/X", json=body, status=420)

    result = cli("show", "X", "-o", "json")

    assert summary(result) == (6, 420, "rate_limited")


def test_spaaza_429_after_the_retries_is_rate_limited_with_its_status(
    cli, rsps, spaaza_session
) -> None:
    spaaza.claim_voucher(rsps, CLAIM, {"too": "many"}, status=429)

    result = cli(*CLAIM_ARGS, "-o", "json")

    assert summary(result) == (6, 429, "rate_limited")


def test_a_quota_spent_beyond_max_wait_says_so_with_the_420(cli, spid) -> None:
    body = spid_container(None, code=420, error="Request Ratelimit exceeded", reset=3000)
    spid.get(f"{stubs.SPID}/api/2/voucher/X", json=body, status=420)

    result = cli("show", "X", "-o", "json")

    assert summary(result) == (6, 420, "quota_spent")


@pytest.mark.parametrize(
    ("failure", "name"),
    [
        (requests.exceptions.ReadTimeout("read timed out"), "timeout"),
        (requests.exceptions.ConnectionError("NewConnectionError: refused"), "unreachable"),
        (requests.exceptions.ConnectionError("Connection aborted."), "connection_lost"),
    ],
)
def test_network_failures_have_names_and_no_status(cli, spid, failure, name) -> None:
    """Catches timeouts and unreachable hosts reported like a usage error (api_error null)."""
    spid.get(f"{stubs.SPID}/api/2/voucher/X", body=failure)

    result = cli("show", "X", "-o", "json")

    assert summary(result) == (7, None, name)


def test_an_html_page_answering_a_read_is_an_unreadable_answer(cli, spid) -> None:
    stubs.get_voucher(spid, "X", None, body="<html>proxy</html>", content_type="text/html")

    result = cli("show", "X", "-o", "json")

    assert summary(result) == (1, 200, "unreadable_answer")


def test_a_truncated_answer_is_an_unreadable_answer(cli, spid) -> None:
    stubs.get_voucher(spid, "X", None, body='{"name": "SPP Container", "da')

    result = cli("show", "X", "-o", "json")

    assert summary(result) == (1, 200, "unreadable_answer")


@pytest.mark.parametrize(("status", "exit_code"), [(200, 7), (502, 7)])
def test_a_claim_answered_by_an_html_page_keeps_its_status(
    cli, rsps, spaaza_session, status, exit_code
) -> None:
    """Catches http_status null although an answer (a proxy's page) came."""
    spaaza.claim_voucher(rsps, CLAIM, "<html>bad gateway</html>", status=status)

    result = cli(*CLAIM_ARGS, "-o", "json")

    assert summary(result) == (exit_code, status, "unreadable_answer")


def test_a_refused_redirect_is_named(cli, spid) -> None:
    spid.get(
        f"{stubs.SPID}/api/2/voucher/X", status=302, headers={"Location": "https://elsewhere/"}
    )

    result = cli("show", "X", "-o", "json")

    assert summary(result) == (1, 302, "redirect_refused")


@pytest.mark.parametrize(
    ("variable", "command"),
    [
        ("VOUCHERCTL_SPID_CLIENT_ID", ("show", "X")),
        ("VOUCHERCTL_SPID_CLIENT_SECRET", ("show", "X")),
        ("VOUCHERCTL_SPAAZA_USER_ID", CLAIM_ARGS),
        ("VOUCHERCTL_SPAAZA_SESSION_KEY", CLAIM_ARGS),
    ],
)
def test_half_a_credential_pair_is_credentials_missing(cli, monkeypatch, variable, command) -> None:
    """Catches one variable of a pair set alone giving exit 4 with api_error null."""
    monkeypatch.setenv("VOUCHERCTL_SPID_URL", stubs.SPID)
    monkeypatch.setenv("VOUCHERCTL_SPAAZA_URL", spaaza.SPAAZA)
    monkeypatch.setenv("VOUCHERCTL_SPAAZA_CHAIN_ID", "3")
    monkeypatch.setenv(variable, "1001")

    result = cli(*command, "-o", "json")

    assert summary(result) == (4, None, "credentials_missing")


def test_an_error_container_in_an_http_200_maps_by_its_code(cli, spid) -> None:
    """Catches SPiD's error container with code 404 inside an HTTP 200 exiting 5 with a name
    made up of type and code ("ApiException 404")."""
    body = spid_container(None, code=404, error="Voucher not found")
    stubs.get_voucher(spid, "X", None, body=body)

    result = cli("show", "X", "-o", "json")

    assert summary(result) == (3, 200, "ApiException")
    assert "SPiD error 404" in error_of(result.stderr)["message"]


def test_the_apis_own_name_wins(cli, rsps, spaaza_session) -> None:
    refused = spaaza.error(136, "voucher_already_claimed", "already claimed")
    spaaza.claim_voucher(rsps, CLAIM, refused, status=400)

    result = cli(*CLAIM_ARGS, "-o", "json")

    assert summary(result) == (5, 400, "voucher_already_claimed")


def test_a_read_failed_by_the_server_is_a_server_error(cli, spid) -> None:
    spid.get(f"{stubs.SPID}/api/2/voucher/X", body="oops", status=503)

    result = cli("show", "X", "-o", "json")

    assert summary(result) == (1, 503, "server_error")
