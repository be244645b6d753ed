"""``voucherctl handout``: a change that must never be made twice."""

import json

import pytest
import requests

from tests import spid_stubs as stubs
from tests.conftest import table_lines


@pytest.fixture(autouse=True)
def credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    stubs.use_client_credentials(monkeypatch)


def test_handout_prints_success_with_the_ids(cli, rsps) -> None:
    stubs.oauth_token(rsps)
    stubs.voucher_handout(rsps, "42", "324673248")

    result = cli("handout", "--user", "42", "--group", "324673248")

    assert result.exit_code == 0
    assert json.loads(result.stdout) == {
        "success": True,
        "userId": "42",
        "voucherGroupId": "324673248",
    }
    assert result.stderr == ""


def test_handout_table_on_a_terminal(cli, rsps) -> None:
    stubs.oauth_token(rsps)
    stubs.voucher_handout(rsps, "42", "47")

    result = cli("handout", "--user", "42", "--group", "47", tty=True)

    lines = table_lines(result.stdout)
    assert "Handed out yes" in lines
    assert "User 42" in lines
    assert "Voucher group 47" in lines


def test_success_false_is_a_rejection_exit_5(cli, rsps) -> None:
    stubs.oauth_token(rsps)
    stubs.voucher_handout(rsps, "42", "47", success=False, error="No vouchers available")

    result = cli("handout", "--user", "42", "--group", "47")

    assert result.exit_code == 5
    assert result.stdout == ""
    assert result.stderr == (
        "voucherctl: error: handout from voucher group 47 to user 42: No vouchers available\n"
    )


@pytest.mark.parametrize(
    ("status", "text", "code"),
    [
        (404, "User not found", 3),
        (404, "Voucher group not found, or handouts not enabled", 3),
        (403, "Client does not have access to this voucher group", 4),
        (401, "You don't have administration rights for this client.", 4),
        (404, "Unknown client ID", 4),
    ],
)
def test_documented_failures_map_to_their_exit_codes(cli, rsps, status, text, code) -> None:
    stubs.oauth_token(rsps)
    stubs.voucher_handout(rsps, "42", "47", status=status, error=text)

    result = cli("handout", "--user", "42", "--group", "47")

    assert result.exit_code == code
    assert result.stderr.endswith(f"HTTP {status}: {text}\n")


def test_a_5xx_is_not_resent_and_the_outcome_is_unknown(cli, rsps, no_waiting) -> None:
    stubs.oauth_token(rsps)
    stubs.voucher_handout(rsps, "42", "47", status=502, error="Bad gateway")

    result = cli("handout", "--user", "42", "--group", "47")

    assert result.exit_code == 7
    assert no_waiting == []
    assert "may or may not have been made" in result.stderr


def test_a_dropped_connection_is_not_resent(cli, rsps, no_waiting) -> None:
    stubs.oauth_token(rsps)
    rsps.post(
        f"{stubs.SPID}/api/2/voucher_handout",
        body=requests.exceptions.ConnectionError("Connection aborted."),
    )

    result = cli("handout", "--user", "42", "--group", "47")

    assert result.exit_code == 7
    assert no_waiting == []
    assert "the change may or may not have been made" in result.stderr


def test_an_unreadable_success_answer_is_an_unknown_outcome(cli, rsps) -> None:
    stubs.oauth_token(rsps)
    stubs.voucher_handout(rsps, "42", "47", body="<html>ok</html>")

    result = cli("handout", "--user", "42", "--group", "47")

    assert result.exit_code == 7


def test_a_rate_limited_handout_is_resent_after_the_reset(cli, rsps, no_waiting) -> None:
    stubs.oauth_token(rsps)
    rsps.post(
        f"{stubs.SPID}/api/2/voucher_handout",
        status=420,
        json=stubs.spid_container(None, code=420, error="Request Ratelimit exceeded", reset=0),
    )
    stubs.voucher_handout(rsps, "42", "47")

    result = cli("handout", "--user", "42", "--group", "47")

    assert result.exit_code == 0
    assert no_waiting == [1.0]  # at least one second, even when reset says 0


