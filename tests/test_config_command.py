"""``voucherctl config list|get|set|unset``: settings without editing TOML or logging in again."""

import json
import stat
import tomllib
from pathlib import Path

import pytest

from tests import spaaza_stubs as stubs

EXISTING = """\
[profiles.prod]
protected = true

[profiles.prod.spid]
base_url = "https://login.schibsted.com"
client_id = "prod-client"
"""


@pytest.fixture
def config_file(isolated_environment: Path) -> Path:
    path = isolated_environment / "config" / "config.toml"
    path.parent.mkdir(parents=True)
    path.write_text(EXISTING)
    return path


def test_set_then_get_keeps_other_profiles_and_the_file_private(cli, config_file) -> None:
    """Catches a set that rewrites the file without the other profiles, leaves it readable by
    others, or does not write at all."""
    config_file.chmod(0o644)

    result = cli("config", "set", "spaaza.chain_id", "1000")

    assert result.exit_code == 0, result.stderr
    data = tomllib.loads(config_file.read_text())
    assert data["profiles"]["default"]["spaaza"] == {"chain_id": "1000"}
    assert data["profiles"]["prod"] == tomllib.loads(EXISTING)["profiles"]["prod"]
    assert stat.S_IMODE(config_file.stat().st_mode) == 0o600
    assert cli("config", "get", "spaaza.chain_id").stdout == "1000\n"  # plain, for $(...)


def test_a_set_chain_id_is_used_by_the_next_command(cli, rsps, config_file, monkeypatch) -> None:
    """The support desk's first task: vouchers failed for want of a chain id; one config set
    fixes it with no new login."""
    stubs.use_admin_session(monkeypatch, chain_id=None)
    assert cli("vouchers", "--user-id", "1").exit_code == 2  # no chain id yet

    assert cli("config", "set", "spaaza.chain_id", "3").exit_code == 0
    stubs.get_user_vouchers(rsps, {"user_id": "1", "chain_id": "3"}, stubs.ok([]))

    assert cli("vouchers", "--user-id", "1").exit_code == 0


@pytest.mark.parametrize(
    ("key", "value", "says"),
    [
        ("spid.base_url", "http://login.example.com", "only loopback hosts may"),
        ("spid.base_url", "not a url", "is not an http(s) URL"),
        ("spaaza.chain_id", "abc", "spaaza.chain_id must be a positive whole number"),
        ("spaaza.user_id", "4.5", "spaaza.user_id must be a positive whole number"),
        ("protected", "maybe", "is not true or false"),
        ("spid.client_id", "a:b", "is not a SPiD client id"),
        ("spaaza.api_version", "latest", "is not an API version"),
        ("spid.client_secret", "s3cret-canary-77", "is a secret"),
        ("spaaza.session_key", "s3cret-canary-77", "is a secret"),
        ("spaaza.colour", "blue", "no setting 'spaaza.colour'"),
    ],
)
def test_a_bad_value_or_a_secret_is_refused_and_the_file_unchanged(
    cli, config_file, key, value, says
) -> None:
    """Catches a value written unchecked (every later command would then fail) and a secret
    written into config.toml."""
    before = config_file.read_bytes()

    result = cli("config", "set", key, value)

    assert result.exit_code == 2
    assert says in result.stderr
    assert config_file.read_bytes() == before
    assert "s3cret-canary-77" not in result.stderr


def test_a_base_url_is_stored_as_the_loader_spells_it(cli, config_file) -> None:
    assert cli("config", "set", "spaaza.base_url", "HTTPS://API0.Spaaza.com:443/").exit_code == 0

    assert cli("config", "get", "spaaza.base_url").stdout == "https://api0.spaaza.com\n"


def test_a_new_profile_is_created_by_set(cli, config_file) -> None:
    result = cli("config", "set", "protected", "yes", "--profile", "staging")

    assert result.exit_code == 0, result.stderr
    assert tomllib.loads(config_file.read_text())["profiles"]["staging"] == {"protected": True}


