"""``voucherctl auth``: credentials into and out of a real (file) keyring backend."""

import json
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import keyring

from tests import spid_stubs as stubs
from tests.conftest import fixture_json, table_lines

SAMPLE = fixture_json("spid_get_voucher.json")
LOGIN = ("auth", "login", "spid", "--host", stubs.SPID, "--client-id", stubs.CLIENT_ID)
INSECURE = "--insecure-storage"  # the file_keyring fixture keeps secrets in a plain file
SECRET_ENTRY = f"spid/{stubs.SPID}/{stubs.CLIENT_ID}/client_secret"
TOKEN_ENTRY = f"spid/{stubs.SPID}/{stubs.CLIENT_ID}/token"


def config_text(home: Path) -> str:
    return (home / "config" / "config.toml").read_text()


def stored(key: str) -> str | None:
    return keyring.get_password("voucherctl", key)


def login(cli, rsps) -> None:
    stubs.oauth_token(rsps)
    result = cli(*LOGIN, INSECURE, input=stubs.CLIENT_SECRET + "\n")
    assert result.exit_code == 0, result.stderr


def test_login_stores_the_id_in_the_profile_and_the_secret_in_the_keyring(
    cli, rsps, file_keyring, isolated_environment
) -> None:
    stubs.oauth_token(rsps)

    result = cli(*LOGIN, INSECURE, input=stubs.CLIENT_SECRET + "\n")

    assert result.exit_code == 0
    assert "Logged in to SPiD at https://spid.test as client client-123" in result.stderr
    text = config_text(isolated_environment)
    assert 'client_id = "client-123"' in text
    assert 'base_url = "https://spid.test"' in text
    assert stubs.CLIENT_SECRET not in text and stubs.TOKEN not in text
    assert stored(SECRET_ENTRY) == stubs.CLIENT_SECRET
    assert json.loads(stored(TOKEN_ENTRY) or "{}")["access_token"] == stubs.TOKEN
    assert stubs.CLIENT_SECRET not in result.stdout + result.stderr


def test_a_refused_login_writes_nothing(cli, rsps, file_keyring, isolated_environment) -> None:
    stubs.oauth_token(
        rsps,
        status=401,
        body={
            "error": "invalid_client",
            "error_code": 401,
            "type": "OAuthException",
            "error_description": "Client authentication failed",
        },
    )

    result = cli(*LOGIN, INSECURE, input=stubs.CLIENT_SECRET + "\n")

    assert result.exit_code == 4
    assert result.stderr == (
        "voucherctl: error: SPiD refused the client credentials of client-123 "
        "(HTTP 401: invalid_client: Client authentication failed)\n"
    )
    assert not (isolated_environment / "config" / "config.toml").exists()
    assert stored(SECRET_ENTRY) is None


def test_an_empty_secret_is_a_usage_error_and_nothing_is_sent(cli, rsps, file_keyring) -> None:
    result = cli(*LOGIN, INSECURE, input="\n")

    assert result.exit_code == 2
    assert result.stderr == "voucherctl: error: no client secret given; pipe it on stdin\n"


def test_host_names_stand_for_the_real_hosts(cli, rsps, file_keyring, isolated_environment):
    rsps.post("https://identity-pre.schibsted.com/oauth/token", json={"access_token": "t-pre1"})

    result = cli(
        "auth",
        "login",
        "spid",
        "--host",
        "pre-production",
        "--client-id",
        "c",
        INSECURE,
        input="canary-secret-pre\n",
    )

    assert result.exit_code == 0
    assert 'base_url = "https://identity-pre.schibsted.com"' in config_text(isolated_environment)


def test_commands_use_the_keyring_and_its_cached_token(cli, rsps, file_keyring) -> None:
    login(cli, rsps)
    stubs.get_voucher(rsps, "X", SAMPLE)  # no token request: the cached one is used

    assert cli("show", "X").exit_code == 0


def test_an_expired_cached_token_is_renewed(cli, rsps, file_keyring) -> None:
    login(cli, rsps)
    record = {
        "owner": f"{stubs.CLIENT_ID}@{stubs.SPID}",
        "access_token": "canary-old-0001",
        "expires_at": time.time() - 10,
    }
    keyring.set_password("voucherctl", TOKEN_ENTRY, json.dumps(record))
    stubs.oauth_token(rsps, token="canary-new-token-0002")
    stubs.get_voucher(rsps, "X", SAMPLE, token="canary-new-token-0002")

    assert cli("show", "X").exit_code == 0
    assert "canary-new-token-0002" in (stored(TOKEN_ENTRY) or "")


