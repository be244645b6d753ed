"""Secrets never leak: every command, every output mode, --verbose, success and failure.

The secrets here are the sandbox's own credentials and a token it issued; after all the runs,
none of them may appear in stdout, stderr, or any file voucherctl wrote (journals, audit log,
config).
"""

import itertools
import json
import os
import urllib.request
from base64 import b64encode
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.sandbox_process import SandboxProcess, run_cli
from voucherctl.sandbox import SANDBOX

KEY = SANDBOX.spaaza_voucher_key
COMMANDS = [
    ["show", "64-HB2I-OPBL"],
    ["show", "NO-SUCH-VOUCHER"],
    ["handout", "--user", "100500", "--group", "324673248"],
    ["handout", "--user", "42", "--group", SANDBOX.spid_empty_group_id],
    ["groups"],
    ["group", "47"],
    ["claim", "--voucher-key", KEY, "--user-id", str(SANDBOX.spaaza_user_id)],
    ["lock", "--voucher-key", KEY, "--locking-code", "c1"],
    ["unlock", "--voucher-key", KEY],
    ["unclaim", "--voucher-key", KEY, "--user-id", str(SANDBOX.spaaza_user_id)],
    ["vouchers", "--user-id", str(SANDBOX.spaaza_user_id)],
    ["claim", "--voucher-id", "1", "--user-id", "1"],
    ["auth", "status"],
    ["doctor"],
    ["audit"],
]
FORMATS = ["table", "json", "jsonl", "csv"]


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxProcess]:
    # The state file holds the sandbox's tokens; it lives apart from voucherctl's own files.
    server = SandboxProcess(tmp_path_factory.mktemp("server") / "state.sqlite3")
    yield server
    server.stop()


def issued_token(url: str) -> str:
    basic = b64encode(f"{SANDBOX.spid_client_id}:{SANDBOX.spid_client_secret}".encode()).decode()
    request = urllib.request.Request(
        f"{url}/oauth/token",
        data=b"grant_type=client_credentials",
        headers={"Authorization": f"Basic {basic}"},
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        return str(json.load(answer)["access_token"])


def environments(sandbox: SandboxProcess, token: str) -> list[dict[str, str]]:
    client_credentials = sandbox.environment()
    tokens = sandbox.environment(
        VOUCHERCTL_SPID_TOKEN=token,
        VOUCHERCTL_SPAAZA_TOKEN=SANDBOX.spaaza_privileged_token,
        VOUCHERCTL_SPAAZA_APP_HOSTNAME=SANDBOX.spaaza_app_hostname,
    )
    for env in (client_credentials, tokens):
        env["VOUCHERCTL_CONFIG_DIR"] = str(Path(env["VOUCHERCTL_DATA_DIR"]).parent / "cfg")
    return [client_credentials, tokens]


def test_no_secret_appears_anywhere(sandbox, tmp_path, monkeypatch, cli) -> None:
    token = issued_token(sandbox.url)
    canaries = [
        SANDBOX.spid_client_secret,
        SANDBOX.spaaza_session_key,
        SANDBOX.spaaza_privileged_token,
        token,
    ]
    home = tmp_path / "home"
    seen: list[str] = []
    for env_index, env in enumerate(environments(sandbox, token)):
        env["VOUCHERCTL_DATA_DIR"] = str(home / "data")
        env["VOUCHERCTL_CONFIG_DIR"] = str(home / "config")
        for name in [n for n in os.environ if n.startswith("VOUCHERCTL_")]:
            monkeypatch.delenv(name)
        for name, value in env.items():
            if name.startswith("VOUCHERCTL_"):
                monkeypatch.setenv(name, value)
        for args, fmt in itertools.product(COMMANDS, FORMATS):
            result = cli(*args, "-o", fmt, "-v")
            assert result.exit_code in (0, 3, 5), (args, fmt, result.stderr[-500:])
            seen += [result.stdout, result.stderr]
        source = tmp_path / f"rows{env_index}.csv"
        source.write_text(f"userId\n{100600 + env_index}\n999999999\n")
        result = cli("handout", "--from", str(source), "--group", "47", "-v", "-o", "csv")
        seen += [result.stdout, result.stderr]

    # A few runs of the installed CLI too, with failures, as a script would see them.
    env = environments(sandbox, token)[0]
    env.update(VOUCHERCTL_DATA_DIR=str(home / "data"), VOUCHERCTL_CONFIG_DIR=str(home / "config"))
    for args in (["show", "NOPE", "-v"], ["handout", "--user", "1", "--group", "47", "-v"]):
        done = run_cli(*args, env=env)
        seen += [done.stdout, done.stderr]

    written = [path.read_text(errors="replace") for path in home.rglob("*") if path.is_file()]
    assert (home / "data" / "ledger.sqlite3").exists()  # the runs and changes are recorded
    for canary in canaries:
        for text in seen + written:
            assert canary not in text
    assert any("Authorization: Bearer ***" in text for text in seen)