def test_list_shows_every_key_and_unset_removes_one(cli, config_file) -> None:
    assert cli("config", "unset", "spid.client_id", "--profile", "prod").exit_code == 0

    result = cli("config", "list", "--profile", "prod", "-o", "json")

    listed = json.loads(result.stdout)
    assert listed["protected"] is True
    assert listed["spid.base_url"] == "https://login.schibsted.com"
    assert listed["spid.client_id"] is None
    assert set(listed) >= {"spaaza.chain_id", "spaaza.app_hostname", "spaaza.api_version"}
    assert "client_id" not in tomllib.loads(config_file.read_text())["profiles"]["prod"]["spid"]


def test_get_of_a_setting_not_set_is_exit_3(cli, config_file) -> None:
    result = cli("config", "get", "spaaza.chain_id", "--profile", "prod")

    assert result.exit_code == 3
    assert result.stdout == ""
    assert "'voucherctl config set spaaza.chain_id VALUE'" in result.stderr


def test_the_sandbox_has_no_settings(cli, config_file) -> None:
    assert cli("config", "list", "--sandbox").exit_code == 2


def test_twenty_concurrent_sets_each_keep_their_setting(isolated_environment, config_file) -> None:
    """Catches a read-modify-write of config.toml that is not serialised across processes (a
    later writer drops an earlier one's profile) or a temporary file shared by writers (exit 2
    'No such file or directory', a 0-byte .config.toml.tmp left behind). Real processes."""
    import os
    import subprocess
    import sys

    command = [sys.executable, "-m", "voucherctl", "config", "set", "spaaza.chain_id"]
    runs = [
        subprocess.Popen(
            [*command, str(n + 1), "--profile", f"r{n}"],
            env=dict(os.environ),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(20)
    ]
    outcomes = [(run.wait(), run.communicate()[1]) for run in runs]

    assert [code for code, _ in outcomes] == [0] * 20, outcomes
    profiles = tomllib.loads(config_file.read_text())["profiles"]
    assert {n: profiles[f"r{n}"]["spaaza"]["chain_id"] for n in range(20)} == {
        n: str(n + 1) for n in range(20)
    }
    assert profiles["prod"] == tomllib.loads(EXISTING)["profiles"]["prod"]
    assert sorted(p.name for p in config_file.parent.iterdir()) == [
        ".config.toml.lock",
        "config.toml",
    ]


def test_a_failed_write_leaves_no_temporary_file(tmp_path, monkeypatch) -> None:
    """Catches a temporary file left behind when the write fails half way."""
    from voucherctl.storage import private_files

    def full(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(private_files.os, "fsync", full)
    with pytest.raises(OSError):
        private_files.write_private_text(tmp_path / "config.toml", "x = 1\n")

    assert list(tmp_path.iterdir()) == []


def test_unset_keeps_keys_it_does_not_own_and_adds_nothing(cli, config_file) -> None:
    """Catches an unset that rewrites the profile from what it knows: hand-added keys dropped,
    protected = false added."""
    config_file.write_text(
        '[profiles.team]\nnote = "ask Kari"\n\n[profiles.team.spaaza]\n'
        'chain_id = "3"\nuser_id = "7"\n'
    )

    assert cli("config", "unset", "spaaza.user_id", "--profile", "team").exit_code == 0

    assert tomllib.loads(config_file.read_text())["profiles"]["team"] == {
        "note": "ask Kari",
        "spaaza": {"chain_id": "3"},
    }


def test_a_config_file_starting_with_a_bom_is_read(cli, config_file) -> None:
    """Catches a UTF-8 BOM (as Notepad writes it) refused as invalid TOML."""
    config_file.write_bytes(b"\xef\xbb\xbf" + EXISTING.encode())

    result = cli("config", "get", "spid.client_id", "--profile", "prod")

    assert (result.exit_code, result.stdout) == (0, "prod-client\n"), result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ("config", "list"),
        ("config", "get", "spaaza.chain_id"),
        ("config", "unset", "spaaza.chain_id"),
    ],
)
def test_an_unknown_profile_is_exit_2_profile_unknown(cli, config_file, args) -> None:
    """Catches list printing nulls (exit 0), get exit 3 and unset a bare usage error for a
    profile config.toml does not define."""
    result = cli(*args, "--profile", "nope", "-o", "json")

    assert result.exit_code == 2, result.stdout
    assert json.loads(result.stderr.splitlines()[-1])["error"]["api_error"] == "profile_unknown"
    assert "config set KEY VALUE --profile nope" in result.stderr
