"""``voucherctl show``: wire format, rendering and failures."""

import json

import pytest

from tests import spid_stubs as stubs
from tests.conftest import fixture_json, table_lines

SAMPLE = fixture_json("spid_get_voucher.json")


@pytest.fixture(autouse=True)
def credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    stubs.use_client_credentials(monkeypatch)


def test_piped_output_is_the_api_voucher_as_returned(cli, rsps) -> None:
    stubs.oauth_token(rsps)
    stubs.get_voucher(rsps, "64-HB2I-OPBL", SAMPLE)

    result = cli("show", "64-HB2I-OPBL")

    assert result.exit_code == 0
    assert json.loads(result.stdout) == SAMPLE
    assert result.stderr == ""


def test_terminal_output_is_a_table_with_names_for_codes(cli, rsps) -> None:
    stubs.oauth_token(rsps)
    stubs.get_voucher(rsps, "64-HB2I-OPBL", SAMPLE)

    result = cli("show", "64-HB2I-OPBL", tty=True)

    assert result.exit_code == 0
    lines = table_lines(result.stdout)
    assert "Voucher 64-HB2I-OPBL (times: no zone given)" in lines  # SPiD's times say none
    assert "Code 64-HB2I-OPBL" in lines
    assert "Status handed out" in lines
    assert "Type payment method" in lines
    assert "Voucher group 47 (Freebies for everyone!)" in lines
    assert "Handed out 2014-08-06 11:47:29" in lines
    assert result.stderr == ""


def test_json_can_be_asked_for_on_a_terminal(cli, rsps) -> None:
    stubs.oauth_token(rsps)
    stubs.get_voucher(rsps, "64-HB2I-OPBL", SAMPLE)

    result = cli("show", "64-HB2I-OPBL", "-o", "json", tty=True)

    assert json.loads(result.stdout) == SAMPLE


def test_common_options_work_before_the_command_too(cli, rsps) -> None:
    stubs.oauth_token(rsps)
    stubs.get_voucher(rsps, "64-HB2I-OPBL", SAMPLE)

    result = cli("-o", "jsonl", "show", "64-HB2I-OPBL", tty=True)

    assert result.stdout == json.dumps(SAMPLE, ensure_ascii=False) + "\n"


def test_csv_output_has_a_header_and_one_row(cli, rsps) -> None:
    stubs.oauth_token(rsps)
    stubs.get_voucher(rsps, "64-HB2I-OPBL", SAMPLE)

    result = cli("show", "64-HB2I-OPBL", "-o", "csv")

    header, row = result.stdout.splitlines()
    columns = header.split(",")
    assert columns[0] == "group.clientId" and "group.title" in columns  # flattened, not JSON
    assert "group" not in columns and "{" not in row
    assert ",64-HB2I-OPBL," in row


def test_the_code_is_percent_encoded_in_the_path(cli, rsps) -> None:
    stubs.oauth_token(rsps)
    stubs.get_voucher(rsps, "My%20voucher", {**SAMPLE, "voucherCode": "My voucher"})

    result = cli("show", "My voucher")

    assert result.exit_code == 0


def test_slashes_in_a_code_cannot_change_the_path(cli, rsps) -> None:
    stubs.oauth_token(rsps)
    stubs.get_voucher(rsps, "..%2Fvouchers%2Fgroups", SAMPLE)

    assert cli("show", "../vouchers/groups").exit_code == 0


def test_unknown_voucher_exits_3_with_the_api_text(cli, rsps) -> None:
    stubs.oauth_token(rsps)
    stubs.get_voucher(rsps, "NOPE", None, status=404, error="Voucher not found")

    result = cli("show", "NOPE")

    assert result.exit_code == 3
    assert result.stdout == ""
    assert result.stderr == "voucherctl: error: show voucher NOPE: HTTP 404: Voucher not found\n"


