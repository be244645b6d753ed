"""``voucherctl claim`` and ``unclaim`` against strict Spaaza stubs."""

import json

import pytest

from tests import spaaza_stubs as stubs
from tests.conftest import fixture_json, table_lines

CLAIM = fixture_json("spaaza_claim_voucher.json")
KEY = CLAIM["results"]["voucher_key"]


@pytest.fixture(autouse=True)
def session(monkeypatch: pytest.MonkeyPatch) -> None:
    stubs.use_admin_session(monkeypatch)


def test_claim_sends_the_documented_form_and_prints_results(cli, rsps) -> None:
    stubs.claim_voucher(rsps, {"voucher_key": KEY, "user_id": "1107604", "chain_id": "3"}, CLAIM)

    result = cli("claim", "--voucher-key", KEY, "--user-id", "1107604")

    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == CLAIM["results"]
    assert result.stderr == ""


def test_claim_table_shows_status_amount_expiry_and_campaign(cli, rsps) -> None:
    stubs.claim_voucher(rsps, {"voucher_id": "35735", "user_id": "5", "chain_id": "3"}, CLAIM)

    result = cli("claim", "--voucher-id", "35735", "--user-id", "5", tty=True)

    lines = table_lines(result.stdout)
    assert "Status claimed" in lines
    assert "Lock not locked" in lines
    assert "Amount €5" in lines
    assert "Expires 2050-01-01 00:00:00" in lines  # the zone is said once, above the view
    assert lines[0].endswith("(times: UTC)")
    assert not any(line.endswith(" UTC") and "times:" not in line for line in lines)
    assert "Campaign Earn €5 on signup (136)" in lines


@pytest.mark.parametrize(
    ("option", "value", "field"),
    [
        ("--member-number", "M-77", "member_number"),
        ("--username", "jane@example.com", "username"),
        ("--auth-point-id", "ext-1", "authentication_point_identifier"),
        ("--aux-id", "aux-9", "auxiliary_identifier"),
    ],
)
def test_each_user_option_is_sent_under_the_api_name(cli, rsps, option, value, field) -> None:
    stubs.claim_voucher(
        rsps, {"third_party_id": "3914599659", field: value, "chain_id": "3"}, CLAIM
    )

    assert cli("claim", "--third-party-id", "3914599659", option, value).exit_code == 0


def test_chain_id_option_wins_over_the_variable(cli, rsps) -> None:
    stubs.claim_voucher(rsps, {"voucher_id": "35735", "user_id": "5", "chain_id": "9"}, CLAIM)

    assert cli("claim", "--voucher-id", "35735", "--user-id", "5", "--chain-id", "9").exit_code == 0


def test_chain_id_falls_back_to_the_profile(cli, rsps, monkeypatch, isolated_environment) -> None:
    monkeypatch.delenv("VOUCHERCTL_SPAAZA_CHAIN_ID")
    config = isolated_environment / "config" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text('[profiles.default.spaaza]\nchain_id = "12"\n')
    stubs.claim_voucher(rsps, {"voucher_id": "35735", "user_id": "5", "chain_id": "12"}, CLAIM)

    assert cli("claim", "--voucher-id", "35735", "--user-id", "5").exit_code == 0


def test_app_hostname_is_sent_exactly_when_configured(cli, rsps, monkeypatch) -> None:
    monkeypatch.delenv("VOUCHERCTL_SPAAZA_USER_ID")
    monkeypatch.delenv("VOUCHERCTL_SPAAZA_SESSION_KEY")
    monkeypatch.setenv("VOUCHERCTL_SPAAZA_TOKEN", stubs.PRIVILEGED_TOKEN)
    monkeypatch.setenv("VOUCHERCTL_SPAAZA_APP_HOSTNAME", "shop.example.com")
    headers = {
        "Authorization": f"Bearer {stubs.PRIVILEGED_TOKEN}",
        "X-Spaaza-API-Version": "1.6.3",
        "X-Spaaza-MyPrice-App-Hostname": "shop.example.com",
    }
    stubs.claim_voucher(
        rsps,
        {"voucher_id": "35735", "user_id": "5", "chain_id": "3"},
        CLAIM,
        headers=headers,
        absent=("X-Spaaza-Session-Key",),
    )

    assert cli("claim", "--voucher-id", "35735", "--user-id", "5").exit_code == 0


def test_api_version_can_be_overridden(cli, rsps, monkeypatch) -> None:
    monkeypatch.setenv("VOUCHERCTL_SPAAZA_API_VERSION", "1.5.3")
    stubs.claim_voucher(
        rsps,
        {"voucher_id": "1", "user_id": "5", "chain_id": "3"},
        CLAIM,
        headers={**stubs.session_headers(), "X-Spaaza-API-Version": "1.5.3"},
    )

    assert cli("claim", "--voucher-id", "1", "--user-id", "5").exit_code == 0


