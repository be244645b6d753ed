"""Keyring entries are named by API, host and client or user id, never by profile alone: one
configuration never reads, replaces or removes another's secrets, and entries stored under the
old profile names are still found, then moved."""

import base64
import json
import time
from pathlib import Path

import keyring
import pytest
from responses import matchers

from tests import spaaza_stubs, spid_stubs
from tests.conftest import fixture_json

INSECURE = "--insecure-storage"  # the file_keyring fixture keeps secrets in a plain file
OTHER_SPID = "https://spid-other.test"
OTHER_CLIENT = "client-other"
OTHER_SECRET = "canary-other-secret-0002"
OTHER_TOKEN = "canary-other-token-0002"
OWNER = f"{spid_stubs.CLIENT_ID}@{spid_stubs.SPID}"
SAMPLE = fixture_json("spid_get_voucher.json")
CLAIM = fixture_json("spaaza_claim_voucher.json")
SPID_PROFILE = f"""
[profiles.default.spid]
base_url = "{spid_stubs.SPID}"
client_id = "{spid_stubs.CLIENT_ID}"
"""
SPAAZA_PROFILE = f"""
[profiles.default.spaaza]
base_url = "{spaaza_stubs.SPAAZA}"
chain_id = "3"
"""


@pytest.fixture(autouse=True)
def keyring_backend(file_keyring) -> None:
    pass


def stored(name: str) -> str | None:
    return keyring.get_password("voucherctl", name)


def store(name: str, value: str) -> None:
    keyring.set_password("voucherctl", name, value)


def spid_entry(what: str, host: str = spid_stubs.SPID, client: str = spid_stubs.CLIENT_ID) -> str:
    return f"spid/{host}/{client}/{what}"


def write_config(home: Path, text: str) -> None:
    folder = home / "config"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.toml").write_text(text)


def token_record(token: str, owner: str) -> str:
    return json.dumps({"owner": owner, "access_token": token, "expires_at": time.time() + 3600})


def spid_login(cli, host: str, client: str, secret: str) -> None:
    args = ("auth", "login", "spid", "--host", host, "--client-id", client, INSECURE)
    result = cli(*args, input=secret + "\n")
    assert result.exit_code == 0, result.stderr


def other_oauth_token(rsps) -> None:
    basic = base64.b64encode(f"{OTHER_CLIENT}:{OTHER_SECRET}".encode()).decode()
    rsps.post(
        f"{OTHER_SPID}/oauth/token",
        json={"access_token": OTHER_TOKEN, "expires_in": 900},
        match=[matchers.header_matcher({"Authorization": f"Basic {basic}"})],
    )


def test_two_configurations_with_the_same_profile_name_keep_their_secrets_apart(
    cli, rsps, monkeypatch, tmp_path
) -> None:
    # Entries were named PROFILE/spid/...: the second login replaced the first configuration's
    # secret (which it then sent, with its own client id, to its own host) and the second's
    # logout removed what the first had stored.
    first, second = tmp_path / "first", tmp_path / "second"
    monkeypatch.setenv("VOUCHERCTL_CONFIG_DIR", str(first))
    spid_stubs.oauth_token(rsps)
    spid_login(cli, spid_stubs.SPID, spid_stubs.CLIENT_ID, spid_stubs.CLIENT_SECRET)
    monkeypatch.setenv("VOUCHERCTL_CONFIG_DIR", str(second))
    other_oauth_token(rsps)
    spid_login(cli, OTHER_SPID, OTHER_CLIENT, OTHER_SECRET)

    assert cli("auth", "logout").exit_code == 0

    monkeypatch.setenv("VOUCHERCTL_CONFIG_DIR", str(first))
    spid_stubs.get_voucher(rsps, "X", SAMPLE)  # the first's cached token: no token request
    assert cli("show", "X").exit_code == 0
    assert stored(spid_entry("client_secret")) == spid_stubs.CLIENT_SECRET
    assert stored(spid_entry("client_secret", OTHER_SPID, OTHER_CLIENT)) is None
    assert stored(spid_entry("token", OTHER_SPID, OTHER_CLIENT)) is None


NOT_AT_OTHER_HOST = (
    f"voucherctl: error: no secret for SPiD client {spid_stubs.CLIENT_ID} at {OTHER_SPID} in the "
    "OS keyring (profile 'default'); run 'voucherctl auth login spid' or set "
    "VOUCHERCTL_SPID_TOKEN, or VOUCHERCTL_SPID_CLIENT_ID and VOUCHERCTL_SPID_CLIENT_SECRET\n"
)


