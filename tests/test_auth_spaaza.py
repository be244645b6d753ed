"""``voucherctl auth`` for Spaaza: sessions and tokens into a real (file) keyring backend."""

import json

import keyring
import pytest

from tests import spaaza_stubs as stubs
from tests.conftest import fixture_json

CLAIM = fixture_json("spaaza_claim_voucher.json")
# --insecure-storage: the file_keyring fixture keeps secrets in a plain file.
LOGIN = ("auth", "login", "spaaza", "--host", stubs.SPAAZA, "--chain-id", "3", "--insecure-storage")
SESSION_ENTRY = f"spaaza/{stubs.SPAAZA}/{stubs.SESSION_USER}/session"
TOKEN_ENTRY = f"spaaza/{stubs.SPAAZA}/token"
INFO = {
    "session_key": stubs.SESSION_KEY,
    "session_user_id": int(stubs.SESSION_USER),
    "session_expires_date": "2099-01-01 00:00:00",
}


def stored(key: str) -> str | None:
    return keyring.get_password("voucherctl", key)


@pytest.fixture(autouse=True)
def keyring_backend(file_keyring) -> None:
    pass


def accepted_session(rsps) -> None:
    """Spaaza accepts the session: the check auth login makes before storing it."""
    stubs.get_user_vouchers(rsps, {"user_id": "1001", "chain_id": "3"}, stubs.ok([]))


def store_session(cli, rsps) -> None:
    accepted_session(rsps)
    result = cli(*LOGIN, "--session", "--session-user-id", "1001", input=stubs.SESSION_KEY + "\n")
    assert result.exit_code == 0, result.stderr


def test_password_login_stores_the_session_never_the_password(
    cli, rsps, isolated_environment
) -> None:
    stubs.auth_login(rsps, "jane@example.com", "canary-password-1", INFO)

    result = cli(*LOGIN, "--username", "jane@example.com", input="canary-password-1\n")

    assert result.exit_code == 0, result.stderr
    session = json.loads(stored(SESSION_ENTRY) or "{}")
    assert session == {
        "user_id": stubs.SESSION_USER,
        "session_key": stubs.SESSION_KEY,
        "expires": "2099-01-01 00:00:00",
    }
    config = (isolated_environment / "config" / "config.toml").read_text()
    assert 'user_id = "1001"' in config and 'chain_id = "3"' in config
    assert "canary-password-1" not in config + result.stdout + result.stderr
    assert stubs.SESSION_KEY not in config + result.stdout + result.stderr


def test_two_factor_login_asks_for_the_passcode(cli, rsps) -> None:
    stubs.auth_login(
        rsps,
        "admin@example.com",
        "canary-password-2",
        {"session_passcode_key": "canary-passcode-key"},
    )
    stubs.auth_session(rsps, "123456", "canary-passcode-key", INFO)

    result = cli(*LOGIN, "--username", "admin@example.com", input="canary-password-2\n123456\n")

    assert result.exit_code == 0, result.stderr
    assert "Two-factor login" in result.stderr
    assert json.loads(stored(SESSION_ENTRY) or "{}")["session_key"] == stubs.SESSION_KEY


def test_a_wrong_password_stores_nothing(cli, rsps) -> None:
    rsps.post(
        f"{stubs.SPAAZA}/auth/login",
        status=401,
        json=stubs.error(3, "invalid_login", "Username or password incorrect"),
    )

    result = cli(*LOGIN, "--username", "jane@example.com", input="wrong\n")

    assert result.exit_code == 4
    assert stored(SESSION_ENTRY) is None


def test_commands_use_the_stored_session(cli, rsps) -> None:
    stubs.auth_login(rsps, "jane@example.com", "pw-123456", INFO)
    assert cli(*LOGIN, "--username", "jane@example.com", input="pw-123456\n").exit_code == 0
    stubs.claim_voucher(rsps, {"voucher_id": "35735", "user_id": "5", "chain_id": "3"}, CLAIM)

    assert cli("claim", "--voucher-id", "35735", "--user-id", "5").exit_code == 0


def test_a_stored_session_that_expired_says_how_to_renew(cli, rsps) -> None:
    stubs.auth_login(
        rsps,
        "jane@example.com",
        "pw-123456",
        {**INFO, "session_expires_date": "2001-01-01 00:00:00"},
    )
    assert cli(*LOGIN, "--username", "jane@example.com", input="pw-123456\n").exit_code == 0

    result = cli("claim", "--voucher-id", "35735")

    assert result.exit_code == 4
    assert "expired at 2001-01-01 00:00:00 UTC" in result.stderr
    assert "voucherctl auth login spaaza" in result.stderr


def test_an_existing_session_can_be_stored(cli, rsps) -> None:
    accepted_session(rsps)

    result = cli(*LOGIN, "--session", "--session-user-id", "1001", input=stubs.SESSION_KEY + "\n")

    assert result.exit_code == 0
    assert json.loads(stored(SESSION_ENTRY) or "{}")["user_id"] == "1001"


