"""The SPiD sign secret: from ``VOUCHERCTL_SPID_SIGN_SECRET`` or the client's keyring entry
(stored by ``auth login spid --sign-secret``), handed to the SPiD client to verify signed
answers, and never printed or written to a file."""

import json
from pathlib import Path
from typing import Any

import keyring
import pytest
from keyring.backend import KeyringBackend

from tests import spid_stubs as stubs
from tests.test_signed import signed
from voucherctl.core import redact
from voucherctl.secrets.resolve import resolve_spid
from voucherctl.storage import config

SIGN_SECRET = "canary-sign-secret-0001"
SIGN_ENTRY = f"spid/{stubs.SPID}/{stubs.CLIENT_ID}/sign_secret"
LOGIN = (
    "auth",
    "login",
    "spid",
    "--host",
    stubs.SPID,
    "--client-id",
    stubs.CLIENT_ID,
    "--insecure-storage",  # the file_keyring fixture keeps secrets in a plain file
)
VERIFIED = "verified (sign secret from keyring (profile 'default'))"


def stored(name: str) -> str | None:
    return keyring.get_password("voucherctl", name)


def sign_in(cli, rsps) -> Any:
    stubs.oauth_token(rsps)
    result = cli(*LOGIN, "--sign-secret", input=f"{stubs.CLIENT_SECRET}\n{SIGN_SECRET}\n")
    assert result.exit_code == 0, result.stderr
    return result


def profile(home: Path) -> config.Profile:
    return config.load_profile(
        {"VOUCHERCTL_CONFIG_DIR": str(home / "config")}, None, must_exist=False
    )


class UntouchableKeyring(KeyringBackend):
    """Fails the test on any use: credentials from the environment must not reach it."""

    priority = 1  # type: ignore[assignment]

    def get_password(self, service: str, username: str) -> str | None:
        raise AssertionError(f"keyring read: {username}")

    def set_password(self, service: str, username: str, password: str) -> None:
        raise AssertionError(f"keyring write: {username}")

    def delete_password(self, service: str, username: str) -> None:
        raise AssertionError(f"keyring delete: {username}")


@pytest.fixture
def untouchable_keyring() -> Any:
    previous = keyring.get_keyring()
    keyring.set_keyring(UntouchableKeyring())
    yield
    keyring.set_keyring(previous)


def test_login_stores_the_sign_secret_read_after_the_client_secret(
    cli, rsps, file_keyring, isolated_environment
) -> None:
    result = sign_in(cli, rsps)

    assert stored(SIGN_ENTRY) == SIGN_SECRET
    assert stored(f"spid/{stubs.SPID}/{stubs.CLIENT_ID}/client_secret") == stubs.CLIENT_SECRET
    assert (
        "secret and sign secret stored in the keyring (PlaintextKeyring, insecure" in result.stderr
    )
    config_text = (isolated_environment / "config" / "config.toml").read_text()
    assert SIGN_SECRET not in result.stdout + result.stderr + config_text


def test_the_stored_sign_secret_is_resolved_and_registered_for_scrubbing(
    cli, rsps, file_keyring, isolated_environment
) -> None:
    sign_in(cli, rsps)
    redact._registered.clear()

    credentials = resolve_spid({}, profile(isolated_environment), stubs.SPID)

    assert credentials.sign_secret == SIGN_SECRET
    assert redact.scrub(f"sig with {SIGN_SECRET}") == "sig with ***"


