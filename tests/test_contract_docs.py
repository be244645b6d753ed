"""voucherctl reads the APIs' own sample answers (tests/fixtures/docs) right.

Every sample is served, as the docs print it, by a strict stub; the test checks what voucherctl
prints and its exit code. The SPiD answers come in the docs' own container sample, with the
docs' own token. Samples the docs do not print are named in their test (``assumed``).
"""

import json
from typing import Any

import keyring
import pytest
from responses import matchers

from tests import spaaza_stubs as spaaza
from tests import spid_stubs as spid
from tests.conftest import table_lines
from tests.docs_samples import origin, sample
from voucherctl.api.spid.client import SpidClient
from voucherctl.api.transport.http import HttpClient
from voucherctl.secrets.sets import MemoryTokenCache, SpidCredentials

TOKEN = sample("spid_oauth_token_post.json")["access_token"]
RENEWED = "canary-renewed-token-0019"
VOUCHER = sample("spid_voucher_get.json")


def contained(data: Any) -> dict[str, Any]:
    """``data`` in the docs' sample container."""
    return {**sample("spid_container.json"), "data": data}


def token_stub(rsps: Any, body: Any = None, status: int = 200) -> None:
    spid.oauth_token(rsps, body=body or sample("spid_oauth_token_post.json"), status=status)


def spid_stub(
    rsps: Any,
    method: str,
    path: str,
    body: Any,
    *,
    status: int = 200,
    form: dict[str, str] | None = None,
    token: str = TOKEN,
) -> None:
    match = [matchers.header_matcher({"Authorization": f"Bearer {token}"})]
    if form is not None:
        match.append(matchers.urlencoded_params_matcher(form))
    rsps.add(method, f"{spid.SPID}/api/2{path}", json=body, status=status, match=match)


@pytest.fixture
def spid_client(monkeypatch: pytest.MonkeyPatch) -> None:
    spid.use_client_credentials(monkeypatch)


# -- SPiD -----------------------------------------------------------------------------------


def test_show_prints_the_docs_voucher(cli, rsps, spid_client) -> None:
    token_stub(rsps)
    spid_stub(rsps, "GET", "/voucher/64-HB2I-OPBL", contained(VOUCHER))

    result = cli("show", "64-HB2I-OPBL")

    assert (result.exit_code, json.loads(result.stdout)) == (0, VOUCHER), result.stderr


def test_handout_reads_the_docs_success(cli, rsps, spid_client) -> None:
    token_stub(rsps)
    form = {"userId": "42", "voucherGroupId": "47"}
    spid_stub(
        rsps,
        "POST",
        "/voucher_handout",
        contained(sample("spid_voucher_handout_post.json")),
        form=form,
    )

    result = cli("handout", "--user", "42", "--group", "47")

    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == {"success": True, "userId": "42", "voucherGroupId": "47"}


def test_groups_prints_the_docs_list(cli, rsps, spid_client) -> None:
    groups = sample("spid_vouchers_groups_get.json")
    token_stub(rsps)
    rsps.get(
        f"{spid.SPID}/api/2/vouchers/groups",
        json=contained(groups),
        match=[matchers.query_param_matcher({"limit": "1000", "offset": "0"})],
    )

    result = cli("groups")

    assert (result.exit_code, json.loads(result.stdout)) == (0, groups), result.stderr


def test_group_shows_how_many_vouchers_are_left(cli, rsps, spid_client) -> None:
    """Support's first question; the counts are in the docs' answer."""
    group = sample("spid_vouchers_group_get.json")
    token_stub(rsps)
    spid_stub(rsps, "GET", "/vouchers/group/46", contained(group))
    spid_stub(rsps, "GET", "/vouchers/group/46", contained(group))

    as_json = cli("group", "46")
    table = table_lines(cli("group", "46", tty=True).stdout)

    assert (as_json.exit_code, json.loads(as_json.stdout)) == (0, group), as_json.stderr
    assert {"Generated 1", "Available 0"} <= set(table)


def test_generate_assumes_the_answer_is_a_success_flag(cli, rsps, spid_client) -> None:
    """The docs print no answer for generate: the sample is assumed."""
    assert origin("spid_vouchers_generate_post.json") == "assumed"
    token_stub(rsps)
    answer = contained(sample("spid_vouchers_generate_post.json"))
    spid_stub(rsps, "POST", "/vouchers/generate/46", answer, form={"amount": "2"})

    result = cli("generate", "46", "--amount", "2")

    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == {"success": True, "voucherGroupId": "46", "amount": 2}