@pytest.mark.parametrize("text", ["Unknown client ID", "Client ID mismatch. The client ..."])
def test_client_404s_are_authentication_failures(cli, rsps, text) -> None:
    stubs.oauth_token(rsps)
    stubs.get_voucher(rsps, "X", None, status=404, error=text)

    assert cli("show", "X").exit_code == 4


def test_a_rejected_fresh_token_is_exit_4(cli, rsps) -> None:
    stubs.oauth_token(rsps)
    stubs.get_voucher(rsps, "X", None, status=403, error="Access token rejected")

    result = cli("show", "X")

    assert result.exit_code == 4
    assert result.stderr == "voucherctl: error: show voucher X: HTTP 403: Access token rejected\n"


def test_server_errors_on_a_read_are_retried_then_exit_1(cli, rsps, no_waiting) -> None:
    stubs.oauth_token(rsps)
    for _ in range(3):
        stubs.get_voucher(
            rsps, "X", None, status=503, body="<html>busy</html>", content_type="text/html"
        )

    result = cli("show", "X")

    assert result.exit_code == 1
    assert len(no_waiting) == 2
    assert result.stderr == (
        "voucherctl: error: show voucher X: unreadable answer (HTTP 503, text/html, 17 bytes)\n"
    )


def test_a_truncated_answer_is_a_clean_exit_1(cli, rsps) -> None:
    stubs.oauth_token(rsps)
    stubs.get_voucher(rsps, "X", None, body='{"name": "SPP Container", "da')

    result = cli("show", "X")

    assert result.exit_code == 1
    assert "unreadable answer (HTTP 200" in result.stderr
    assert "Traceback" not in result.stderr


def test_rate_limit_waits_for_the_reset_then_retries(cli, rsps, no_waiting) -> None:
    stubs.oauth_token(rsps)
    rsps.get(
        f"{stubs.SPID}/api/2/voucher/X",
        json=stubs.spid_container(None, code=420, error="Request Ratelimit exceeded", reset=7),
        status=420,
    )
    stubs.get_voucher(rsps, "X", SAMPLE)

    result = cli("show", "X")

    assert result.exit_code == 0
    assert no_waiting == [7.0]


def test_rate_limit_further_away_than_max_wait_gives_up_at_once(cli, rsps, no_waiting) -> None:
    stubs.oauth_token(rsps)
    rsps.get(
        f"{stubs.SPID}/api/2/voucher/X",
        json=stubs.spid_container(None, code=420, error="Request Ratelimit exceeded", reset=3000),
        status=420,
    )

    result = cli("show", "X")

    assert result.exit_code == 6
    assert no_waiting == []
    assert "resets in 3000 s" in result.stderr


@pytest.mark.parametrize("code", ["", "   "])
def test_an_empty_code_is_a_usage_error_and_nothing_is_sent(cli, rsps, code) -> None:
    result = cli("show", code)

    assert result.exit_code == 2
    assert result.stderr == "voucherctl: error: CODE must not be empty\n"


def test_control_characters_from_the_server_are_escaped(cli, rsps) -> None:
    stubs.oauth_token(rsps)
    stubs.get_voucher(rsps, "X", None, status=404, error="no \x1b[31mred\x1b[0m here")

    result = cli("show", "X")

    assert "\x1b" not in result.stderr
    assert "\\x1b[31mred" in result.stderr


def test_verbose_logs_the_exchange_with_secrets_redacted(cli, rsps) -> None:
    stubs.oauth_token(rsps)
    stubs.get_voucher(rsps, "64-HB2I-OPBL", SAMPLE)

    result = cli("show", "64-HB2I-OPBL", "-v")

    assert "> GET https://spid.test/api/2/voucher/64-HB2I-OPBL" in result.stderr
    assert "> Authorization: Bearer ***" in result.stderr
    assert "> Authorization: Basic ***" in result.stderr
    assert "< HTTP 200" in result.stderr
    assert stubs.TOKEN not in result.stderr + result.stdout
    assert stubs.CLIENT_SECRET not in result.stderr + result.stdout