def test_credentials_stored_for_one_host_are_never_sent_to_another(cli, rsps, monkeypatch) -> None:
    # The entries named only the profile, so with VOUCHERCTL_SPID_URL pointing elsewhere the
    # token cached for the profile's host (or its client secret) went to the other host.
    spid_stubs.oauth_token(rsps)
    spid_login(cli, spid_stubs.SPID, spid_stubs.CLIENT_ID, spid_stubs.CLIENT_SECRET)
    monkeypatch.setenv("VOUCHERCTL_SPID_URL", OTHER_SPID)

    result = cli("show", "X")  # no stub for the other host: any request fails the test

    assert result.exit_code == 4
    assert result.stderr == NOT_AT_OTHER_HOST


def test_an_old_named_secret_is_not_taken_to_another_host(
    cli, rsps, monkeypatch, isolated_environment
) -> None:
    write_config(isolated_environment, SPID_PROFILE)
    store("default/spid/client_secret", spid_stubs.CLIENT_SECRET)
    monkeypatch.setenv("VOUCHERCTL_SPID_URL", OTHER_SPID)

    result = cli("show", "X")

    assert result.exit_code == 4
    assert result.stderr == NOT_AT_OTHER_HOST
    assert stored("default/spid/client_secret") == spid_stubs.CLIENT_SECRET


def test_old_named_spid_entries_are_found_then_moved(cli, rsps, isolated_environment) -> None:
    write_config(isolated_environment, SPID_PROFILE)
    store("default/spid/client_secret", spid_stubs.CLIENT_SECRET)
    store("default/spid/token", token_record(spid_stubs.TOKEN, OWNER))
    spid_stubs.get_voucher(rsps, "X", SAMPLE)  # the old cached token still serves

    result = cli("show", "X")

    assert result.exit_code == 0, result.stderr
    assert stored(spid_entry("client_secret")) == spid_stubs.CLIENT_SECRET
    assert json.loads(stored(spid_entry("token")) or "{}")["access_token"] == spid_stubs.TOKEN
    assert stored("default/spid/client_secret") is None
    assert stored("default/spid/token") is None


def test_an_old_named_secret_cached_beside_another_clients_token_is_not_taken(
    cli, rsps, isolated_environment
) -> None:
    # Another configuration with a profile of the same name logged in last: the old entries
    # are its, and this one must neither send them nor move them away.
    write_config(isolated_environment, SPID_PROFILE)
    store("default/spid/client_secret", OTHER_SECRET)
    store("default/spid/token", token_record(OTHER_TOKEN, f"{OTHER_CLIENT}@{OTHER_SPID}"))

    show = cli("show", "X")
    logout = cli("auth", "logout")

    assert show.exit_code == 4
    assert "no secret for SPiD client client-123" in show.stderr
    assert logout.exit_code == 0
    assert stored("default/spid/client_secret") == OTHER_SECRET
    assert stored(spid_entry("client_secret")) is None


def test_logout_removes_old_named_entries_that_are_the_profiles(cli, isolated_environment):
    write_config(isolated_environment, SPID_PROFILE)
    store("default/spid/client_secret", spid_stubs.CLIENT_SECRET)
    store("default/spid/token", token_record(spid_stubs.TOKEN, OWNER))

    result = cli("auth", "logout", "spid")

    assert result.exit_code == 0
    assert result.stderr == "Removed the SPiD credentials of profile 'default'.\n"
    assert stored("default/spid/client_secret") is None
    assert stored("default/spid/token") is None


OTHER_SPAAZA = "https://spaaza-other.test"
OLD_SESSION = json.dumps(
    {"user_id": "1001", "session_key": spaaza_stubs.SESSION_KEY, "expires": None}
)


