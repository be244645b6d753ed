"""End to end: the installed CLI against the real sandbox server over loopback."""

import base64
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.sandbox_process import SandboxProcess, base_environment, run_cli
from voucherctl.sandbox import SANDBOX


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxProcess]:
    server = SandboxProcess(tmp_path_factory.mktemp("e2e") / "state.sqlite3")
    yield server
    server.stop()


def test_version_and_help(sandbox) -> None:
    from voucherctl import __version__

    assert sandbox.run("--version").stdout == f"voucherctl {__version__}\n"
    assert "handout" in sandbox.run("--help").stdout


def test_show_the_documented_voucher(sandbox) -> None:
    done = sandbox.run("show", SANDBOX.spid_voucher_code, "-o", "json")

    assert done.exit_code == 0, done.stderr
    voucher = json.loads(done.stdout)
    assert voucher["voucherCode"] == "64-HB2I-OPBL"
    assert voucher["group"]["title"] == "Freebies for everyone!"


def test_handout_then_show_sees_the_change(sandbox) -> None:
    group = SANDBOX.spid_handout_group_id
    before = sandbox.query(
        "select count(*) from spid_voucher where group_id = ? and status = 1", int(group)
    )[0][0]

    done = sandbox.run("handout", "--user", "100001", "--group", group)

    assert done.exit_code == 0, done.stderr
    assert json.loads(done.stdout) == {"success": True, "userId": "100001", "voucherGroupId": group}
    [(code,)] = sandbox.query(
        "select code from spid_voucher where user_id = 100001 and group_id = ?", int(group)
    )
    shown = json.loads(sandbox.run("show", code, "-o", "json").stdout)
    assert (shown["status"], shown["userId"]) == ("1", "100001")
    after = sandbox.query(
        "select count(*) from spid_voucher where group_id = ? and status = 1", int(group)
    )[0][0]
    assert after == before + 1


def test_documented_failures_and_their_exit_codes(sandbox) -> None:
    assert sandbox.run("show", "NO-SUCH-CODE").exit_code == 3
    empty = sandbox.run("handout", "--user", "42", "--group", SANDBOX.spid_empty_group_id)
    assert empty.exit_code == 5
    assert empty.stdout == ""
    unknown_user = sandbox.run("handout", "--user", "999999999", "--group", "47")
    assert unknown_user.exit_code == 3
    assert "User not found" in unknown_user.stderr
    wrong_secret = sandbox.run("show", "X", VOUCHERCTL_SPID_CLIENT_SECRET="canary-wrong-secret")
    assert wrong_secret.exit_code == 4
    assert "canary-wrong-secret" not in wrong_secret.stderr


def test_groups_and_group(sandbox) -> None:
    groups = json.loads(sandbox.run("groups", "-o", "json").stdout)
    assert "47" in {g["voucherGroupId"] for g in groups}
    group = json.loads(sandbox.run("group", "47", "-o", "json").stdout)
    assert group["title"] == "Freebies for everyone!"


def test_claim_lock_unlock_unclaim_and_vouchers(sandbox) -> None:
    key = SANDBOX.spaaza_voucher_key
    user = str(SANDBOX.spaaza_user_id)

    claimed = sandbox.run("claim", "--voucher-key", key, "--user-id", user, "-o", "json")
    assert claimed.exit_code == 0, claimed.stderr
    assert json.loads(claimed.stdout)["voucher_status"] == "claimed"
    again = sandbox.run("claim", "--voucher-key", key, "--user-id", user)
    assert again.exit_code == 5

    locked = sandbox.run(
        "lock", "--voucher-key", key, "--locking-code", "L1", "--period", "600", "-o", "json"
    )
    assert locked.exit_code == 0, locked.stderr
    assert json.loads(locked.stdout)["voucher_locking_code"] == "L1"
    other_code = sandbox.run("lock", "--voucher-key", key, "--locking-code", "L2")
    assert other_code.exit_code == 5

    listed = json.loads(
        sandbox.run("vouchers", "--user-id", user, "-o", "jsonl").stdout.splitlines()[0]
    )
    assert listed["voucher_key"] == key

    assert sandbox.run("unlock", "--voucher-key", key).exit_code == 0
    unclaimed = sandbox.run("unclaim", "--voucher-key", key, "--user-id", user, "-o", "json")
    assert unclaimed.exit_code == 0, unclaimed.stderr
    assert json.loads(unclaimed.stdout)["voucher_status"] == "generated"