def test_a_privileged_token_replaces_a_session(cli, rsps) -> None:
    store_session(cli, rsps)

    stubs.get_user_vouchers(
        rsps,
        {"chain_id": "3"},
        stubs.ok([]),
        headers={**stubs.token_headers(), "X-Spaaza-MyPrice-App-Hostname": "shop.example.com"},
        absent=("X-Spaaza-Session-Key",),
    )

    result = cli(
        *LOGIN, "--token", "--app-hostname", "shop.example.com", input=stubs.PRIVILEGED_TOKEN + "\n"
    )

    assert result.exit_code == 0
    assert stored(TOKEN_ENTRY) == stubs.PRIVILEGED_TOKEN
    assert stored(SESSION_ENTRY) is None


def test_status_probes_the_session(cli, rsps) -> None:
    store_session(cli, rsps)
    stubs.get_user_vouchers(rsps, {"user_id": "1001", "chain_id": "3"}, stubs.ok([]))

    result = cli("auth", "status", "-o", "json")

    [spaaza] = json.loads(result.stdout)  # SPiD, not configured, is not shown
    assert spaaza["ok"] is True
    assert spaaza["detail"] == "session of user 1001 accepted"
    assert result.exit_code == 0  # SPiD not configured is not a failure


def test_status_of_a_refused_session_is_exit_4(cli, rsps) -> None:
    store_session(cli, rsps)
    stubs.get_user_vouchers(
        rsps,
        {"user_id": "1001", "chain_id": "3"},
        stubs.error(6, "no_valid_session", "Invalid session"),
        status=401,
    )

    result = cli("auth", "status", "-o", "json")

    assert result.exit_code == 4
    assert json.loads(result.stdout)[0]["ok"] is False


def test_logout_spaaza_leaves_spid_alone(cli, rsps) -> None:
    spid_entry = "spid/https://spid.test/client-123/client_secret"
    keyring.set_password("voucherctl", spid_entry, "canary-spid-secret")
    store_session(cli, rsps)

    result = cli("auth", "logout", "spaaza")

    assert result.exit_code == 0
    assert stored(SESSION_ENTRY) is None
    assert stored(spid_entry) == "canary-spid-secret"


def test_a_refused_token_is_not_stored_and_the_session_stays(
    cli, rsps, isolated_environment
) -> None:
    # auth login spaaza --token stored whatever it was given, replacing the working session.
    store_session(cli, rsps)
    config = (isolated_environment / "config" / "config.toml").read_text()
    stubs.get_user_vouchers(
        rsps,
        {"chain_id": "3"},
        stubs.error(6, "no_valid_session", "Invalid token"),
        status=401,
        headers=stubs.token_headers(),
        absent=("X-Spaaza-Session-Key",),
    )

    result = cli(*LOGIN, "--token", input=stubs.PRIVILEGED_TOKEN + "\n")

    assert result.exit_code == 4
    assert result.stderr == (
        "voucherctl: error: Spaaza refused the privileged token; nothing was stored (list the "
        "vouchers of the session's user: HTTP 401: Invalid token (no_valid_session))\n"
    )
    assert stored(TOKEN_ENTRY) is None
    assert json.loads(stored(SESSION_ENTRY) or "{}")["session_key"] == stubs.SESSION_KEY
    assert (isolated_environment / "config" / "config.toml").read_text() == config
    assert stubs.PRIVILEGED_TOKEN not in result.stdout + result.stderr


def test_a_refused_session_is_not_stored_and_the_old_one_stays(cli, rsps) -> None:
    store_session(cli, rsps)
    stubs.get_user_vouchers(
        rsps,
        {"user_id": "1001", "chain_id": "3"},
        stubs.error(6, "no_valid_session", "Invalid session"),
        status=401,
        headers={**stubs.session_headers(), "X-Spaaza-Session-Key": "canary-stale-key-0003"},
    )

    result = cli(*LOGIN, "--session", "--session-user-id", "1001", input="canary-stale-key-0003\n")

    assert result.exit_code == 4
    assert json.loads(stored(SESSION_ENTRY) or "{}")["session_key"] == stubs.SESSION_KEY


def test_password_login_warns_first_that_it_ends_the_users_other_sessions(cli, rsps) -> None:
    rsps.post(
        f"{stubs.SPAAZA}/auth/login",
        status=401,
        json=stubs.error(3, "invalid_login", "Username or password incorrect"),
    )

    result = cli(*LOGIN, "--username", "jane@example.com", input="wrong\n")

    assert result.exit_code == 4
    assert result.stderr.startswith(
        "voucherctl: warning: logging in ends every other Spaaza session of jane@example.com "
        "(a till signed in as the same user, say); to keep them, store an existing session "
        "with --session instead\n"
    )


def test_a_refused_password_is_exit_4_whatever_spaaza_names_it(cli, rsps) -> None:
    """Catches a password login refused as 'bad_password' (HTTP 400) exiting 5, as if a voucher
    had been refused, instead of 4 (credentials refused)."""
    rsps.post(
        f"{stubs.SPAAZA}/auth/login",
        json=stubs.error(41, "bad_password", "Wrong password"),
        status=400,
    )

    result = cli(*LOGIN, "--username", "jane@example.com", input="wrong\n")

    assert result.exit_code == 4
    assert stored(SESSION_ENTRY) is None
