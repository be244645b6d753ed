"""Signed SPiD answers: data decoded always, verified with the sign secret, never trusted when
the signature fails (a read exits 1, a change 7).

The sample is SPiD's own: schibsted/spid-tech-docs, resources/articles/endpoints.md, "Signed
responses", with the sign secret the docs give for it. Signatures the tests make themselves
are made here with hmac, not with voucherctl's code.
"""

import base64
import hashlib
import hmac
import json
from typing import Any

import pytest

from tests import spid_stubs as stubs
from tests.conftest import spid_container
from voucherctl.api.spid.client import SpidClient
from voucherctl.api.transport.http import HttpClient
from voucherctl.core.errors import ExitCode, VoucherctlError
from voucherctl.secrets.sets import SpidCredentials

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
# The docs' container as SPiD sends it, its data and signature untouched.
DOCS_CONTAINER = {
    "name": "SPP Container",
    "version": "0.2",
    "api": 2,
    "object": "Payment",
    "type": "collection",
    "code": 200,
    "request": {"reset": 3600, "limit": 360000, "remaining": 360000},
    "debug": {
        "route": {
            "name": "Search transactions",
            "url": "/api/2/payments",
            "controller": "Api/2/Payment.payments",
        },
        "params": {"options": [], "where": {"clientRef": "521b89dc836b9"}},
    },
    "meta": {"count": 1, "offset": 0},
    "error": None,
    "data": DOCS_DATA,
    "algorithm": "HMAC-SHA256",
    "sig": DOCS_SIG,
}


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def signed(data: Any, secret: str = DOCS_SIGN_SECRET, **fields: Any) -> dict[str, Any]:
    """A container with ``data`` signed as SPiD signs it."""
    encoded = b64url(json.dumps(data).encode())
    sig = b64url(hmac.new(secret.encode(), encoded.encode(), hashlib.sha256).digest())
    return {
        **spid_container(None),
        "data": encoded,
        "algorithm": "HMAC-SHA256",
        "sig": sig,
        **fields,
    }


def client(sign_secret: str | None) -> SpidClient:
    """A client with a token and, where given, the sign secret (as credentials will carry it)."""
    credentials = SpidCredentials(source="test", access_token=stubs.TOKEN, sign_secret=sign_secret)
    return SpidClient(HttpClient(timeout=5, max_wait=60), stubs.SPID, credentials)


def failure(call: Any) -> VoucherctlError:
    with pytest.raises(VoucherctlError) as caught:
        call()
    return caught.value


# -- verified ------------------------------------------------------------------------------


def read_raw(api: SpidClient) -> Any:
    """The data of the answer to GET /voucher/X as decoded, whatever its shape: the docs'
    signed sample is an order, which voucher() refuses as not a voucher."""
    return api._call("GET", "/api/2/voucher/X", what="read the docs' sample")


def test_the_docs_sample_is_decoded_and_verified_with_its_sign_secret(rsps) -> None:
    """Catches signed data handed on as the base64url string, or a check that fails SPiD's own
    sample (signed over the decoded data, another encoding of the secret, padding, ...)."""
    stubs.get_voucher(rsps, "X", None, body=DOCS_CONTAINER)
    api = client(DOCS_SIGN_SECRET)

    assert read_raw(api) == DOCS_DECODED
    assert api.signatures_seen == {"verified"}


def test_a_signed_handout_is_decoded_and_verified(rsps) -> None:
    stubs.voucher_handout(rsps, "42", "47", body=signed({"success": True}))

    assert client(DOCS_SIGN_SECRET).handout("42", "47") == {
        "success": True,
        "userId": "42",
        "voucherGroupId": "47",
    }


def test_a_signed_collection_of_groups_is_decoded(rsps) -> None:
    groups = [{"voucherGroupId": "47", "title": "Freebies for everyone!"}]
    stubs.voucher_groups(rsps, None, body=signed(groups))

    assert client(DOCS_SIGN_SECRET).groups() == groups


def test_a_padded_signature_is_the_same_signature(rsps) -> None:
    stubs.get_voucher(rsps, "X", None, body={**DOCS_CONTAINER, "sig": DOCS_SIG + "="})

    assert read_raw(client(DOCS_SIGN_SECRET)) == DOCS_DECODED


