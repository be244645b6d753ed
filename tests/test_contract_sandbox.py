"""The real sandbox server answers with the shape of the APIs' own samples (tests/fixtures/docs).

Every answer voucherctl reads is fetched from ``sandbox serve`` and compared, keys and value
types, recursively, with the sample the docs print (tests/docs_samples.py says how). A sandbox
answer that drops, renames or retypes a documented field fails here, so the sandbox cannot drift
from the docs again. Where the docs print no sample, the test's name says what is assumed.
"""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.docs_samples import origin, sample, shape_differences
from tests.sandbox_process import SandboxProcess
from voucherctl.sandbox import SANDBOX
from voucherctl.sandbox.seed import SPAAZA_BULK_VOUCHER_ID

VERSION = {"X-Spaaza-API-Version": "1.6.3"}
ADMIN = {
    **VERSION,
    "X-Spaaza-Session-User-Id": str(SANDBOX.spaaza_session_user_id),
    "X-Spaaza-Session-Key": SANDBOX.spaaza_session_key,
}
CHAIN = str(SANDBOX.spaaza_chain_id)
# The login sample's user_info (name, birthday, mailing lists, loyalty) is not emulated: the
# sandbox knows no such facts about its users, and voucherctl reads only session_info.
NOT_EMULATED = frozenset({"$.results.user_info"})


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxProcess]:
    running = SandboxProcess(tmp_path_factory.mktemp("contract") / "sandbox.sqlite3")
    yield running
    running.stop()


@pytest.fixture(scope="module")
def token(server: SandboxProcess) -> str:
    answer = oauth_token(server, SANDBOX.spid_client_secret)
    assert answer.status_code == 200
    value: str = answer.json()["access_token"]
    return value


def oauth_token(server: SandboxProcess, secret: str) -> requests.Response:
    return requests.post(
        f"{server.url}/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(SANDBOX.spid_client_id, secret),
        timeout=10,
    )


def spid(server: SandboxProcess, token: str, method: str, path: str, **kw: Any) -> Any:
    """A SPiD API answer: its container, shaped like the docs' container sample."""
    answer = requests.request(
        method, server.url + path, headers={"Authorization": f"Bearer {token}"}, timeout=10, **kw
    )
    body = answer.json()
    documented = sample("spid_container.json")
    assert shape_differences(body, {**documented, "data": None}) == []
    return body


def spaaza(server: SandboxProcess, method: str, path: str, **kw: Any) -> Any:
    headers = kw.pop("headers", ADMIN)
    return requests.request(method, server.url + path, headers=headers, timeout=10, **kw).json()


def bulk_voucher(user: int) -> str:
    """The one voucher the seed gives a bulk user: one per test, so tests share a server."""
    return str(SPAAZA_BULK_VOUCHER_ID + user - SANDBOX.spaaza_bulk_user_ids[0])


def assert_shaped(answer: Any, name: str) -> None:
    assert shape_differences(answer, sample(name), skip=NOT_EMULATED) == [], name


# -- SPiD -----------------------------------------------------------------------------------


def test_oauth_token(server: SandboxProcess) -> None:
    assert_shaped(
        oauth_token(server, SANDBOX.spid_client_secret).json(), "spid_oauth_token_post.json"
    )


def test_a_refused_client_is_invalid_client_id(server: SandboxProcess) -> None:
    answer = oauth_token(server, "wrong-secret")
    assert answer.status_code == 401
    assert_shaped(answer.json(), "spid_oauth_invalid_client_id.json")
    assert answer.json()["error"] == "invalid_client_id"


def test_an_unknown_token_is_401_with_the_flat_oauth_error(server: SandboxProcess) -> None:
    answer = requests.get(
        f"{server.url}/api/2/voucher/{SANDBOX.spid_voucher_code}",
        headers={"Authorization": "Bearer no-such-token"},
        timeout=10,
    )
    assert answer.status_code == 401
    assert_shaped(answer.json(), "spid_oauth_invalid_token.json")
    assert answer.json()["error"] == "invalid_token" and "data" not in answer.json()


def test_voucher(server: SandboxProcess, token: str) -> None:
    body = spid(server, token, "GET", f"/api/2/voucher/{SANDBOX.spid_voucher_code}")
    assert_shaped(body["data"], "spid_voucher_get.json")


def test_an_error_container(server: SandboxProcess, token: str) -> None:
    assert origin("spid_error_container.json") == "assembled"
    body = spid(server, token, "GET", "/api/2/voucher/NO-SUCH-CODE")
    assert_shaped(body, "spid_error_container.json")
    assert (body["code"], body["error"]["description"]) == (404, "Voucher not found")


def test_voucher_handout(server: SandboxProcess, token: str) -> None:
    form = {"userId": SANDBOX.spid_user_id, "voucherGroupId": SANDBOX.spid_handout_group_id}
    body = spid(server, token, "POST", "/api/2/voucher_handout", data=form)
    assert_shaped(body["data"], "spid_voucher_handout_post.json")


def test_voucher_groups(server: SandboxProcess, token: str) -> None:
    body = spid(server, token, "GET", "/api/2/vouchers/groups")
    assert body["data"], "the sandbox lists its groups"
    assert_shaped(body["data"], "spid_vouchers_groups_get.json")


