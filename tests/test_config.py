"""Where voucherctl keeps its files, and how it reads config.toml."""

import sys
from pathlib import Path

import pytest

from voucherctl.core.errors import UsageError
from voucherctl.storage import config


def test_variables_relocate_config_and_data() -> None:
    environ = {"VOUCHERCTL_CONFIG_DIR": "/c", "VOUCHERCTL_DATA_DIR": "/d"}

    assert config.config_dir(environ) == Path("/c")
    assert config.data_dir(environ) == Path("/d")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the XDG rule is Linux's")
def test_linux_follows_xdg_like_platformdirs(monkeypatch: pytest.MonkeyPatch) -> None:
    import platformdirs

    for variable, value in {"XDG_CONFIG_HOME": "/x/config", "XDG_DATA_HOME": "/x/data"}.items():
        monkeypatch.setenv(variable, value)
    environ = {"XDG_CONFIG_HOME": "/x/config", "XDG_DATA_HOME": "/x/data"}

    assert config.config_dir(environ) == platformdirs.user_config_path("voucherctl", False)
    assert config.data_dir(environ) == platformdirs.user_data_path("voucherctl", False)
    assert config.config_dir({}) == Path.home() / ".config" / "voucherctl"


def test_an_invalid_config_file_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text("[profiles.x\n")

    with pytest.raises(UsageError, match="is not valid TOML"):
        config.load_profile({"VOUCHERCTL_CONFIG_DIR": str(tmp_path)}, "x", must_exist=True)


def test_an_unknown_key_in_a_profile_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text('[profiles.x.spid]\nbase_uri = "https://a"\n')

    with pytest.raises(UsageError, match="unknown key"):
        config.load_profile({"VOUCHERCTL_CONFIG_DIR": str(tmp_path)}, "x", must_exist=True)


def test_saving_a_profile_keeps_the_others(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[profiles.keep.spid]\nbase_url = "https://keep.example"\n')
    file = config.ConfigFile(path)
    profile = file.profile("new")
    profile.spaaza.chain_id = "3"

    file.save_profile(profile)

    reread = config.ConfigFile(path)
    assert reread.profile("keep").spid.base_url == "https://keep.example"
    assert reread.profile("new").spaaza.chain_id == "3"


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.5.5.5", True),
        ("localhost", True),
        ("[::1]", True),
        ("10.0.0.1", False),
        ("example.com", False),
    ],
)
def test_loopback_hosts(host: str, loopback: bool) -> None:
    assert config.is_loopback(host) is loopback