def test_an_unsigned_answer_is_taken_as_it_is_without_a_sign_secret(rsps) -> None:
    stubs.get_voucher(rsps, "X", {"voucherCode": "X"})
    api = client(None)

    assert api.voucher("X") == {"voucherCode": "X"}
    assert api.signatures_seen == {"unsigned"}


# -- never trusted -------------------------------------------------------------------------

# The sample's data with its orders taken out, its signature left as it was.
TAMPERED_DATA = b64url(json.dumps({**DOCS_DECODED, "entry": []}).encode())


@pytest.mark.parametrize(
    ("container", "secret", "reason"),
    [
        (DOCS_CONTAINER, "a274df", "its signature does not match the sign secret"),
        ({**DOCS_CONTAINER, "data": TAMPERED_DATA}, DOCS_SIGN_SECRET, "does not match"),
        ({**DOCS_CONTAINER, "sig": DOCS_SIG[:-2]}, DOCS_SIGN_SECRET, "does not match"),
        ({**DOCS_CONTAINER, "sig": "not base64!"}, DOCS_SIGN_SECRET, "does not match"),
        ({**DOCS_CONTAINER, "algorithm": "HMAC-SHA1"}, DOCS_SIGN_SECRET, "not HMAC-SHA256"),
        ({**DOCS_CONTAINER, "algorithm": "HMAC-SHA1"}, None, "not HMAC-SHA256"),
        ({**DOCS_CONTAINER, "sig": None}, DOCS_SIGN_SECRET, "not a string"),
        ({**DOCS_CONTAINER, "data": {"status": "1"}}, None, "not a string"),
        ({**DOCS_CONTAINER, "data": "bm90IGpzb24"}, None, "not base64url-encoded JSON"),
    ],
    ids=[
        "wrong-secret",
        "tampered-data",
        "cut-sig",
        "sig-not-base64",
        "unknown-algorithm",
        "unknown-algorithm-no-secret",
        "no-sig",
        "data-not-a-string",
        "data-not-json",
    ],
)
def test_a_read_whose_signature_fails_is_exit_1(rsps, container, secret, reason) -> None:
    """Catches data used although its signature does not match (or cannot be checked)."""
    stubs.get_voucher(rsps, "X", None, body=container)

    error = failure(lambda: client(secret).voucher("X"))

    assert error.exit_code == ExitCode.ERROR
    assert error.message.startswith("show voucher X: SPiD's answer failed its signature check")
    assert reason in error.message


def test_a_handout_whose_signature_fails_has_an_unknown_outcome(rsps) -> None:
    """Catches a change reported done (or refused) on an answer that cannot be trusted: the
    server may or may not have made it, so exit 7, and a bulk run will not resend it."""
    stubs.voucher_handout(rsps, "42", "47", body=signed({"success": True}, secret="someone-else"))

    error = failure(lambda: client(DOCS_SIGN_SECRET).handout("42", "47"))

    assert error.exit_code == ExitCode.OUTCOME_UNKNOWN
    assert "signature check" in error.message
    assert "the change may or may not have been made" in error.message


def test_a_groups_page_whose_signature_fails_is_exit_1(rsps) -> None:
    stubs.voucher_groups(rsps, None, body=signed([{"voucherGroupId": "1"}], secret="other"))

    assert failure(lambda: client(DOCS_SIGN_SECRET).groups()).exit_code == ExitCode.ERROR


# -- no sign secret: decoded, nothing verified ---------------------------------------------


SIGNED_VOUCHER = {"voucherCode": "X", "voucherId": "9", "voucherGroupId": "47", "status": "0"}


@pytest.fixture
def spid_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    stubs.use_client_credentials(monkeypatch)


def test_without_a_sign_secret_the_cli_decodes_and_says_nothing(cli, rsps, spid_variables) -> None:
    stubs.oauth_token(rsps)
    stubs.get_voucher(rsps, "X", None, body=signed(SIGNED_VOUCHER))

    result = cli("show", "X", "-o", "json")

    assert result.exit_code == 0
    assert json.loads(result.stdout) == SIGNED_VOUCHER
    assert result.stderr == ""