def test_a_bad_lock_period_sends_nothing(sandbox) -> None:
    done = sandbox.run(
        "lock", "--voucher-id", str(SANDBOX.spaaza_lock_voucher_id), "--period", "4000"
    )

    assert done.exit_code == 2
    rows = sandbox.query(
        "select locked_until from spaaza_voucher where id = ?", SANDBOX.spaaza_lock_voucher_id
    )
    assert rows == [(None,)]


def test_bulk_handout_gives_each_user_exactly_one_voucher(sandbox, tmp_path) -> None:
    users = range(100100, 100300)
    source = tmp_path / "users.csv"
    source.write_text("userId\n" + "".join(f"{u}\n" for u in users))

    done = sandbox.run(
        "handout",
        "--from",
        str(source),
        "--group",
        SANDBOX.spid_handout_group_id,
        "--concurrency",
        "8",
    )

    assert done.exit_code == 0, done.stderr
    outcomes = [json.loads(line)["outcome"] for line in done.stdout.splitlines()]
    assert outcomes.count("ok") == 200
    counts = dict(
        sandbox.query(
            "select user_id, count(*) from spid_voucher where user_id between 100100 and 100299 "
            "group by user_id"
        )
    )
    assert counts == {u: 1 for u in users}

    # The same file again: the run finished, so nothing is sent and the user is told how.
    again = sandbox.run("handout", "--from", str(source), "--group", SANDBOX.spid_handout_group_id)
    assert again.exit_code == 2 and again.stdout == ""
    assert "was already run to the end" in again.stderr and "--resume" in again.stderr

    resumed = sandbox.run(
        "handout", "--from", str(source), "--group", SANDBOX.spid_handout_group_id, "--resume"
    )
    assert resumed.exit_code == 0, resumed.stderr
    assert {json.loads(line)["outcome"] for line in resumed.stdout.splitlines()} == {"skipped"}


def test_embedded_sandbox_needs_nothing_started(tmp_path: Path) -> None:
    if _default_port_taken():
        pytest.skip("something listens on 127.0.0.1:8765; --sandbox would use it")
    env = base_environment(tmp_path)
    env["VOUCHERCTL_SPID_URL"] = "https://login.schibsted.com"  # ignored under --sandbox
    env["VOUCHERCTL_SPID_TOKEN"] = "canary-real-token"

    shown = run_cli("show", "64-HB2I-OPBL", "--sandbox", "-o", "json", env=env)
    handed = run_cli("handout", "--user", "42", "--group", "47", "--sandbox", env=env)
    after = run_cli("show", "64-HB2I-OPBL", "--sandbox", "-o", "json", env=env)

    assert shown.exit_code == 0, shown.stderr
    assert json.loads(shown.stdout)["status"] == "0"
    assert handed.exit_code == 0, handed.stderr
    assert json.loads(after.stdout)["userId"] == "42"
    assert (tmp_path / "data" / "sandbox.sqlite3").exists()

    source = tmp_path / "users.csv"
    source.write_text("userId\n100900\n100901\n")
    bulk = ["handout", "--from", str(source), "--group", "47", "--sandbox", "-o", "jsonl"]
    first = run_cli(*bulk, env=env)
    # A new in-process sandbox on another port, the same run: found, and not run again.
    again = run_cli(*bulk, env=env)
    resumed = run_cli(*bulk, "--resume", env=env)
    assert first.exit_code == 0, first.stderr
    assert again.exit_code == 2 and "already run to the end" in again.stderr
    assert resumed.exit_code == 0, resumed.stderr
    assert {json.loads(line)["outcome"] for line in resumed.stdout.splitlines()} == {"skipped"}


def test_sandbox_with_a_profile_is_a_usage_error(tmp_path: Path) -> None:
    done = run_cli("show", "X", "--sandbox", "--profile", "prod", env=base_environment(tmp_path))

    assert done.exit_code == 2


def _default_port_taken() -> bool:
    import socket

    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", 8765)) == 0


def keyring_environment(sandbox: SandboxProcess, home: Path) -> dict[str, str]:
    """No credentials in variables: only what auth login stores in a real file keyring."""
    env = base_environment(home)
    env.update(
        PYTHON_KEYRING_BACKEND="keyrings.alt.file.PlaintextKeyring",
        XDG_DATA_HOME=str(home / "xdg-data"),
        XDG_CONFIG_HOME=str(home / "xdg-config"),
    )
    return env