@pytest.mark.parametrize("suffix", ["", ".json"])
def test_voucher_group_has_its_counts(server: SandboxProcess, token: str, suffix: str) -> None:
    """The docs' `.json` suffix asks for the same answer."""
    group = SANDBOX.spid_empty_group_id  # every voucher of it is handed out
    body = spid(server, token, "GET", f"/api/2/vouchers/group/{group}{suffix}")
    assert_shaped(body["data"], "spid_vouchers_group_get.json")
    assert (body["data"]["generatedVouchers"], body["data"]["availableVouchers"]) == (10, 0)


def test_generate_assumes_the_data_is_only_a_success_flag(
    server: SandboxProcess, token: str
) -> None:
    """The docs say only that the vouchers are not returned: the sample is an assumption."""
    assert origin("spid_vouchers_generate_post.json") == "assumed"
    body = spid(
        server,
        token,
        "POST",
        f"/api/2/vouchers/generate/{SANDBOX.spid_group_id}",
        data={"amount": "1"},
    )
    assert body["data"] == sample("spid_vouchers_generate_post.json")


def test_vouchers_handout(server: SandboxProcess, token: str) -> None:
    path = f"/api/2/vouchers/handout/{SANDBOX.spid_handout_group_id}"
    body = spid(server, token, "POST", path, data={"amount": "2"})
    assert len(body["data"]) == 2
    assert_shaped(body["data"], "spid_vouchers_handout_post.json")


def test_a_signed_answer(tmp_path: Path) -> None:
    signing = SandboxProcess(tmp_path / "signed.sqlite3", "--sign-secret", "a274de")
    try:
        token = oauth_token(signing, SANDBOX.spid_client_secret).json()["access_token"]
        answer = requests.get(
            f"{signing.url}/api/2/voucher/{SANDBOX.spid_voucher_code}",
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        ).json()
    finally:
        signing.stop()
    assert_shaped(answer, "spid_signed_container.json")


# -- Spaaza ---------------------------------------------------------------------------------


def test_login(server: SandboxProcess) -> None:
    form = {"username": SANDBOX.spaaza_user_username, "password": SANDBOX.spaaza_user_password}
    assert_shaped(
        spaaza(server, "POST", "/auth/login", headers=VERSION, data=form), "spaaza_login.json"
    )


def test_two_factor_login_and_the_session_it_gives(server: SandboxProcess) -> None:
    """The passcode key sits at the top of results, as Spaaza's Postman collection reads it;
    what /auth/session answers is assumed to be a login's session_info."""
    assert origin("spaaza_session.json") == "assumed"
    form = {"username": SANDBOX.spaaza_admin_username, "password": SANDBOX.spaaza_admin_password}
    login = spaaza(server, "POST", "/auth/login", headers=VERSION, data=form)
    assert_shaped(login, "spaaza_login_two_factor.json")
    assert "session_info" not in login["results"]
    exchange = {
        "session_passcode": SANDBOX.spaaza_admin_passcode,
        "session_passcode_key": login["results"]["session_passcode_key"],
    }
    session = spaaza(server, "POST", "/auth/session", headers=VERSION, data=exchange)
    assert_shaped(session, "spaaza_session.json")


def test_get_user_vouchers(server: SandboxProcess) -> None:
    query = {"chain_id": CHAIN, "user_id": str(SANDBOX.spaaza_user_id)}
    answer = spaaza(server, "GET", "/get-user-vouchers", params=query)
    assert_shaped(answer, "spaaza_get_user_vouchers.json")
    assert answer["results"]["basket_vouchers"], "the sample user has a voucher"
    assert set(answer["results"]) == {"basket_vouchers", "honour_vouchers", "var_price_vouchers"}


def claim(server: SandboxProcess, user: int) -> Any:
    form = {"voucher_id": bulk_voucher(user), "user_id": str(user), "chain_id": CHAIN}
    return spaaza(server, "POST", "/claim-voucher", data=form)


def test_claim_voucher(server: SandboxProcess) -> None:
    assert_shaped(claim(server, 100_001), "spaaza_claim_voucher.json")


def test_unclaim_voucher(server: SandboxProcess) -> None:
    claim(server, 100_002)
    form = {"voucher_id": bulk_voucher(100_002), "user_id": "100002", "chain_id": CHAIN}
    answer = spaaza(server, "POST", "/unclaim-voucher", data=form)
    assert_shaped(answer, "spaaza_unclaim_voucher.json")


def test_lock_and_unlock_voucher(server: SandboxProcess) -> None:
    claim(server, 100_003)
    form = {"voucher_id": bulk_voucher(100_003), "voucher_locking_code": "lock4001"}
    assert_shaped(spaaza(server, "PUT", "/lock-voucher", data=form), "spaaza_lock_voucher.json")
    form = {"voucher_id": bulk_voucher(100_003)}
    assert_shaped(spaaza(server, "PUT", "/unlock-voucher", data=form), "spaaza_unlock_voucher.json")


def test_redeem_voucher(server: SandboxProcess) -> None:
    claim(server, 100_004)
    form = {
        "voucher_id": bulk_voucher(100_004),
        "user_id": "100004",
        "chain_id": CHAIN,
        "amount": "2",
    }
    answer = spaaza(server, "POST", "/auth/redeem-voucher", data=form)
    assert_shaped(answer, "spaaza_redeem_voucher.json")
    assert answer["results"]["regenerated_voucher"]["voucher_amount"] == 3


def test_an_error_envelope(server: SandboxProcess) -> None:
    form = {"voucher_id": "1", "user_id": str(SANDBOX.spaaza_user_id), "chain_id": CHAIN}
    answer = spaaza(server, "POST", "/claim-voucher", data=form)
    assert_shaped(answer, "spaaza_error.json")
    assert answer["error"]["name"] == "voucher_not_found"