def test_verbose_says_signed_answers_are_not_verified(cli, rsps, spid_variables) -> None:
    stubs.oauth_token(rsps)
    stubs.get_voucher(rsps, "X", None, body=signed(SIGNED_VOUCHER))

    result = cli("show", "X", "-o", "json", "-v")

    assert result.exit_code == 0
    assert "* SPiD's answers are signed, but nothing is verified: no sign secret" in result.stderr


def test_a_tampered_answer_is_exit_1_through_the_cli_too(cli, rsps, spid_variables) -> None:
    stubs.oauth_token(rsps)
    stubs.get_voucher(rsps, "X", None, body={**DOCS_CONTAINER, "algorithm": "none"})

    result = cli("show", "X")

    assert (result.exit_code, result.stdout) == (1, "")
    assert "failed its signature check" in result.stderr


# -- with a sign secret, only exactly HMAC-SHA256 and a matching signature are trusted ------

# The sample with its signature taken off and its data made plain, as an attacker who can
# change an answer but not sign it would send it.
STRIPPED = {
    **{k: v for k, v in DOCS_CONTAINER.items() if k not in ("algorithm", "sig")},
    "data": {"voucherCode": "X", "status": "0"},
}
LOWER_CASE_SIGNED = {**signed({"voucherCode": "X"}), "algorithm": "hmac-sha256"}


@pytest.mark.parametrize(
    ("container", "reason"),
    [
        (STRIPPED, "it is not signed, though a sign secret is configured"),
        ({**STRIPPED, "algorithm": None, "sig": None}, "it is not signed"),
        ({**LOWER_CASE_SIGNED, "sig": DOCS_SIG}, "signed with 'hmac-sha256', not HMAC-SHA256"),
        (LOWER_CASE_SIGNED, "signed with 'hmac-sha256', not HMAC-SHA256"),
        ({**signed({"voucherCode": "X"}), "algorithm": "HMAC-SHA256 "}, "not HMAC-SHA256"),
    ],
    ids=["stripped", "nulls", "lower-case-wrong-sig", "lower-case-right-sig", "trailing-space"],
)
def test_with_a_sign_secret_only_an_exact_hmac_sha256_signature_is_trusted(
    rsps, container, reason
) -> None:
    """Catches a stripped signature taken as an unsigned answer (plain data used, exit 0), and
    the algorithm compared case-insensitively or loosely: a lower-case 'hmac-sha256' is refused
    even when its signature is right."""
    stubs.get_voucher(rsps, "X", None, body=container)

    error = failure(lambda: client(DOCS_SIGN_SECRET).voucher("X"))

    assert error.exit_code == ExitCode.ERROR
    assert reason in error.message


def test_a_stripped_signature_fails_the_cli_read_with_one_line(
    cli, rsps, spid_variables, monkeypatch
) -> None:
    monkeypatch.setenv("VOUCHERCTL_SPID_SIGN_SECRET", DOCS_SIGN_SECRET)
    stubs.oauth_token(rsps)
    stubs.get_voucher(rsps, "X", None, body=STRIPPED)

    result = cli("show", "X", "-v")

    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr.splitlines()[-1] == (
        "voucherctl: error: show voucher X: SPiD's answer failed its signature check (it is not "
        "signed, though a sign secret is configured), so its data is not trusted; check the sign "
        "secret (VOUCHERCTL_SPID_SIGN_SECRET)"
    )


@pytest.mark.parametrize("container", [STRIPPED, LOWER_CASE_SIGNED], ids=["stripped", "lower"])
def test_a_handout_answered_without_a_trusted_signature_is_exit_7(
    cli, rsps, spid_variables, monkeypatch, container
) -> None:
    """Catches a change reported done on an answer a sign secret cannot vouch for."""
    monkeypatch.setenv("VOUCHERCTL_SPID_SIGN_SECRET", DOCS_SIGN_SECRET)
    stubs.oauth_token(rsps)
    answer = {**container, "data": {"success": True}} if container is STRIPPED else container
    stubs.voucher_handout(rsps, "42", "47", body=answer)

    result = cli("handout", "--user", "42", "--group", "47")

    assert (result.exit_code, result.stdout) == (7, "")
    assert "signature check" in result.stderr
    assert "the change may or may not have been made" in result.stderr