def test_login_to_both_apis_then_work_from_the_keyring(sandbox, tmp_path: Path) -> None:
    env = keyring_environment(sandbox, tmp_path)
    spid = run_cli(
        "auth",
        "login",
        "spid",
        "--host",
        sandbox.url,
        "--client-id",
        SANDBOX.spid_client_id,
        "--insecure-storage",  # the plain file keyring, knowingly
        env=env,
        input=SANDBOX.spid_client_secret + "\n",
    )
    spaaza = run_cli(
        "auth",
        "login",
        "spaaza",
        "--host",
        sandbox.url,
        "--chain-id",
        str(SANDBOX.spaaza_chain_id),
        "--username",
        SANDBOX.spaaza_admin_username,
        "--insecure-storage",  # the plain file keyring, knowingly
        env=env,
        input=f"{SANDBOX.spaaza_admin_password}\n{SANDBOX.spaaza_admin_passcode}\n",
    )
    assert spid.exit_code == 0, spid.stderr
    assert spaaza.exit_code == 0, spaaza.stderr
    assert "Two-factor login" in spaaza.stderr

    status = run_cli("auth", "status", "-o", "json", env=env)
    shown = run_cli("show", "64-HB2I-OPBL", "-o", "json", env=env)
    listed = run_cli("vouchers", "--user-id", str(SANDBOX.spaaza_user_id), "-o", "json", env=env)

    assert status.exit_code == 0, status.stdout
    assert [r["source"] for r in json.loads(status.stdout)] == ["keyring (profile 'default')"] * 2
    assert shown.exit_code == 0, shown.stderr
    assert listed.exit_code == 0, listed.stderr
    config = (tmp_path / "config" / "config.toml").read_text()
    for secret in (SANDBOX.spid_client_secret, SANDBOX.spaaza_admin_password):
        assert secret not in config

    assert run_cli("auth", "logout", env=env).exit_code == 0
    assert run_cli("show", "64-HB2I-OPBL", env=env).exit_code == 4


def test_a_wrong_spaaza_token_is_refused_and_the_stored_session_stays(
    sandbox, tmp_path: Path
) -> None:
    # auth login spaaza --token stored any token unchecked, replacing the working session.
    env = keyring_environment(sandbox, tmp_path)
    chain = str(SANDBOX.spaaza_chain_id)
    login = ("auth", "login", "spaaza", "--host", sandbox.url, "--chain-id", chain)
    user = str(SANDBOX.spaaza_session_user_id)
    session = run_cli(
        *login,
        "--session",
        "--session-user-id",
        user,
        "--insecure-storage",
        env=env,
        input=SANDBOX.spaaza_session_key + "\n",
    )
    assert session.exit_code == 0, session.stderr

    wrong = run_cli(
        *login, "--token", "--insecure-storage", env=env, input="canary-wrong-token-0004\n"
    )

    assert wrong.exit_code == 4, wrong.stderr
    assert "canary-wrong-token-0004" not in wrong.stdout + wrong.stderr
    stored = (tmp_path / "xdg-data" / "python_keyring" / "keyring_pass.cfg").read_text()
    assert base64.b64encode(b"canary-wrong-token-0004").decode() not in stored
    status = run_cli("auth", "status", "-o", "json", env=env)
    assert status.exit_code == 0, status.stdout
    [spaaza] = json.loads(status.stdout)  # the API in use; SPiD is not configured
    assert spaaza["detail"].startswith(f"session of user {user} accepted")


def test_sandbox_info_reset_audit_and_completion(sandbox, tmp_path: Path) -> None:
    env = base_environment(tmp_path)
    info = json.loads(run_cli("sandbox", "info", "-o", "json", env=env).stdout)
    assert info["spid_client_secret"] == SANDBOX.spid_client_secret

    state = tmp_path / "other.sqlite3"
    assert run_cli("sandbox", "reset", "--state", str(state), env=env).exit_code == 0
    assert state.exists()

    sandbox.run(
        "handout",
        "--user",
        "100777",
        "--group",
        SANDBOX.spid_handout_group_id,
        VOUCHERCTL_DATA_DIR=str(tmp_path / "data"),
    )
    audit = json.loads(run_cli("audit", "-o", "json", env=env).stdout)
    assert audit[-1]["identifiers"]["userId"] == "100777"

    script = run_cli("completion", "bash", env=env).stdout
    assert "_VOUCHERCTL_COMPLETE=complete_bash" in script