def test_a_cached_token_the_api_rejects_is_renewed_once(cli, rsps, file_keyring) -> None:
    login(cli, rsps)
    stubs.get_voucher(rsps, "X", None, status=403, error="Access token rejected")
    stubs.oauth_token(rsps, token="canary-new-token-0003")
    stubs.get_voucher(rsps, "X", SAMPLE, token="canary-new-token-0003")

    result = cli("show", "X")

    assert result.exit_code == 0, result.stderr


def test_status_reports_source_host_and_that_it_works(cli, rsps, file_keyring) -> None:
    login(cli, rsps)
    stubs.voucher_groups(rsps, [SAMPLE["group"]])

    result = cli("auth", "status", "-o", "json")

    assert result.exit_code == 0
    [spid] = json.loads(result.stdout)  # Spaaza is not configured: not shown
    assert spid == {
        "api": "spid",
        "host": "https://spid.test",
        "source": "keyring (profile 'default')",
        "configured": True,
        "backend": "keyrings.alt.file.PlaintextKeyring",
        "backend_warning": "insecure: it keeps secrets unencrypted in a file",
        "verifies_signatures": False,
        "signatures": "not verified: no sign secret; set VOUCHERCTL_SPID_SIGN_SECRET or run "
        "'voucherctl auth login spid --sign-secret'",
        "ok": True,
        "detail": "token accepted; 1 voucher groups",
        "exit_code": 0,
    }


def test_status_shows_the_host_even_without_credentials(cli, rsps, monkeypatch) -> None:
    """Catches "host": null when only the credentials are missing."""
    monkeypatch.setenv("VOUCHERCTL_SPID_URL", stubs.SPID)

    result = cli("auth", "status", "-o", "json")

    [spid] = json.loads(result.stdout)
    assert result.exit_code == 4
    assert spid["host"] == stubs.SPID
    assert spid["configured"] is False and spid["exit_code"] == 4


def test_status_when_the_server_fails_is_exit_1_not_bad_credentials(cli, rsps, monkeypatch):
    """Catches a 500 answering the check reported as refused credentials (exit 4)."""
    stubs.use_client_credentials(monkeypatch)
    stubs.oauth_token(rsps)
    for _ in range(3):  # a read is tried three times on a 5xx
        rsps.get(f"{stubs.SPID}/api/2/vouchers/groups", body="<html>500</html>", status=500)

    result = cli("auth", "status", "-o", "json")

    [spid] = json.loads(result.stdout)
    assert result.exit_code == 1
    assert spid["ok"] is False and spid["exit_code"] == 1


def test_status_with_nothing_configured_is_exit_4(cli, rsps) -> None:
    result = cli("auth", "status", "-o", "json")

    assert result.exit_code == 4
    spid, spaaza = json.loads(result.stdout)
    assert spid["configured"] is False
    assert "no SPiD host is configured" in spid["detail"]
    assert "no Spaaza host is configured" in spaaza["detail"]


def test_status_with_rejected_credentials_is_exit_4(cli, rsps, monkeypatch) -> None:
    stubs.use_client_credentials(monkeypatch)
    stubs.oauth_token(rsps, status=401, body={"error": "invalid_client", "error_code": 401})

    result = cli("auth", "status", tty=True)

    assert result.exit_code == 4
    assert table_lines(result.stdout)[:8] == [
        "SPiD, profile 'default'",
        "Host https://spid.test",
        "Credentials VOUCHERCTL_SPID_CLIENT_ID/VOUCHERCTL_SPID_CLIENT_SECRET",
        "Keyring not used",
        "Signatures not verified: no sign secret; set VOUCHERCTL_SPID_SIGN_SECRET or run "
        "'voucherctl auth",
        "login spid --sign-secret'",
        "Works no",
        "Detail SPiD refused the client credentials of client-123 (HTTP 401: invalid_client)",
    ]