def test_status_and_doctor_say_answers_are_verified_never_showing_the_secret(
    cli, rsps, file_keyring
) -> None:
    sign_in(cli, rsps)
    # Signed with the stored secret: an unsigned answer is not trusted once a secret is known.
    stubs.voucher_groups(rsps, [], body=signed([], SIGN_SECRET, type="collection"))
    stubs.voucher_groups(rsps, [], body=signed([], SIGN_SECRET, type="collection"))

    status = cli("auth", "status", "-o", "json", "-v")
    doctor = cli("doctor", "-o", "json", "-v")

    spid = json.loads(status.stdout)[0]
    assert (spid["verifies_signatures"], spid["signatures"]) == (True, VERIFIED)
    checks = {check["name"]: check for check in json.loads(doctor.stdout)["checks"]}
    assert checks["spid sign secret"] == {
        "name": "spid sign secret",
        "ok": True,
        "detail": VERIFIED,
        "exit_code": 0,
    }
    for result in (status, doctor):
        assert SIGN_SECRET not in result.stdout + result.stderr


def test_the_variable_wins_over_the_stored_sign_secret(
    cli, rsps, file_keyring, isolated_environment
) -> None:
    sign_in(cli, rsps)

    credentials = resolve_spid(
        {"VOUCHERCTL_SPID_SIGN_SECRET": "canary-sign-env-0002"},
        profile(isolated_environment),
        stubs.SPID,
    )

    assert credentials.sign_secret == "canary-sign-env-0002"
    assert credentials.sign_secret_source == "VOUCHERCTL_SPID_SIGN_SECRET"
    assert redact.scrub("canary-sign-env-0002") == "***"


@pytest.mark.parametrize(
    "variables",
    [
        {"VOUCHERCTL_SPID_TOKEN": stubs.TOKEN},
        {"VOUCHERCTL_SPID_CLIENT_ID": "c", "VOUCHERCTL_SPID_CLIENT_SECRET": stubs.CLIENT_SECRET},
    ],
)
def test_with_environment_credentials_the_sign_secret_comes_from_the_variable_alone(
    untouchable_keyring, isolated_environment, variables
) -> None:
    home = isolated_environment / "config"
    home.mkdir(parents=True)
    (home / "config.toml").write_text(
        f'[profiles.default.spid]\nbase_url = "{stubs.SPID}"\nclient_id = "{stubs.CLIENT_ID}"\n'
    )
    with_variable = {**variables, "VOUCHERCTL_SPID_SIGN_SECRET": SIGN_SECRET}

    signed = resolve_spid(with_variable, profile(isolated_environment), stubs.SPID)
    unsigned = resolve_spid(variables, profile(isolated_environment), stubs.SPID)

    assert signed.sign_secret == SIGN_SECRET
    assert unsigned.sign_secret is None


def test_a_refused_login_stores_no_sign_secret(cli, rsps, file_keyring) -> None:
    stubs.oauth_token(rsps, status=401, body={"error": "invalid_client", "error_code": 401})

    result = cli(*LOGIN, "--sign-secret", input=f"{stubs.CLIENT_SECRET}\n{SIGN_SECRET}\n")

    assert result.exit_code == 4
    assert stored(SIGN_ENTRY) is None


def test_the_sign_secret_is_never_taken_from_the_command_line(cli, rsps, file_keyring) -> None:
    result = cli(*LOGIN, "--sign-secret", SIGN_SECRET, input=f"{stubs.CLIENT_SECRET}\n")

    assert result.exit_code == 2
    assert stored(SIGN_ENTRY) is None


def test_logging_in_again_without_it_keeps_the_clients_sign_secret(cli, rsps, file_keyring) -> None:
    sign_in(cli, rsps)
    stubs.oauth_token(rsps)

    assert cli(*LOGIN, input=stubs.CLIENT_SECRET + "\n").exit_code == 0
    assert stored(SIGN_ENTRY) == SIGN_SECRET


def test_logout_removes_the_sign_secret(cli, rsps, file_keyring) -> None:
    sign_in(cli, rsps)

    assert cli("auth", "logout", "spid").exit_code == 0
    assert stored(SIGN_ENTRY) is None


def test_sign_secret_is_for_spid_only(cli, rsps, file_keyring) -> None:
    result = cli("auth", "login", "spaaza", "--host", "staging", "--token", "--sign-secret")

    assert result.exit_code == 2
    assert "--sign-secret is for SPiD" in result.stderr
