"""Keyring backends that cannot keep a secret: refused by ``auth login`` unless the user says
``--insecure-storage``, and named as insecure by ``auth status`` and ``doctor``."""

import base64
import json
from pathlib import Path
from typing import Any

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.backends.null import Keyring as NullKeyring

from tests import spaaza_stubs, spid_stubs
from voucherctl.secrets.keychain import judge

SPID_LOGIN = ("auth", "login", "spid", "--host", spid_stubs.SPID, "--client-id", "client-123")
SPAAZA_SESSION = (
    "auth",
    "login",
    "spaaza",
    "--host",
    spaaza_stubs.SPAAZA,
    "--session",
    "--session-user-id",
    "1001",
)


class MemoryKeyring(KeyringBackend):
    """A keyring that keeps secrets only in this process: as safe as any real one, for tests."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        self.secrets: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.secrets.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.secrets[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.secrets.pop((service, username))


@pytest.fixture
def memory_keyring() -> Any:
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


def keyring_file(home: Path) -> Path:
    return home / "xdg-data" / "python_keyring" / "keyring_pass.cfg"


def test_a_plain_file_keyring_is_refused_and_nothing_is_sent_or_stored(
    cli, rsps, file_keyring, isolated_environment
) -> None:
    # Without the check, login sent the secret to /oauth/token (no stub here: the strict mock
    # fails) and wrote it into keyrings.alt's plain file.
    result = cli(*SPID_LOGIN, input=spid_stubs.CLIENT_SECRET + "\n")

    assert result.exit_code == 2
    assert result.stderr == (
        "voucherctl: error: nothing stored: the keyring backend "
        "keyrings.alt.file.PlaintextKeyring keeps secrets unencrypted in a file. Install a real "
        "keyring (Secret Service (GNOME Keyring), KWallet, macOS Keychain or Windows Credential "
        "Locker), or use VOUCHERCTL_SPID_TOKEN, or VOUCHERCTL_SPID_CLIENT_ID and "
        "VOUCHERCTL_SPID_CLIENT_SECRET instead, or give --insecure-storage to store the secrets "
        "there anyway\n"
    )
    assert result.stdout == ""
    assert not (isolated_environment / "config" / "config.toml").exists()
    assert not keyring_file(isolated_environment).exists()


def test_a_plain_file_keyring_is_refused_for_spaaza_too(
    cli, rsps, file_keyring, isolated_environment
) -> None:
    result = cli(*SPAAZA_SESSION, input=spaaza_stubs.SESSION_KEY + "\n")

    assert result.exit_code == 2
    assert "VOUCHERCTL_SPAAZA_USER_ID and VOUCHERCTL_SPAAZA_SESSION_KEY" in result.stderr
    assert "--insecure-storage" in result.stderr
    assert not (isolated_environment / "config" / "config.toml").exists()
    assert not keyring_file(isolated_environment).exists()


def test_insecure_storage_stores_there_and_says_so(
    cli, rsps, file_keyring, isolated_environment
) -> None:
    spid_stubs.oauth_token(rsps)

    result = cli(*SPID_LOGIN, "--insecure-storage", input=spid_stubs.CLIENT_SECRET + "\n")

    assert result.exit_code == 0, result.stderr
    assert result.stderr.startswith(
        "voucherctl: warning: storing in keyrings.alt.file.PlaintextKeyring, which keeps "
        "secrets unencrypted in a file (--insecure-storage)\n"
    )
    encoded = base64.b64encode(spid_stubs.CLIENT_SECRET.encode()).decode()  # base64, no more
    assert encoded in keyring_file(isolated_environment).read_text()
    # Catches the closing line's "stored in the OS keyring" after a plain file took the secret.
    assert "secret stored in the keyring (PlaintextKeyring, insecure: it keeps secrets " in (
        result.stderr
    )
    assert "OS keyring" not in result.stderr


def test_login_names_the_real_keyring_it_stored_into(cli, rsps, memory_keyring) -> None:
    """Catches "the OS keyring" said whatever the backend: the line names it."""
    spaaza_stubs.get_user_vouchers(rsps, {"user_id": "1001", "chain_id": "3"}, spaaza_stubs.ok([]))

    result = cli(*SPAAZA_SESSION, "--chain-id", "3", input=spaaza_stubs.SESSION_KEY + "\n")

    assert result.exit_code == 0, result.stderr
    assert "in the keyring (MemoryKeyring); profile 'default'" in result.stderr


def test_a_real_keyring_needs_no_consent(cli, rsps, memory_keyring) -> None:
    spid_stubs.oauth_token(rsps)

    result = cli(*SPID_LOGIN, input=spid_stubs.CLIENT_SECRET + "\n")

    assert result.exit_code == 0, result.stderr
    assert "warning" not in result.stderr
    assert spid_stubs.CLIENT_SECRET in memory_keyring.secrets.values()


def test_a_keyring_that_keeps_nothing_is_refused_even_with_consent(cli, rsps) -> None:
    previous = keyring.get_keyring()
    keyring.set_keyring(NullKeyring())
    try:
        result = cli(*SPID_LOGIN, "--insecure-storage", input=spid_stubs.CLIENT_SECRET + "\n")
    finally:
        keyring.set_keyring(previous)

    assert result.exit_code == 2
    assert "keyring.backends.null.Keyring stores nothing" in result.stderr


def test_status_and_doctor_name_the_backend_and_say_it_is_insecure(cli, rsps, file_keyring) -> None:
    spid_stubs.oauth_token(rsps)
    login = cli(*SPID_LOGIN, "--insecure-storage", input=spid_stubs.CLIENT_SECRET + "\n")
    assert login.exit_code == 0, login.stderr
    spid_stubs.voucher_groups(rsps, [])
    spid_stubs.voucher_groups(rsps, [])

    status = cli("auth", "status", tty=True)
    doctor = cli("doctor", "-o", "json")

    assert status.exit_code == 0, status.stdout
    assert (
        "Keyring keyrings.alt.file.PlaintextKeyring (insecure: it keeps secrets unencrypted in "
        "a file)" in " ".join(status.stdout.split())
    )
    checks = {check["name"]: check for check in json.loads(doctor.stdout)["checks"]}
    assert checks["keyring"] == {
        "name": "keyring",
        "ok": True,
        "detail": "keyrings.alt.file.PlaintextKeyring (insecure: it keeps secrets unencrypted "
        "in a file); install a real keyring, or use the VOUCHERCTL_* variables instead",
        "exit_code": 0,
    }


def test_keyrings_alt_encrypted_file_is_judged_weak() -> None:
    from keyrings.alt.file import EncryptedKeyring

    verdict = judge(object.__new__(EncryptedKeyring))  # its __init__ wants pycryptodome

    assert verdict.name == "keyrings.alt.file.EncryptedKeyring"
    assert verdict.insecure and "1000 PBKDF2 rounds" in verdict.insecure


class ChainerBackend:
    """Stands in for keyring's chainer, which writes to the first of its backends."""

    def __init__(self, *backends: Any) -> None:
        self.backends = list(backends)


def test_a_chain_is_judged_by_the_backend_it_writes_to() -> None:
    from keyrings.alt.file import PlaintextKeyring

    plain_first = judge(ChainerBackend(PlaintextKeyring(), MemoryKeyring()))
    real_first = judge(ChainerBackend(MemoryKeyring(), PlaintextKeyring()))

    assert plain_first.insecure == (
        "stores in keyrings.alt.file.PlaintextKeyring, which keeps secrets unencrypted in a file"
    )
    assert real_first.insecure is None
    assert judge(ChainerBackend()).keeps_nothing
