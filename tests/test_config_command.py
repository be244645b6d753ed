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