def test_logout_removes_the_secret_and_the_token(cli, rsps, file_keyring) -> None:
    login(cli, rsps)

    result = cli("auth", "logout")

    assert result.exit_code == 0
    assert result.stderr == "Removed the SPiD credentials of profile 'default'.\n"
    assert stored(SECRET_ENTRY) is None
    assert stored(TOKEN_ENTRY) is None
    assert cli("show", "X").exit_code == 4


def test_profiles_are_kept_apart(cli, rsps, file_keyring, isolated_environment) -> None:
    stubs.oauth_token(rsps)
    assert (
        cli(*LOGIN, INSECURE, "--profile", "staging", input=stubs.CLIENT_SECRET + "\n").exit_code
        == 0
    )

    assert "[profiles.staging.spid]" in config_text(isolated_environment)
    assert stored(SECRET_ENTRY) == stubs.CLIENT_SECRET
    assert cli("show", "X").exit_code == 2  # the default profile names no host


def test_an_undefined_profile_is_a_usage_error(cli, rsps) -> None:
    result = cli("show", "X", "--profile", "nope")

    assert result.exit_code == 2
    assert "profile 'nope' is not defined" in result.stderr


def test_no_keyring_backend_names_the_environment_variables(
    cli, rsps, file_keyring, no_keyring
) -> None:
    config = Path(__import__("os").environ["VOUCHERCTL_CONFIG_DIR"]) / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text('[profiles.default.spid]\nbase_url = "https://spid.test"\nclient_id = "c"\n')

    result = cli("show", "X")

    assert result.exit_code == 4
    assert "no OS keyring is available" in result.stderr
    assert "VOUCHERCTL_SPID_CLIENT_ID and VOUCHERCTL_SPID_CLIENT_SECRET" in result.stderr


def test_login_without_a_keyring_sends_nothing_and_writes_no_profile(
    cli, rsps, file_keyring, no_keyring, isolated_environment
) -> None:
    result = cli(*LOGIN, INSECURE, input=stubs.CLIENT_SECRET + "\n")  # rsps: no request

    assert result.exit_code == 4
    assert "no OS keyring is available" in result.stderr
    assert not (isolated_environment / "config" / "config.toml").exists()


def test_credentials_from_the_environment_never_import_keyring(tmp_path) -> None:
    probe = (
        "import sys, atexit\n"
        "atexit.register(lambda: print('keyring' in sys.modules, file=sys.stderr))\n"
        "sys.argv = ['voucherctl', 'show', 'X', '--timeout', '2']\n"
        "from voucherctl.__main__ import main\n"
        "main()\n"
    )
    env = {
        "PATH": "/usr/bin:/bin",
        "VOUCHERCTL_CONFIG_DIR": str(tmp_path),
        "VOUCHERCTL_SPID_URL": "http://127.0.0.1:9",  # nothing listens: refused at once
        "VOUCHERCTL_SPID_CLIENT_ID": "c",
        "VOUCHERCTL_SPID_CLIENT_SECRET": "canary-secret-env",
    }
    done = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True)

    assert done.returncode == 7
    assert "cannot reach 127.0.0.1:9: connection refused" in done.stderr
    assert done.stderr.endswith("False\n")


def test_config_toml_is_the_owners_alone_whatever_the_umask(
    cli, rsps, file_keyring, isolated_environment
) -> None:
    # config.py wrote config.toml with write_text: 0644 under umask 022, in a 0755 folder.
    previous = os.umask(0o022)
    try:
        login(cli, rsps)
    finally:
        os.umask(previous)

    folder = isolated_environment / "config"
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE((folder / "config.toml").stat().st_mode) == 0o600
    assert sorted(p.name for p in folder.iterdir()) == [".config.toml.lock", "config.toml"]


def test_a_loose_config_toml_is_tightened_when_next_written(
    cli, rsps, file_keyring, isolated_environment
) -> None:
    """The file voucherctl writes is its own (0600); the folder the user made keeps its mode."""
    folder = isolated_environment / "config"
    folder.mkdir(mode=0o755, parents=True)
    folder.chmod(0o755)
    (folder / "config.toml").write_text("[profiles.other]\nprotected = true\n")
    (folder / "config.toml").chmod(0o644)

    login(cli, rsps)

    assert stat.S_IMODE(folder.stat().st_mode) == 0o755
    assert stat.S_IMODE((folder / "config.toml").stat().st_mode) == 0o600
    assert "[profiles.other]" in config_text(isolated_environment)
