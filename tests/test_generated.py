"""Generated files are fresh, and shell completion really completes."""

import subprocess
from pathlib import Path

import pytest

from tests.sandbox_process import VOUCHERCTL, base_environment
from voucherctl.reference import generated

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("path", sorted(generated(ROOT)), ids=lambda p: str(p.relative_to(ROOT)))
def test_generated_file_is_fresh(path: Path) -> None:
    expected = generated(ROOT)[path]

    assert path.read_text(encoding="utf-8") == expected, (
        f"{path.relative_to(ROOT)} is stale: run 'python -m voucherctl.reference'"
    )


def test_the_reference_has_every_command() -> None:
    text = (ROOT / "docs" / "cli.md").read_text()

    for command in ("show", "handout", "claim", "lock", "auth login", "sandbox serve", "doctor"):
        assert f"## voucherctl {command}\n" in text
    assert "Exit codes: 0 success" in text


def complete(words: str, tmp_path: Path) -> list[str]:
    env = base_environment(tmp_path)
    cword = len(words.split()) - (0 if words.endswith(" ") else 1)
    env.update(_VOUCHERCTL_COMPLETE="complete_bash", COMP_WORDS=words, COMP_CWORD=str(cword))
    done = subprocess.run([VOUCHERCTL], env=env, capture_output=True, text=True, timeout=30)
    return done.stdout.split()


def test_bash_completes_commands_and_output_formats(tmp_path: Path) -> None:
    assert complete("voucherctl han", tmp_path) == ["handout"]
    assert complete("voucherctl show -o ", tmp_path) == ["table", "json", "jsonl", "csv"]


def test_bash_completes_profiles_from_the_config_file(tmp_path: Path) -> None:
    config = tmp_path / "config" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text("[profiles.prod]\n[profiles.staging]\n[profiles.pre]\n")

    assert complete("voucherctl show --profile pr", tmp_path) == ["pre", "prod"]


def test_the_man_page_is_installed_into_share_man_man1() -> None:
    """Catches a man page that is generated but not packaged: 'man voucherctl' after
    'pip install voucherctl' needs it under <prefix>/share/man/man1."""
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    data_files = project["tool"]["setuptools"]["data-files"]

    assert data_files["share/man/man1"] == ["man/voucherctl.1"]
    assert (ROOT / "man" / "voucherctl.1").is_file()


def test_the_man_page_has_every_command_and_renders_cleanly() -> None:
    import shutil

    page = (ROOT / "man" / "voucherctl.1").read_text()
    for command in ("show", "vouchers", "auth login", "config set", "help"):
        assert f'.SS "voucherctl {command.replace("-", chr(92) + "-")}"\n' in page
    assert "\\-\\-voucher\\-id" in page  # options copied from the page work in a shell
    if shutil.which("groff") is None:
        pytest.skip("groff is not installed")
    done = subprocess.run(
        ["groff", "-man", "-Tutf8", "-ww", "-z", str(ROOT / "man" / "voucherctl.1")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (done.returncode, done.stderr) == (0, "")
