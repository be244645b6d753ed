"""``voucherctl doctor``: every check reported, the first failure's exit code."""

import json
import socket

import pytest

from tests import spaaza_stubs, spid_stubs
from tests.sandbox_process import SandboxProcess


def checks(stdout: str) -> dict[str, dict]:
    return {check["name"]: check for check in json.loads(stdout)["checks"]}


def test_all_checks_pass_against_the_real_sandbox(tmp_path) -> None:
    server = SandboxProcess(tmp_path / "state.sqlite3")
    try:
        done = server.run("doctor", "-o", "json")
    finally:
        server.stop()

    assert done.exit_code == 0, done.stdout
    found = checks(done.stdout)
    assert found["spid read"]["detail"].startswith("token accepted")
    assert found["spaaza read"]["ok"] is True
    assert found["spid credentials"]["detail"] == (
        "from VOUCHERCTL_SPID_CLIENT_ID/VOUCHERCTL_SPID_CLIENT_SECRET"
    )
    assert "ahead of" in found["spid clock"]["detail"] or "behind" in found["spid clock"]["detail"]
    assert "sandbox-spid-secret" not in done.stdout + done.stderr


def test_nothing_configured_is_exit_4(cli) -> None:
    result = cli("doctor", "-o", "json")

    assert result.exit_code == 4
    assert checks(result.stdout)["apis"]["ok"] is False


def test_refused_credentials_are_exit_4(cli, rsps, monkeypatch) -> None:
    spid_stubs.use_client_credentials(monkeypatch)
    spid_stubs.oauth_token(rsps, status=401, body={"error": "invalid_client"})

    result = cli("doctor", "-o", "json")

    assert result.exit_code == 4
    assert checks(result.stdout)["spid read"]["ok"] is False
    assert spid_stubs.CLIENT_SECRET not in result.stdout


def test_an_unreachable_api_is_exit_7(cli, monkeypatch) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("VOUCHERCTL_SPAAZA_URL", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("VOUCHERCTL_SPAAZA_TOKEN", spaaza_stubs.PRIVILEGED_TOKEN)

    result = cli("doctor", "-o", "json", "--timeout", "2")

    assert result.exit_code == 7
    assert "connection refused" in checks(result.stdout)["spaaza read"]["detail"]


@pytest.mark.parametrize("skew", [0, 400])
def test_clock_skew_beyond_five_minutes_fails(skew) -> None:
    import time
    from email.utils import formatdate

    from voucherctl.commands.doctor import _clock

    check = _clock("spid", formatdate(time.time() - skew, usegmt=True))

    assert check.ok is (skew == 0)


def test_doctor_reads_one_page_of_groups_not_all_of_them(cli, rsps, monkeypatch) -> None:
    """Catches doctor listing every group (a client with 50,000 of them spends 50 requests of
    its quota on a check)."""
    spid_stubs.use_client_credentials(monkeypatch)
    spid_stubs.oauth_token(rsps)
    spid_stubs.voucher_groups(rsps, [{"voucherGroupId": str(n)} for n in range(1000)])

    result = cli("doctor", "-o", "json")

    found = checks(result.stdout)
    assert found["spid read"]["detail"] == "token accepted; 1000+ voucher groups readable"
    assert found["spid signatures"]["detail"] == "SPiD's answers are not signed"


def test_doctor_says_answers_are_verified_when_they_were() -> None:
    from voucherctl.api.spid.client import SpidClient
    from voucherctl.api.transport.http import HttpClient
    from voucherctl.commands.doctor import _spid_signatures
    from voucherctl.secrets.sets import SpidCredentials

    credentials = SpidCredentials(source="test", access_token="t", sign_secret="s")
    client = SpidClient(HttpClient(timeout=1, max_wait=1), "https://spid.test", credentials)
    client.signatures_seen.add("verified")

    [check] = _spid_signatures(client)

    assert (check.name, check.ok) == ("spid signatures", True)
    assert (
        check.detail == "SPiD's answers are signed (HMAC-SHA256) and verified with the sign secret"
    )


def test_without_credentials_doctor_still_checks_what_it_can(cli, rsps, monkeypatch, no_keyring):
    """Catches doctor skipping host reachability and the keyring check when credentials are
    missing: every check that can run runs, and the skipped ones say why."""
    monkeypatch.setenv("VOUCHERCTL_SPID_URL", "https://spid.test")
    rsps.get("https://spid.test/", status=404, body="not here")

    result = cli("doctor", "-o", "json")

    checks = {c["name"]: c for c in json.loads(result.stdout)["checks"]}
    assert result.exit_code == 4
    assert checks["spid host"]["ok"] and checks["spid reachable"]["ok"]
    assert checks["spid reachable"]["detail"] == "https://spid.test answers (HTTP 404)"
    assert not checks["spid credentials"]["ok"]
    assert "keyring" in checks
    assert checks["spid read"]["detail"] == "skipped: no usable credentials"
