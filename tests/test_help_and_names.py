"""``voucherctl help``, examples in every --help, and one naming scheme with aliases."""

import json

import pytest
import typer
from typer.main import get_command

from tests import spid_stubs
from tests.conftest import fixture_json
from voucherctl.app import app
from voucherctl.reference import _command_paths

PATHS = _command_paths(get_command(app), typer.Context(get_command(app)))


@pytest.mark.parametrize("path", [["show"], ["auth", "login"], ["sandbox"], []], ids=str)
def test_help_command_is_the_commands_own_help(cli, path) -> None:
    """Catches 'voucherctl help show' answered "No such command" (a support person's guess)."""
    asked = cli("help", *path)

    assert asked.exit_code == 0, asked.stderr
    assert asked.stdout == cli(*path, "--help").stdout


@pytest.mark.parametrize("path", [["show"], ["auth", "login"]], ids=" ".join)
def test_the_installed_help_command_knows_every_command(path, tmp_path) -> None:
    """Catches 'voucherctl help show' run as a process, where only the command named in argv
    is loaded (so 'help' alone knew no other command): the same text as 'show --help'."""
    import subprocess

    from tests.sandbox_process import VOUCHERCTL, base_environment

    env = {**base_environment(tmp_path), "COLUMNS": "100"}
    helped = subprocess.run([VOUCHERCTL, "help", *path], env=env, capture_output=True, text=True)
    direct = subprocess.run([VOUCHERCTL, *path, "--help"], env=env, capture_output=True, text=True)

    assert helped.returncode == 0, helped.stderr
    assert helped.stdout == direct.stdout


def test_help_of_an_unknown_command_is_a_usage_error(cli) -> None:
    result = cli("help", "auth", "logn")

    assert result.exit_code == 2
    assert "no command 'auth logn'" in result.stderr


@pytest.mark.parametrize("path", PATHS, ids=lambda p: " ".join(p) or "voucherctl")
def test_every_help_has_examples(cli, path) -> None:
    """Catches a command (auth status, sandbox info, completion, ...) whose help shows no
    example of its use."""
    text = cli(*path, "--help").stdout

    assert "Example" in text
    assert "  voucherctl " in text.split("Example", 1)[1]


@pytest.mark.parametrize("path", [p for p in PATHS if p], ids=str)
def test_every_commands_footer_lists_every_exit_code(cli, path) -> None:
    """Catches the footer that left out 1 (error) and 130 (interrupted), and the command
    groups (auth, config, sandbox) whose --help had none."""
    text = " ".join(cli(*path, "--help").stdout.split())

    footer = text[text.index("Exit codes:") :]
    for code in (
        "0 ok",
        "1 error",
        "2 usage",
        "3 not found",
        "4 credentials",
        "5 rejected",
        "6 rate limited",
        "7 outcome unknown",
        "8 rows failed",
        "130 interrupted",
    ):
        assert code in footer


@pytest.mark.parametrize(
    "args",
    [
        ("handout", "--user", "42", "--group", "47"),
        ("handout", "--user-id", "42", "--group-id", "47"),
    ],
)
def test_handout_takes_user_id_and_group_id_as_aliases(cli, args) -> None:
    result = cli(*args, "--dry-run", "--sandbox", "-o", "json")

    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["form"] == {"userId": "42", "voucherGroupId": "47"}


@pytest.mark.parametrize("option", ["--user-id", "--user"])
def test_spaaza_commands_take_user_as_an_alias_of_user_id(cli, option) -> None:
    result = cli("claim", "--voucher-id", "35735", option, "1107604", "--dry-run", "--sandbox")

    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["form"]["user_id"] == "1107604"


@pytest.mark.parametrize(
    "group", [("48",), ("--group", "48"), ("--group-id", "48"), ("48", "--group", "48")], ids=str
)
def test_generate_takes_its_group_as_argument_or_option(cli, group) -> None:
    result = cli("generate", *group, "--amount", "2", "--dry-run", "--sandbox", "-o", "json")

    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["path"] == "/api/2/vouchers/generate/48"


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("codes", "47", "--group", "48"), "differ: give the group once"),
        (("codes",), "give the voucher group: GROUP or --group ID"),
        (("generate", "--amount", "1"), "give the voucher group"),
    ],
)
def test_a_group_given_twice_differently_or_not_at_all_is_refused(cli, args, says) -> None:
    result = cli(*args, "--dry-run", "--sandbox")

    assert result.exit_code == 2
    assert says in result.stderr


def test_group_takes_its_id_as_an_option_too(cli, rsps, monkeypatch) -> None:
    spid_stubs.use_client_credentials(monkeypatch)
    spid_stubs.oauth_token(rsps)
    spid_stubs.voucher_group(rsps, "47", fixture_json("spid_get_voucher.json")["group"])

    result = cli("group", "--group-id", "47", "-o", "json")

    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["voucherGroupId"] == "47"


def test_the_top_level_help_names_every_variable(cli) -> None:
    """Catches the environment list that lacked the sign secret and the ledger."""
    text = " ".join(cli("--help").stdout.split())

    for variable in ("VOUCHERCTL_SPID_SIGN_SECRET", "VOUCHERCTL_LEDGER", "VOUCHERCTL_DATA_DIR"):
        assert variable in text


def test_runs_usage_reads_as_its_forms(cli) -> None:
    """Catches `runs [[SHOW NAME | IMPORT LEDGER]] [NAME]`: brackets twice, the words
    uppercased, and the hidden NAME shown."""
    text = cli("runs", "--help").stdout

    assert text.splitlines()[0] == "Usage: voucherctl runs [OPTIONS] [show NAME | import LEDGER]"
    assert "[NAME]" not in text