def test_rate_limited_still_after_three_retries_is_exit_6(cli, rsps, no_waiting) -> None:
    stubs.oauth_token(rsps)
    for _ in range(4):
        rsps.post(
            f"{stubs.SPID}/api/2/voucher_handout",
            status=420,
            json=stubs.spid_container(None, code=420, error="Request Ratelimit exceeded", reset=2),
        )

    result = cli("handout", "--user", "42", "--group", "47")

    assert result.exit_code == 6
    assert no_waiting == [2.0, 2.0, 2.0]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--user", "abc", "--group", "47"], "--user must be a positive whole number, not 'abc'"),
        (["--user", "42", "--group", "-3"], "--group must be a positive whole number, not '-3'"),
        (["--user", "0", "--group", "47"], "--user must be a positive whole number, not '0'"),
        (["--user", "4" * 40, "--group", "47"], "--user is larger than any id can be"),
        (["--user", "9223372036854775808", "--group", "47"], "--user is larger than any id"),
        (["--user", "٤٢", "--group", "47"], "--user must be a positive whole number"),
    ],
)
def test_bad_ids_are_usage_errors_and_nothing_is_sent(cli, rsps, args, message) -> None:
    result = cli("handout", *args)

    assert result.exit_code == 2
    assert message in result.stderr


def test_missing_options_are_usage_errors(cli, rsps) -> None:
    result = cli("handout", "--user", "42")

    assert result.exit_code == 2
    assert result.stderr == "voucherctl: error: --group is required\n"


def test_no_credentials_is_exit_4_naming_the_variables(cli, rsps, monkeypatch) -> None:
    monkeypatch.delenv("VOUCHERCTL_SPID_CLIENT_ID")
    monkeypatch.delenv("VOUCHERCTL_SPID_CLIENT_SECRET")

    result = cli("handout", "--user", "42", "--group", "47")

    assert result.exit_code == 4
    assert "VOUCHERCTL_SPID_TOKEN" in result.stderr
    assert "auth login spid" in result.stderr


def test_half_a_credential_set_is_not_used(cli, rsps, monkeypatch) -> None:
    monkeypatch.delenv("VOUCHERCTL_SPID_CLIENT_SECRET")

    result = cli("handout", "--user", "42", "--group", "47")

    assert result.exit_code == 4
    assert "VOUCHERCTL_SPID_CLIENT_SECRET is not set" in result.stderr


def test_a_token_from_the_environment_is_used_as_is(cli, rsps, monkeypatch) -> None:
    monkeypatch.setenv("VOUCHERCTL_SPID_TOKEN", "canary-env-token-0001")
    stubs.voucher_handout(rsps, "42", "47", token="canary-env-token-0001")

    assert cli("handout", "--user", "42", "--group", "47").exit_code == 0


def test_no_host_configured_is_a_usage_error_suggesting_the_sandbox(cli, rsps, monkeypatch):
    monkeypatch.delenv("VOUCHERCTL_SPID_URL")

    result = cli("handout", "--user", "42", "--group", "47")

    assert result.exit_code == 2
    assert "--sandbox" in result.stderr


@pytest.mark.parametrize(
    "url",
    ["http://login.schibsted.com", "ftp://x", "https://host/?q=1", "login.schibsted.com"],
)
def test_unsafe_or_malformed_base_urls_are_refused(cli, rsps, monkeypatch, url) -> None:
    monkeypatch.setenv("VOUCHERCTL_SPID_URL", url)

    result = cli("handout", "--user", "42", "--group", "47")

    assert result.exit_code == 2
    assert "SPiD base URL" in result.stderr


def test_a_redirect_is_never_followed(cli, rsps) -> None:
    stubs.oauth_token(rsps)
    rsps.post(
        f"{stubs.SPID}/api/2/voucher_handout",
        status=302,
        headers={"Location": "https://evil.test/steal"},
    )

    result = cli("handout", "--user", "42", "--group", "47")

    assert result.exit_code == 1
    assert "never follows redirects" in result.stderr
