"""When the OS keyring is missing, locked, refusing or hung: clear messages, no hangs."""

import threading
from pathlib import Path

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.errors import KeyringLocked, PasswordSetError

from tests import spid_stubs

HINT = "VOUCHERCTL_SPID_CLIENT_ID and VOUCHERCTL_SPID_CLIENT_SECRET"


class HungKeyring(KeyringBackend):
    """A keyring that never answers, like a desktop keyring waiting on an unlock dialog."""

    priority = 1  # type: ignore[assignment]
    released = threading.Event()

    def get_password(self, service: str, username: str) -> str | None:
        self.released.wait(30)
        return None

    def set_password(self, service: str, username: str, password: str) -> None:
        self.released.wait(30)

    def delete_password(self, service: str, username: str) -> None:
        self.released.wait(30)


class LockedKeyring(KeyringBackend):
    priority = 1  # type: ignore[assignment]

    def get_password(self, service: str, username: str) -> str | None:
        raise KeyringLocked("the collection is locked")

    def set_password(self, service: str, username: str, password: str) -> None:
        raise PasswordSetError("access denied by the keyring daemon")

    def delete_password(self, service: str, username: str) -> None:
        raise KeyringLocked("the collection is locked")


@pytest.fixture
def keyring_profile(isolated_environment: Path) -> None:
    config = isolated_environment / "config" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text(f'[profiles.default.spid]\nbase_url = "{spid_stubs.SPID}"\nclient_id = "c"\n')


@pytest.fixture
def backend(request: pytest.FixtureRequest):
    previous = keyring.get_keyring()
    keyring.set_keyring(request.param())
    yield
    HungKeyring.released.set()
    keyring.set_keyring(previous)
    HungKeyring.released.clear()


@pytest.mark.parametrize("backend", [HungKeyring], indirect=True)
def test_a_hung_keyring_times_out_with_a_message(cli, keyring_profile, backend, monkeypatch):
    monkeypatch.setattr("voucherctl.secrets.keychain.TIMEOUT_SECONDS", 0.5)

    result = cli("show", "X")

    assert result.exit_code == 4
    assert "the OS keyring did not answer within 0.5 s (is it locked?)" in result.stderr
    assert HINT in result.stderr


@pytest.mark.parametrize("backend", [LockedKeyring], indirect=True)
def test_a_locked_keyring_says_so_and_names_the_variables(cli, keyring_profile, backend):
    result = cli("show", "X")

    assert result.exit_code == 4
    assert "cannot read the OS keyring (the collection is locked)" in result.stderr
    assert HINT in result.stderr


@pytest.mark.parametrize("backend", [LockedKeyring], indirect=True)
def test_a_refused_write_at_login_stores_nothing(cli, rsps, backend, isolated_environment):
    spid_stubs.oauth_token(rsps)

    result = cli(
        "auth",
        "login",
        "spid",
        "--host",
        spid_stubs.SPID,
        "--client-id",
        spid_stubs.CLIENT_ID,
        input=spid_stubs.CLIENT_SECRET + "\n",
    )

    assert result.exit_code == 4
    assert "cannot write to the OS keyring (access denied by the keyring daemon)" in result.stderr
    assert not (isolated_environment / "config" / "config.toml").exists()


def test_environment_credentials_work_whatever_the_keyring(cli, rsps, monkeypatch) -> None:
    previous = keyring.get_keyring()
    keyring.set_keyring(LockedKeyring())
    try:
        spid_stubs.use_client_credentials(monkeypatch)
        spid_stubs.oauth_token(rsps)
        spid_stubs.get_voucher(rsps, "X", {"voucherCode": "X"})
        result = cli("show", "X")
    finally:
        keyring.set_keyring(previous)

    assert result.exit_code == 0