def test_codes_prints_the_docs_vouchers(cli, rsps, spid_client) -> None:
    vouchers = sample("spid_vouchers_handout_post.json")
    token_stub(rsps)
    spid_stub(rsps, "POST", "/vouchers/handout/46", contained(vouchers), form={"amount": "1"})

    result = cli("codes", "46", "--amount", "1")

    assert (result.exit_code, json.loads(result.stdout)) == (0, vouchers), result.stderr


def test_the_docs_invalid_token_renews_the_cached_token(rsps) -> None:
    """SPiD answers a token it does not take with a flat 401, not a container: a cached token
    so refused is renewed once, and the call made again with the new one."""
    token_stub(rsps)
    spid_stub(rsps, "GET", "/voucher/64-HB2I-OPBL", contained(VOUCHER))
    refused = sample("spid_oauth_invalid_token.json")
    spid_stub(rsps, "GET", "/voucher/64-HB2I-OPBL", refused, status=401)
    token_stub(rsps, {**sample("spid_oauth_token_post.json"), "access_token": RENEWED})
    spid_stub(rsps, "GET", "/voucher/64-HB2I-OPBL", contained(VOUCHER), token=RENEWED)
    credentials = SpidCredentials(
        source="test",
        client_id=spid.CLIENT_ID,
        client_secret=spid.CLIENT_SECRET,
        cache=MemoryTokenCache(),
    )
    api = SpidClient(HttpClient(timeout=5, max_wait=60), spid.SPID, credentials)

    assert api.voucher("64-HB2I-OPBL") == VOUCHER  # the token is cached now
    assert api.voucher("64-HB2I-OPBL") == VOUCHER  # refused, renewed, sent again
    assert [call.request.url.endswith("/oauth/token") for call in rsps.calls] == [
        True,
        False,
        False,
        True,
        False,
    ]


def test_a_refused_client_is_exit_4(cli, rsps, spid_client) -> None:
    token_stub(rsps, sample("spid_oauth_invalid_client_id.json"), status=401)

    result = cli("show", "64-HB2I-OPBL")

    assert (result.exit_code, result.stdout) == (4, "")
    assert "SPiD refused the client credentials of client-123 (HTTP 401:" in result.stderr
    assert "invalid_client_id" in result.stderr


def test_the_error_container_is_not_found(cli, rsps, spid_client) -> None:
    token_stub(rsps)
    spid_stub(rsps, "GET", "/voucher/NOPE", sample("spid_error_container.json"), status=404)

    result = cli("show", "NOPE")

    assert (result.exit_code, result.stdout) == (3, "")
    assert result.stderr == "voucherctl: error: show voucher NOPE: HTTP 404: Voucher not found\n"


def test_the_docs_signed_answer_is_verified_and_decoded(
    cli, rsps, spid_client, monkeypatch
) -> None:
    monkeypatch.setenv("VOUCHERCTL_SPID_SIGN_SECRET", "a274de")  # the docs' sign secret
    token_stub(rsps)
    spid_stub(rsps, "GET", "/voucher/X", sample("spid_signed_container.json"))

    # The docs' signed sample is an order, not a voucher: its signature passes (a failed one
    # would be signature_invalid), then show refuses to print an order as a voucher.
    result = cli("show", "X", "-o", "json")

    error = json.loads(result.stderr)["error"]
    assert (result.exit_code, error["api_error"]) == (1, "unexpected_answer"), result.stderr
    assert "voucherCode" in error["message"]


# -- Spaaza ---------------------------------------------------------------------------------

LOGIN = (
    "auth",
    "login",
    "spaaza",
    "--host",
    spaaza.SPAAZA,
    "--chain-id",
    "3",
    "--insecure-storage",
)
SESSION = sample("spaaza_login.json")["results"]["session_info"]


def login_stub(rsps: Any, body: Any, status: int = 200) -> None:
    rsps.post(
        f"{spaaza.SPAAZA}/auth/login",
        json=body,
        status=status,
        match=[
            matchers.urlencoded_params_matcher({"username": "admin@example.com", "password": "pw"})
        ],
    )


def stored_session() -> dict[str, Any]:
    user = SESSION["session_user_id"]
    entry = keyring.get_password("voucherctl", f"spaaza/{spaaza.SPAAZA}/{user}/session")
    return json.loads(entry or "{}")