@pytest.mark.parametrize(
    ("old_name", "value", "user"),
    [
        ("default/spaaza/session", OLD_SESSION, 'user_id = "1001"\n'),
        ("default/spaaza/token", spaaza_stubs.PRIVILEGED_TOKEN, ""),
    ],
    ids=["session", "token"],
)
def test_an_old_named_spaaza_entry_is_never_sent_to_any_host(
    cli, rsps, isolated_environment, old_name, value, user
) -> None:
    """Catches the old-named Spaaza session or token (which records no host) sent to whatever
    host this configuration's profile 'default' names (another configuration's 'default', at
    another host, may have stored it), and then moved to that host's names."""
    write_config(isolated_environment, SPAAZA_PROFILE.replace(spaaza_stubs.SPAAZA, OTHER_SPAAZA))
    with open(isolated_environment / "config" / "config.toml", "a") as config_file:
        config_file.write(user)
    store(old_name, value)

    claim = cli("claim", "--voucher-id", "35735", "--user-id", "5")
    logout = cli("auth", "logout", "spaaza")

    assert claim.exit_code == 4
    assert claim.stderr == (
        f"voucherctl: error: the Spaaza entry {old_name!r} that an earlier voucherctl stored "
        f"for profile 'default' does not record its host, so it is not sent to {OTHER_SPAAZA} "
        "or anywhere; run 'voucherctl auth login spaaza' or set VOUCHERCTL_SPAAZA_TOKEN, or "
        "VOUCHERCTL_SPAAZA_USER_ID and VOUCHERCTL_SPAAZA_SESSION_KEY\n"
    )
    assert len(rsps.calls) == 0
    assert logout.exit_code == 0
    assert stored(old_name) == value  # left for whichever configuration stored it
    other = "1001/session" if user else "token"
    assert stored(f"spaaza/{OTHER_SPAAZA}/{other}") is None


def test_an_old_named_session_of_another_user_is_not_taken(cli, rsps, isolated_environment):
    write_config(isolated_environment, SPAAZA_PROFILE + 'user_id = "1001"\n')
    other = {"user_id": "2002", "session_key": "canary-other-session-0002", "expires": None}
    store("default/spaaza/session", json.dumps(other))

    result = cli("claim", "--voucher-id", "35735")

    assert result.exit_code == 4
    assert stored("default/spaaza/session") == json.dumps(other)


def test_logging_in_as_another_client_forgets_the_previous_one(
    cli, rsps, isolated_environment
) -> None:
    spid_stubs.oauth_token(rsps)
    spid_login(cli, spid_stubs.SPID, spid_stubs.CLIENT_ID, spid_stubs.CLIENT_SECRET)
    other_oauth_token(rsps)

    spid_login(cli, OTHER_SPID, OTHER_CLIENT, OTHER_SECRET)

    assert stored(spid_entry("client_secret")) is None
    assert stored(spid_entry("token")) is None
    assert stored(spid_entry("client_secret", OTHER_SPID, OTHER_CLIENT)) == OTHER_SECRET


def test_names_are_the_same_however_the_host_is_spelt() -> None:
    from voucherctl.secrets.entries import SpaazaEntry, SpidEntries

    assert (
        SpidEntries("HTTPS://Spid.Test/", "a/b").client_secret
        == "spid/https://spid.test/a%2Fb/client_secret"
    )
    assert (
        SpaazaEntry("https://spaaza.test/", "1001").name
        == "spaaza/https://spaaza.test/1001/session"
    )
    assert SpaazaEntry("https://spaaza.test", None).name == "spaaza/https://spaaza.test/token"


def test_client_ids_differing_only_in_case_keep_their_secrets_apart(cli, rsps) -> None:
    """Catches entry names that a case-folding backend (keyrings.alt's file) made one: a login
    as CLIENT-123 replaced client-123's secret, which was then sent for client-123."""
    from voucherctl.secrets.entries import SpidEntries

    lower = SpidEntries(spid_stubs.SPID, spid_stubs.CLIENT_ID)
    upper = SpidEntries(spid_stubs.SPID, spid_stubs.CLIENT_ID.upper())

    for what in ("client_secret", "token", "sign_secret"):
        assert getattr(lower, what).lower() != getattr(upper, what).lower()


def test_folders_voucherctl_makes_are_the_owners_alone_even_under_umask_000(tmp_path) -> None:
    """Catches parents of the data directory made 0777 under umask 000: another user could
    swap the private folder for one of their own."""
    import os
    import stat

    from voucherctl.storage.private_files import private_folder

    previous = os.umask(0)
    try:
        private_folder(tmp_path / "a" / "b" / "c")
    finally:
        os.umask(previous)
    for folder in (tmp_path / "a", tmp_path / "a" / "b", tmp_path / "a" / "b" / "c"):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder


def test_an_old_named_secret_with_nothing_to_say_whose_it_is_is_not_sent(
    cli, rsps, isolated_environment
) -> None:
    """Catches an old secret with no token beside it (which would say its client and host)
    being sent, as this profile's, to whatever host the profile names now."""
    write_config(isolated_environment, SPID_PROFILE)
    store("default/spid/client_secret", OTHER_SECRET)

    result = cli("show", "X")

    assert result.exit_code == 4
    assert "auth login spid" in result.stderr
    assert len(rsps.calls) == 0
    assert stored("default/spid/client_secret") == OTHER_SECRET  # left for its owner
