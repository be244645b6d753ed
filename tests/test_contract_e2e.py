"""Every published schema against the real sandbox and the installed CLI: each command's
-o json output, a bulk row, a dry run and an error (checked by run_cli, tests/schema_check.py)."""

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import schema_check
from tests.sandbox_process import SandboxProcess
from voucherctl import schemas
from voucherctl.sandbox import SANDBOX

VOUCHER = str(SANDBOX.spaaza_voucher_id)
USER = str(SANDBOX.spaaza_user_id)


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[SandboxProcess]:
    server = SandboxProcess(tmp_path / "state.sqlite3")
    yield server
    server.stop()


def test_every_schema_describes_what_the_sandbox_prints(sandbox, tmp_path) -> None:
    """Catches a schema that no real output was ever checked against, and any command whose
    output against the real sandbox breaks its schema."""
    rows = tmp_path / "users.csv"
    rows.write_text(
        f"userId,voucherGroupId\n{SANDBOX.spid_bulk_user_ids[0]},{SANDBOX.spid_group_id}\n"
    )
    spaaza = ("--voucher-id", VOUCHER)
    runs = [
        ("show", SANDBOX.spid_voucher_code),
        ("handout", "--user", SANDBOX.spid_user_id, "--group", SANDBOX.spid_group_id),
        ("groups",),
        ("group", SANDBOX.spid_group_id),
        ("generate", SANDBOX.spid_group_id, "--amount", "2"),
        ("codes", SANDBOX.spid_group_id, "--amount", "1"),
        ("claim", *spaaza, "--user-id", USER),
        ("vouchers", "--user-id", USER),
        ("lock", *spaaza),
        ("unlock", *spaaza),
        ("unclaim", *spaaza, "--user-id", USER),
        ("claim", *spaaza, "--user-id", USER, "--dry-run"),
        ("handout", "--from", str(rows), "--dry-run"),
        ("handout", "--from", str(rows), "-o", "json"),
        ("auth", "status"),
        ("doctor",),
        ("audit",),
        ("sandbox", "info"),
        ("config", "set", "spaaza.chain_id", "1000"),
        ("config", "list"),
        ("config", "get", "spaaza.chain_id"),
    ]
    schema_check.CHECKED.clear()
    for args in runs:
        done = sandbox.run(*args, "-o", "json") if "-o" not in args else sandbox.run(*args)
        assert done.exit_code == 0, (args, done.stderr)
    listed = sandbox.run("runs", "-o", "json")
    assert listed.exit_code == 0, listed.stderr
    name = json.loads(listed.stdout)[0]["name"]
    assert sandbox.run("runs", "show", name, "-o", "json").exit_code == 0
    claimed = sandbox.run("claim", *spaaza, "--user-id", USER, "-o", "json")
    assert sandbox.run("redeem", *spaaza, "--user-id", USER, "-o", "json").exit_code == 0
    again = sandbox.run("claim", *spaaza, "--user-id", USER, "-o", "json")

    assert claimed.exit_code == 0 and again.exit_code == 5  # an error object on stderr
    assert set(schemas.names()) - {"auth-login", "auth-logout"} <= schema_check.CHECKED
