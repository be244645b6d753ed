"""What scripts rely on: errors they can parse, --query, one shape per list, checks before any
request, and a list's CSV accepted back by the bulk commands."""

import json
from pathlib import Path

import pytest

from tests import spaaza_stubs, spid_stubs
from tests.conftest import fixture_json
from tests.sandbox_process import SandboxProcess
from voucherctl.sandbox import SANDBOX

CLAIMED = fixture_json("spaaza_claim_voucher.json")["results"]


@pytest.mark.parametrize("fmt", ["json", "jsonl"])
def test_with_json_output_an_error_is_one_json_object(cli, rsps, monkeypatch, fmt) -> None:
    spaaza_stubs.use_admin_session(monkeypatch)
    spaaza_stubs.claim_voucher(
        rsps,
        {"voucher_id": "5", "user_id": "7", "chain_id": "3"},
        spaaza_stubs.error(300, "voucher_already_claimed", "Already claimed"),
        status=409,
    )

    result = cli("claim", "--voucher-id", "5", "--user-id", "7", "-o", fmt)

    assert result.exit_code == 5
    assert result.stdout == ""
    [line] = result.stderr.splitlines()
    assert json.loads(line) == {
        "error": {
            "message": "claim voucher 5: HTTP 409: Already claimed (voucher_already_claimed)",
            "exit_code": 5,
            "http_status": 409,
            "api_error": "voucher_already_claimed",
        }
    }


def test_a_usage_error_as_json_has_no_status(cli, rsps) -> None:
    result = cli("show", "X", "--sandbox", "--profile", "p", "-o", "json")

    assert result.exit_code == 2
    error = json.loads(result.stderr)["error"]
    assert error["exit_code"] == 2 and error["http_status"] is None and error["api_error"] is None
    assert "--sandbox cannot be combined with --profile" in error["message"]


def test_without_json_output_an_error_stays_one_line(cli, rsps) -> None:
    result = cli("show", "X", "--sandbox", "--profile", "p")

    assert result.stderr.startswith("voucherctl: error: --sandbox cannot be combined")
    assert len(result.stderr.splitlines()) == 1


def test_query_picks_from_what_the_command_prints(cli, rsps, monkeypatch) -> None:
    spid_stubs.use_client_credentials(monkeypatch)
    spid_stubs.oauth_token(rsps)
    spid_stubs.get_voucher(rsps, "64-HB2I-OPBL", fixture_json("spid_get_voucher.json"))

    text = cli("show", "64-HB2I-OPBL", "--query", "voucherCode")
    structure = cli("show", "64-HB2I-OPBL", "--query", "{code: voucherCode, status: status}")

    assert text.exit_code == 0 and text.stdout == "64-HB2I-OPBL\n"  # a string: plain text
    assert json.loads(structure.stdout) == {"code": "64-HB2I-OPBL", "status": "1"}


def test_a_bad_query_is_a_usage_error_before_anything_is_sent(cli, rsps, monkeypatch) -> None:
    spid_stubs.use_client_credentials(monkeypatch)

    result = cli("show", "64-HB2I-OPBL", "--query", "[?status ==")

    assert result.exit_code == 2
    assert "is not a JMESPath expression" in result.stderr
    assert len(rsps.calls) == 0


def test_vouchers_prints_a_list_of_vouchers(cli, rsps, monkeypatch) -> None:
    spaaza_stubs.use_admin_session(monkeypatch)
    results = {"basket_vouchers": [CLAIMED], "honour_vouchers": [], "var_price_vouchers": []}
    spaaza_stubs.get_user_vouchers(
        rsps, {"user_id": "1", "chain_id": "3"}, spaaza_stubs.ok(results)
    )

    result = cli("vouchers", "--user-id", "1", "--query", "[].voucher_id")

    assert json.loads(result.stdout) == [CLAIMED["voucher_id"]]


@pytest.mark.parametrize(
    ("args", "missing"),
    [
        (["claim", "--voucher-id", "5"], "needs the user"),
        (["unclaim", "--voucher-id", "5", "--user-id", "7"], "needs a chain id"),
        (["vouchers", "--user-id", "7"], "needs a chain id"),
        # redeem needs a chain id whatever the session, so only the user is the admin check's
        (["redeem", "--voucher-id", "5", "--chain-id", "3"], "needs the user"),
    ],
)
def test_an_admin_session_without_user_or_chain_is_a_usage_error(
    cli, rsps, monkeypatch, args, missing
) -> None:
    """Catches such a claim being sent, refused by Spaaza (exit 5) and audited as a failed
    change: it is exit 2, nothing sent, naming what to give."""
    spaaza_stubs.use_admin_session(monkeypatch, chain_id=None)

    result = cli(*args)

    assert result.exit_code == 2
    assert missing in result.stderr
    if missing == "needs a chain id":
        assert "--chain-id" in result.stderr and "VOUCHERCTL_SPAAZA_CHAIN_ID" in result.stderr
    assert len(rsps.calls) == 0
    assert json.loads(cli("audit", "-o", "json").stdout) == []