def test_the_docs_login_is_stored(cli, rsps, file_keyring) -> None:
    login_stub(rsps, sample("spaaza_login.json"))

    result = cli(*LOGIN, "--username", "admin@example.com", input="pw\n")

    assert result.exit_code == 0, result.stderr
    assert stored_session()["session_key"] == SESSION["session_key"]


def test_two_factor_login_reads_the_key_where_spaazas_collection_does(
    cli, rsps, file_keyring
) -> None:
    """The passcode key at the top of results, as Spaaza's Postman collection reads it; what
    /auth/session answers is assumed to be a login's session_info."""
    assert origin("spaaza_session.json") == "assumed"
    two_factor = sample("spaaza_login_two_factor.json")
    login_stub(rsps, two_factor)
    key = two_factor["results"]["session_passcode_key"]
    rsps.post(
        f"{spaaza.SPAAZA}/auth/session",
        json=sample("spaaza_session.json"),
        match=[
            matchers.urlencoded_params_matcher(
                {"session_passcode": "123456", "session_passcode_key": key}
            )
        ],
    )

    result = cli(*LOGIN, "--username", "admin@example.com", input="pw\n123456\n")

    assert result.exit_code == 0, result.stderr
    assert "emailed you a passcode (valid until 2024-03-05 10:15:00 UTC)" in result.stderr
    assert stored_session()["session_key"] == SESSION["session_key"]
    assert key not in result.stdout + result.stderr


def test_the_docs_error_refuses_the_login(cli, rsps, file_keyring) -> None:
    login_stub(rsps, sample("spaaza_error.json"), status=400)

    result = cli(*LOGIN, "--username", "admin@example.com", input="pw\n")

    assert (result.exit_code, stored_session()) == (4, {})
    assert (
        "Gebruikersnaam / wachtwoord zijn onbekend (password_error_or_non_existent)"
        in result.stderr
    )


CHANGES = [
    ("claim", "spaaza_claim_voucher.json", {"user_id": "1107604", "chain_id": "3"}),
    ("unclaim", "spaaza_unclaim_voucher.json", {"user_id": "1", "chain_id": "3"}),
    ("lock", "spaaza_lock_voucher.json", {}),
    ("unlock", "spaaza_unlock_voucher.json", {}),
    ("redeem", "spaaza_redeem_voucher.json", {"user_id": "1", "chain_id": "3"}),
]
PATHS = {
    "claim": ("POST", "/claim-voucher"),
    "unclaim": ("POST", "/unclaim-voucher"),
    "lock": ("PUT", "/lock-voucher"),
    "unlock": ("PUT", "/unlock-voucher"),
    "redeem": ("POST", "/auth/redeem-voucher"),
}


@pytest.mark.parametrize(("command", "name", "form"), CHANGES, ids=[c[0] for c in CHANGES])
def test_changes_print_the_docs_voucher(cli, rsps, monkeypatch, command, name, form) -> None:
    spaaza.use_admin_session(monkeypatch)
    answer = sample(name)
    voucher_id = str(answer["results"]["voucher_id"])
    spaaza.change(rsps, *PATHS[command], {"voucher_id": voucher_id, **form}, answer)
    user = ["--user-id", form["user_id"]] if "user_id" in form else []

    result = cli(command, "--voucher-id", voucher_id, *user)

    assert (result.exit_code, json.loads(result.stdout)) == (0, answer["results"]), result.stderr


def test_vouchers_lists_the_docs_basket_vouchers(cli, rsps, monkeypatch) -> None:
    spaaza.use_admin_session(monkeypatch)
    answer = sample("spaaza_get_user_vouchers.json")
    spaaza.get_user_vouchers(rsps, {"user_id": "1107604", "chain_id": "3"}, answer)

    result = cli("vouchers", "--user-id", "1107604")

    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == answer["results"]["basket_vouchers"]


def test_the_docs_warning_is_shown(cli, rsps, monkeypatch) -> None:
    spaaza.use_admin_session(monkeypatch)
    spaaza.get_user_vouchers(rsps, {"user_id": "1", "chain_id": "3"}, sample("spaaza_warning.json"))

    result = cli("vouchers", "--user-id", "1")

    assert (result.exit_code, json.loads(result.stdout)) == (0, []), result.stderr
    assert "No voucher has been found matching this voucher_key or voucher_id." in result.stderr
