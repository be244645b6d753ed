"""Servers that echo secrets back where voucherctl prints data, not errors: a successful
answer, a bulk row's error, auth status's detail. Found by an outside review; each case leaked
before every stream and file went through the scrub."""

import base64
import csv
import io
import json

import pytest

from tests import spid_stubs as stubs

SECRETS = (stubs.CLIENT_SECRET, stubs.TOKEN)


def _forms(secret: str) -> list[str]:
    raw = secret.encode()
    every_byte = "".join(f"%{byte:02x}" for byte in raw)
    return [secret, base64.b64encode(raw).decode(), raw.hex(), every_byte, every_byte.upper()]


def assert_no_secret(*texts: str) -> None:
    for text in texts:
        for secret in SECRETS:
            for form in _forms(secret):
                assert form not in text, f"{form!r} leaked"


@pytest.fixture(autouse=True)
def credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    stubs.use_client_credentials(monkeypatch)


@pytest.mark.parametrize("fmt", ["json", "jsonl", "csv", "table"])
def test_a_successful_answer_that_echoes_secrets_is_scrubbed(cli, rsps, fmt) -> None:
    stubs.oauth_token(rsps)
    echoed = " | ".join(form for secret in SECRETS for form in _forms(secret))
    stubs.get_voucher(rsps, "X", {"voucherCode": "X", "userId": echoed, "status": "1"})

    result = cli("show", "X", "-o", fmt)

    assert result.exit_code == 0, result.stderr
    assert "***" in result.stdout
    assert_no_secret(result.stdout, result.stderr)


def test_a_query_picking_an_echoed_secret_prints_it_masked(cli, rsps) -> None:
    stubs.oauth_token(rsps)
    stubs.get_voucher(rsps, "X", {"voucherCode": "X", "note": f"echo {stubs.TOKEN}"})

    result = cli("show", "X", "--query", "note")

    assert result.stdout == "echo ***\n"


def test_bulk_row_errors_that_echo_the_token_are_scrubbed_in_output_and_journal(
    cli, rsps, tmp_path
) -> None:
    source = tmp_path / "rows.csv"
    source.write_text("userId,voucherGroupId\n1,47\n")
    journal = tmp_path / "j.jsonl"
    stubs.oauth_token(rsps)
    stubs.voucher_handout(
        rsps, "1", "47", success=False, status=400, error=f"echo Bearer {stubs.TOKEN}"
    )

    result = cli("handout", "--from", str(source), "--journal", str(journal), "-o", "csv")

    assert result.exit_code == 8
    ledger = [p.read_text("latin-1") for p in tmp_path.glob("**/ledger.sqlite3*") if p.is_file()]
    assert ledger and "echo Bearer ***" in "".join(ledger)  # the row's error, recorded scrubbed
    assert_no_secret(result.stdout, result.stderr, *ledger)
    assert "echo Bearer ***" in result.stdout


def test_auth_status_detail_that_echoes_the_client_secret_is_scrubbed(cli, rsps) -> None:
    basic = base64.b64encode(f"{stubs.CLIENT_ID}:{stubs.CLIENT_SECRET}".encode()).decode()
    rsps.post(
        f"{stubs.SPID}/oauth/token",
        json={"error": "invalid_client", "error_description": f"bad {basic} {stubs.CLIENT_SECRET}"},
        status=401,
    )

    result = cli("auth", "status", "-o", "json")

    assert result.exit_code == 4
    assert_no_secret(result.stdout, result.stderr)


def test_a_servers_newline_cannot_forge_a_csv_row(cli, rsps, tmp_path) -> None:
    source = tmp_path / "rows.csv"
    source.write_text("userId,voucherGroupId\n1,47\n")
    stubs.oauth_token(rsps)
    stubs.voucher_handout(
        rsps, "1", "47", success=False, status=400, error="nope\n99,ok,0,,1,47,forged"
    )

    result = cli("handout", "--from", str(source), "-o", "csv")

    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [row["outcome"] for row in rows] == ["failed"]


def test_spid_errors_carry_their_status_and_name_in_json(cli, rsps) -> None:
    stubs.oauth_token(rsps)
    stubs.get_voucher(rsps, "NOPE", None, status=404, error="Voucher not found")

    result = cli("show", "NOPE", "-o", "json")

    error = json.loads(result.stderr)["error"]
    assert (error["exit_code"], error["http_status"]) == (3, 404)
    assert error["api_error"] == "ApiException"  # the type, as SPiD's docs give it


def test_a_token_endpoint_echoing_the_basic_credential_shows_it_masked_whole(cli, rsps) -> None:
    """Catches the HTTP Basic credential sent to /oauth/token not registered for the scrub:
    the client secret inside it is masked, but the rest of ``base64(id:secret)`` is printed,
    part of a credential (and with a short secret, enough to guess it)."""
    basic = base64.b64encode(f"{stubs.CLIENT_ID}:{stubs.CLIENT_SECRET}".encode()).decode()
    rsps.post(
        f"{stubs.SPID}/oauth/token",
        json={"error": "invalid_client", "error_description": f"Authorization: Basic {basic}."},
        status=401,
    )

    result = cli("show", "X")

    assert result.exit_code == 4
    assert "invalid_client: Authorization: Basic ***.)" in result.stderr
    assert basic[:8] not in result.stderr