def test_a_lists_csv_goes_back_into_a_bulk_command(tmp_path: Path) -> None:
    """``vouchers -o csv | unlock --from -`` through the real sandbox server: the list's extra
    columns are ignored with one note, and a row naming its voucher by key and id is sent by key,
    as Spaaza recommends."""
    server = SandboxProcess(tmp_path / "state.sqlite3")
    try:
        user, voucher = str(SANDBOX.spaaza_user_id), str(SANDBOX.spaaza_voucher_id)
        assert server.run("claim", "--voucher-id", voucher, "--user-id", user).exit_code == 0
        locked = server.run("lock", "--voucher-id", voucher, "--locking-code", "till-7")
        assert locked.exit_code == 0, locked.stderr
        listed = server.run("vouchers", "--user-id", user, "-o", "csv")

        unlocked = server.run("unlock", "--from", "-", input=listed.stdout)
        after = server.run("vouchers", "--user-id", user, "--query", "[].voucher_locked")
    finally:
        server.stop()

    assert unlocked.exit_code == 0, unlocked.stderr
    [row] = [json.loads(line) for line in unlocked.stdout.splitlines()]
    assert row["outcome"] == "ok"
    assert "unlock ignores the column(s) voucher_status" in unlocked.stderr
    assert json.loads(after.stdout) == [False]


def _seed_audit_log(home: Path) -> None:
    entries = [
        (
            "2026-11-01T10:00:00Z",
            "default",
            "https://a.test",
            "handout",
            {"userId": "42", "voucherGroupId": "47"},
        ),
        (
            "2026-11-02T10:00:00Z",
            "prod",
            "https://b.test",
            "claim",
            {"voucher_id": "5", "user_id": "42"},
        ),
        (
            "2026-11-03T10:00:00Z",
            "sandbox",
            "sandbox",
            "handout",
            {"userId": "43", "voucherGroupId": "48"},
        ),
        ("2026-11-04T10:00:00Z", "prod", "https://b.test", "lock", {"voucher_key": "k-5"}),
    ]
    log = home / "data" / "audit.jsonl"
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text(
        "".join(
            json.dumps(
                {
                    "time": t,
                    "user": "ops",
                    "profile": p,
                    "host": h,
                    "command": c,
                    "identifiers": ids,
                    "outcome": "ok",
                    "exit_code": 0,
                    "error": None,
                }
            )
            + "\n"
            for t, p, h, c, ids in entries
        )
    )


@pytest.mark.parametrize(
    ("args", "times"),
    [
        ([], ["11-04", "11-03", "11-02", "11-01"]),
        (["--limit", "2"], ["11-04", "11-03"]),
        (["--user", "42"], ["11-02", "11-01"]),
        (["--voucher", "k-5"], ["11-04"]),
        (["--group", "48"], ["11-03"]),
        (["--host", "https://b.test/"], ["11-04", "11-02"]),
        (["--host", "HTTPS://B.test:443"], ["11-04", "11-02"]),
        (["--profile", "prod"], ["11-04", "11-02"]),
        (["--sandbox"], ["11-03"]),
        (["--command", "handout", "--since", "2026-11-02"], ["11-03"]),
    ],
)
def test_audit_answers_who_did_what_newest_first(cli, isolated_environment, args, times) -> None:
    _seed_audit_log(isolated_environment)
    (isolated_environment / "config").mkdir(parents=True, exist_ok=True)
    (isolated_environment / "config" / "config.toml").write_text("[profiles.prod]\n")

    result = cli("audit", *args, "-o", "json")

    assert result.exit_code == 0, result.stderr
    assert [entry["time"][5:10] for entry in json.loads(result.stdout)] == times


def test_an_audit_command_that_does_not_exist_is_a_usage_error(cli, isolated_environment) -> None:
    """Catches a typo such as 'claimm' reading as "nobody did it" (an empty list, exit 0)."""
    _seed_audit_log(isolated_environment)

    result = cli("audit", "--command", "claimm")

    assert result.exit_code == 2
    assert (
        "give one of handout, generate, codes, claim, unclaim, lock, unlock, redeem"
        in result.stderr
    )


def test_at_80_columns_a_voucher_key_is_never_cut(cli, rsps, monkeypatch) -> None:
    """Catches a 64-character key wrapped mid-string in claim's table: it could not be copied."""
    monkeypatch.setenv("COLUMNS", "80")
    spaaza_stubs.use_admin_session(monkeypatch)
    form = {"voucher_id": "35735", "user_id": "5", "chain_id": "3"}
    spaaza_stubs.claim_voucher(rsps, form, spaaza_stubs.ok(CLAIMED))

    result = cli("claim", "--voucher-id", "35735", "--user-id", "5", tty=True)

    assert result.exit_code == 0, result.stderr
    assert any(CLAIMED["voucher_key"] in line for line in result.stdout.splitlines())


def test_a_query_calling_no_such_function_is_refused_before_sending(cli, rsps, monkeypatch):
    """Catches 'nosuchfn(@)' being found only after the request went out (exit 2 then reads
    as "nothing was sent", which was not so)."""
    spid_stubs.use_client_credentials(monkeypatch)

    result = cli("show", "64-HB2I-OPBL", "--query", "nosuchfn(@)")

    assert result.exit_code == 2
    assert "calls no JMESPath function nosuchfn" in result.stderr
    assert len(rsps.calls) == 0