@pytest.mark.parametrize("quiet", [False, True])
def test_warnings_go_to_stderr_unless_quiet(cli, rsps, quiet) -> None:
    stubs.claim_voucher(
        rsps,
        {"voucher_id": "1", "user_id": "5", "chain_id": "3"},
        stubs.ok(CLAIM["results"], warnings=[{"description": "campaign ends tomorrow"}]),
    )

    result = cli("claim", "--voucher-id", "1", "--user-id", "5", *(["-q"] if quiet else []))

    assert result.exit_code == 0
    expected = "voucherctl: warning: claim voucher 1: Spaaza warns: campaign ends tomorrow\n"
    assert result.stderr == ("" if quiet else expected)


@pytest.mark.parametrize(
    ("status", "name", "code"),
    [
        (404, "voucher_not_found", 3),
        (404, "user_not_found", 3),
        (401, "no_valid_session", 4),
        (403, "permission_denied_or_non_existent", 4),
        (500, "permission_denied_or_non_existent", 4),  # as Spaaza sends it: not 7
        (400, "no_myprice_app", 4),
        (409, "voucher_already_claimed", 5),
        (400, "something_new", 5),
        (429, "something_new", 6),
        (503, "something_new", 7),
    ],
)
def test_error_names_map_to_exit_codes(cli, rsps, status, name, code, no_waiting) -> None:
    for _ in range(4 if code == 6 else 1):
        stubs.claim_voucher(
            rsps,
            {"voucher_id": "1", "user_id": "5", "chain_id": "3"},
            stubs.error(9, name, "Nope"),
            status=status,
        )

    result = cli("claim", "--voucher-id", "1", "--user-id", "5")

    assert result.exit_code == code
    assert result.stdout == ""
    if code != 6:
        assert result.stderr.startswith(f"voucherctl: error: claim voucher 1: HTTP {status}: Nope")


def test_an_expired_session_says_how_to_renew(cli, rsps) -> None:
    stubs.claim_voucher(
        rsps,
        {"voucher_id": "1", "user_id": "5", "chain_id": "3"},
        stubs.error(6, "no_valid_session", "Session expired"),
        status=401,
    )

    result = cli("claim", "--voucher-id", "1", "--user-id", "5")

    assert result.exit_code == 4
    assert "voucherctl auth login spaaza" in result.stderr


@pytest.mark.parametrize(
    ("body", "code"),
    [("<html>502 Bad Gateway</html>", 7), ("", 7), ('{"result": {"code"', 7), ("[1, 2]", 7)],
)
def test_answers_that_are_not_the_envelope_are_clean_failures(cli, rsps, body, code) -> None:
    stubs.claim_voucher(rsps, {"voucher_id": "1", "user_id": "5", "chain_id": "3"}, body)

    result = cli("claim", "--voucher-id", "1", "--user-id", "5")

    assert result.exit_code == code
    assert "Traceback" not in result.stderr
    assert "unreadable" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            [],
            "name the voucher with exactly one of --voucher-key, --voucher-id or --third-party-id",
        ),
        (["--voucher-id", "1", "--voucher-key", "k"], "exactly one of"),
        (["--voucher-id", "1", "--user-id", "2", "--username", "a@b.c"], "at most one of"),
        (["--voucher-id", "x"], "--voucher-id must be a positive whole number"),
        (["--voucher-id", "1", "--username", "nobody"], "--username must be an email address"),
        (["--voucher-key", "a b"], "--voucher-key must not contain white space"),
        (["--voucher-id", "1", "--chain-id", "-1"], "--chain-id must be a positive whole number"),
    ],
)
def test_usage_errors_send_nothing(cli, rsps, args, message) -> None:
    result = cli("claim", *args)

    assert result.exit_code == 2
    assert message in result.stderr


def test_unclaim_sends_the_same_identifiers(cli, rsps) -> None:
    generated = {
        **CLAIM["results"],
        "voucher_status": "generated",
        "result_type": "unclaim-voucher",
    }
    stubs.unclaim_voucher(
        rsps, {"voucher_key": KEY, "user_id": "1107604", "chain_id": "3"}, stubs.ok(generated)
    )

    result = cli("unclaim", "--voucher-key", KEY, "--user-id", "1107604")

    assert result.exit_code == 0
    assert json.loads(result.stdout)["voucher_status"] == "generated"


def test_no_spaaza_credentials_is_exit_4(cli, rsps, monkeypatch) -> None:
    monkeypatch.delenv("VOUCHERCTL_SPAAZA_SESSION_KEY")

    result = cli("claim", "--voucher-id", "1", "--user-id", "5")

    assert result.exit_code == 4
    assert "VOUCHERCTL_SPAAZA_SESSION_KEY is not set" in result.stderr
