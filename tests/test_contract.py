"""The contract scripts and CI rely on (docs/contract.md#for-scripts): exit codes that cannot
pass by mistake, one error object everywhere, named refusals. Each test names the bug it catches."""

import json
from pathlib import Path

import pytest

from tests import schema_check, spaaza_stubs, spid_stubs
from tests.conftest import fixture_json, table_lines


def session_works(rsps, monkeypatch) -> None:
    spaaza_stubs.use_admin_session(monkeypatch)
    spaaza_stubs.get_user_vouchers(rsps, {"user_id": "1001", "chain_id": "3"}, spaaza_stubs.ok([]))


def error_of(stderr: str) -> dict:
    [line] = stderr.splitlines()
    return json.loads(line)["error"]


# --- auth status: exit 0 only when every entry shown works ---------------------------------


@pytest.mark.parametrize("url", ["ftp://x", "http://example.invalid"])
def test_auth_status_fails_when_one_configured_api_is_broken(cli, rsps, monkeypatch, url) -> None:
    """Catches the CI smoke check that passed (exit 0) with SPiD's host broken because Spaaza
    worked: the broken entry's own code is the exit code."""
    session_works(rsps, monkeypatch)
    monkeypatch.setenv("VOUCHERCTL_SPID_URL", url)

    result = cli("auth", "status", "-o", "json")

    spid, spaaza = json.loads(result.stdout)
    assert (spid["ok"], spaaza["ok"]) == (False, True)
    assert result.exit_code == spid["exit_code"] == 2


def test_auth_status_shows_only_the_configured_apis(cli, rsps, monkeypatch) -> None:
    """Catches an API nobody configured failing the check of the one in use (or being hidden
    while it counts)."""
    session_works(rsps, monkeypatch)

    result = cli("auth", "status", "-o", "json")

    assert result.exit_code == 0
    assert [entry["api"] for entry in json.loads(result.stdout)] == ["spaaza"]


def test_auth_status_names_one_api(cli, rsps, monkeypatch) -> None:
    """Catches 'auth status spaaza' being a usage error though 'auth logout spaaza' works, and
    a named API's check running the other one's (its stub would go unused)."""
    session_works(rsps, monkeypatch)
    monkeypatch.setenv("VOUCHERCTL_SPID_URL", "ftp://x")  # broken, but not asked about

    result = cli("auth", "status", "spaaza", "-o", "json")

    assert result.exit_code == 0, result.stderr
    assert [entry["api"] for entry in json.loads(result.stdout)] == ["spaaza"]


def test_auth_status_of_an_api_not_configured_is_a_named_usage_error(cli, rsps, monkeypatch):
    """Catches 'auth status spid' passing, or failing as credentials, when SPiD is not set up
    at all: a CI check asking for SPiD must not be satisfied by nothing."""
    spaaza_stubs.use_admin_session(monkeypatch)  # Spaaza is set up; SPiD is not

    result = cli("auth", "status", "spid", "-o", "json")

    assert result.exit_code == 2 and result.stdout == ""
    error = error_of(result.stderr)
    assert error["api_error"] == "not_configured"
    assert "voucherctl auth login spid" in error["message"]


# --- doctor --require and its JSON ------------------------------------------------------------


def test_doctor_require_makes_an_api_not_configured_a_failure(cli, rsps, monkeypatch) -> None:
    """Catches --require being ignored: a smoke check for both APIs passing with one."""
    session_works(rsps, monkeypatch)

    result = cli("doctor", "--require", "spid,spaaza", "-o", "json")

    report = json.loads(result.stdout)
    assert result.exit_code == 2
    assert report["ok"] is False and report["exit_code"] == 2
    [spid] = [check for check in report["checks"] if check["name"] == "spid"]
    assert spid["ok"] is False and "--require" in spid["detail"] and spid["exit_code"] == 2


def test_doctor_json_says_the_overall_result(cli, rsps, monkeypatch) -> None:
    """Catches doctor -o json with no overall result: a script had to scan the checks."""
    session_works(rsps, monkeypatch)

    result = cli("doctor", "--require", "spaaza", "-o", "json")

    report = json.loads(result.stdout)
    assert result.exit_code == 0, result.stdout
    assert (report["ok"], report["exit_code"]) == (True, 0)
    assert all(check["ok"] and check["exit_code"] == 0 for check in report["checks"])


@pytest.mark.parametrize("require", ["spid,paypal", ",", "SPAAZA "])
def test_doctor_require_names_only_the_apis(cli, rsps, require) -> None:
    result = cli("doctor", "--require", require, "-o", "json")

    if require == "SPAAZA ":  # case and spaces are forgiven
        assert result.exit_code == 2 and json.loads(result.stdout)["ok"] is False
    else:
        assert result.exit_code == 2 and result.stdout == ""
        assert "--require" in error_of(result.stderr)["message"]


# --- one error object: the parser's usage errors -----------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ("show", "X", "--bogus"),  # a mistyped option
        ("show",),  # a missing argument
        ("show", "X", "--timeout", "soon"),  # a bad value
        ("auth", "status", "paypal"),  # a bad choice, in a command group
        ("--bogus", "show", "X"),  # before the command
    ],
)
@pytest.mark.parametrize("how", ["-o json", "-ojsonl", "--output=json", "env"])
def test_the_parsers_usage_errors_are_the_error_object(cli, monkeypatch, args, how) -> None:
    """Catches a mistyped option under -o json printing Typer's usage text, which jq cannot
    read; and a parser error being given an api_error name of voucherctl's own refusals."""
    if how == "env":
        monkeypatch.setenv("VOUCHERCTL_OUTPUT", "json")
        given = list(args)
    else:
        given = [*args, *how.split()]

    result = cli(*given)

    assert result.exit_code == 2 and result.stdout == ""
    error = error_of(result.stderr)
    assert error["exit_code"] == 2
    assert error["http_status"] is None and error["api_error"] is None
    assert "--help" in error["message"]


def test_the_parsers_usage_errors_stay_text_without_json(cli) -> None:
    """Catches the error object leaking into a human's terminal: without -o json, Typer's
    usage lines are kept."""
    result = cli("show", "X", "--bogus", "-o", "table")

    assert result.exit_code == 2
    assert "No such option: --bogus" in result.stderr
    assert "Usage: voucherctl show" in result.stderr


# --- one error object: bulk rows ---------------------------------------------------------------


def test_a_bulk_rows_error_is_the_error_object(cli, rsps, monkeypatch, tmp_path) -> None:
    """Catches a row's error as a string (jq '.error.message' failed: 'Cannot index string'),
    and the API's status and error name lost on the way to the row."""
    spaaza_stubs.use_admin_session(monkeypatch)
    spaaza_stubs.claim_voucher(
        rsps,
        {"voucher_id": "5", "user_id": "7", "chain_id": "3"},
        spaaza_stubs.error(300, "voucher_already_claimed", "Already claimed"),
        status=409,
    )
    source = tmp_path / "rows.csv"
    source.write_text("voucher_id,user_id\n5,7\n")

    result = cli("claim", "--from", str(source), "-o", "jsonl")

    assert result.exit_code == 8
    [row] = [json.loads(line) for line in result.stdout.splitlines()]
    assert row["error"] == {
        "message": "claim voucher 5: HTTP 409: Already claimed (voucher_already_claimed)",
        "exit_code": 5,
        "http_status": 409,
        "api_error": "voucher_already_claimed",
    }


def test_an_invalid_rows_error_in_a_dry_run_is_the_error_object(cli, tmp_path) -> None:
    source = tmp_path / "rows.csv"
    source.write_text("userId,voucherGroupId\nabc,47\n42,47\n")

    result = cli("handout", "--from", str(source), "--dry-run", "--skip-invalid", "-o", "jsonl")

    bad, good = [json.loads(line) for line in result.stdout.splitlines()]
    assert good["error"] is None
    assert bad["error"]["exit_code"] == 2 and bad["error"]["http_status"] is None
    assert bad["error"]["message"].startswith("userId must be a positive whole number")


# --- voucherctl's own refusals are named ------------------------------------------------------


def test_a_finished_run_is_named_not_a_typo(cli, rsps, monkeypatch, tmp_path) -> None:
    """Catches 'run already finished' reported like a mistyped option (api_error null): a cron
    alert could not tell 'nothing to do' from 'the script is broken'."""
    spid_stubs.use_client_credentials(monkeypatch)
    source = tmp_path / "users.csv"
    source.write_text("userId,voucherGroupId\n42,47\n")
    spid_stubs.oauth_token(rsps)
    spid_stubs.voucher_handout(rsps, "42", "47")
    assert cli("handout", "--from", str(source), "-o", "jsonl").exit_code == 0

    again = cli("handout", "--from", str(source), "-o", "jsonl")  # no stub: nothing is sent

    assert again.exit_code == 2 and again.stdout == ""
    assert error_of(again.stderr)["api_error"] == "run_finished"


def test_an_unknown_profile_is_named(cli) -> None:
    result = cli("show", "X", "--profile", "nosuch", "-o", "json")

    assert result.exit_code == 2
    assert error_of(result.stderr)["api_error"] == "profile_unknown"


def test_missing_credentials_are_named(cli, monkeypatch) -> None:
    monkeypatch.setenv("VOUCHERCTL_SPID_URL", spid_stubs.SPID)

    result = cli("show", "X", "-o", "json")

    assert result.exit_code == 4
    assert error_of(result.stderr)["api_error"] == "credentials_missing"


def test_every_refusal_name_is_documented() -> None:
    """Catches a refusal added with a name scripts cannot look up."""
    import importlib
    import pkgutil

    import voucherctl
    from voucherctl.core.errors import VoucherctlError

    for module in pkgutil.walk_packages(voucherctl.__path__, "voucherctl."):
        if ".sandbox" not in module.name and not module.name.endswith("__main__"):
            importlib.import_module(module.name)  # every module that may declare a refusal

    contract = (Path(__file__).parent.parent / "docs" / "contract.md").read_text()
    assert VoucherctlError.own_names
    for name in VoucherctlError.own_names:
        assert f"`{name}`" in contract, name


# --- --query with -o table --------------------------------------------------------------------


def groups_queried(cli, rsps, monkeypatch, query: str, *extra: str):
    group = fixture_json("spid_get_voucher.json")["group"]
    spid_stubs.use_client_credentials(monkeypatch)
    spid_stubs.oauth_token(rsps)
    spid_stubs.voucher_groups(rsps, [group, {**group, "voucherGroupId": "9", "title": "Summer"}])
    return cli("groups", "--query", query, *extra)


def test_a_queried_list_of_objects_is_a_table_of_their_keys(cli, rsps, monkeypatch) -> None:
    """Catches --query silently dropping -o table for one line of JSON."""
    query = "[].{id: voucherGroupId, name: title}"
    result = groups_queried(cli, rsps, monkeypatch, query, "-o", "table")

    lines = table_lines(result.stdout)
    assert result.exit_code == 0
    assert lines[0] == "id name"
    assert lines[2:] == ["47 Freebies for everyone!", "9 Summer"]


def test_a_queried_object_is_key_value_rows(cli, rsps, monkeypatch) -> None:
    query = "[1].{id: voucherGroupId, name: title}"
    result = groups_queried(cli, rsps, monkeypatch, query, "-o", "table")

    assert table_lines(result.stdout) == ["id 9", "name Summer"]


@pytest.mark.parametrize(
    ("query", "cells"), [("length(@)", ["2"]), ("[].voucherGroupId", ["47", "9"]), ("[5]", [])]
)
def test_a_queried_scalar_is_a_one_cell_table(cli, rsps, monkeypatch, query, cells) -> None:
    result = groups_queried(cli, rsps, monkeypatch, query, "-o", "table")

    assert result.exit_code == 0
    assert table_lines(result.stdout) == cells
    assert "[" not in result.stdout and '"' not in result.stdout


def test_a_query_without_table_is_still_json(cli, rsps, monkeypatch) -> None:
    result = groups_queried(cli, rsps, monkeypatch, "[].voucherGroupId")

    assert json.loads(result.stdout) == ["47", "9"]


# --- decided: errors when JSON is only the piped default; skipped rows on a re-run ------------


def test_piped_without_o_an_error_is_a_text_line_and_stdout_stays_empty(cli, rsps, monkeypatch):
    """Pins the decision (docs/contract.md#errors): `title=$(voucherctl group 1 --query title)`
    gets nothing on stdout and the exit code; stderr, read by a person or a cron mail, gets
    one text line. A script that parses errors asks for them: -o json or VOUCHERCTL_OUTPUT."""
    spid_stubs.use_client_credentials(monkeypatch)
    spid_stubs.oauth_token(rsps)
    rsps.get(
        f"{spid_stubs.SPID}/api/2/vouchers/group/1",
        json={"error": {"code": 404, "type": "ApiException", "description": "No such group"}},
        status=404,
    )

    piped = cli("group", "1", "--query", "title")

    assert piped.exit_code == 3 and piped.stdout == ""
    assert piped.stderr.startswith("voucherctl: error: ") and len(piped.stderr.splitlines()) == 1

    monkeypatch.setenv("VOUCHERCTL_OUTPUT", "json")
    spid_stubs.oauth_token(rsps)
    rsps.get(f"{spid_stubs.SPID}/api/2/vouchers/group/1", json={}, status=404)
    asked = cli("group", "1", "--query", "title")

    assert asked.exit_code == 3 and asked.stdout == ""
    assert error_of(asked.stderr)["http_status"] == 404


def rerun_with_one_new_row(cli, rsps, monkeypatch, tmp_path, *, tty: bool):
    spid_stubs.use_client_credentials(monkeypatch)
    source = tmp_path / "users.csv"
    journal = str(tmp_path / "run.jsonl")
    source.write_text("userId,voucherGroupId\n42,47\n43,47\n")
    spid_stubs.oauth_token(rsps)
    spid_stubs.voucher_handout(rsps, "42", "47")
    spid_stubs.voucher_handout(rsps, "43", "47")
    assert cli("handout", "--from", str(source), "--journal", journal).exit_code == 0

    source.write_text("userId,voucherGroupId\n42,47\n43,47\n44,47\n")
    spid_stubs.oauth_token(rsps)
    spid_stubs.voucher_handout(rsps, "44", "47")  # only the new row is sent
    return cli("handout", "--from", str(source), "--journal", journal, tty=tty)


def test_a_rerun_prints_every_row_to_scripts_skipped_ones_too(
    cli, rsps, monkeypatch, tmp_path
) -> None:
    """Pins the decision (docs/contract.md#row-records-and-summary): a script counting rows
    (wc -l, jq) sees one line per row of the file, the skipped ones marked so that
    `jq 'select(.outcome != "skipped")'` keeps the new ones."""
    result = rerun_with_one_new_row(cli, rsps, monkeypatch, tmp_path, tty=False)

    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert result.exit_code == 0
    assert sorted((row["line"], row["outcome"]) for row in rows) == [
        (2, "skipped"),
        (3, "skipped"),
        (4, "ok"),
    ]
    assert all(row["error"] is None for row in rows)
    assert "2 skipped" in result.stderr


def test_a_rerun_on_a_terminal_lists_no_skipped_row(cli, rsps, monkeypatch, tmp_path) -> None:
    """Catches a terminal flooded with the rows an earlier run did (497 lines for 3 new ones):
    the table lists only rows that need attention; the summary counts the skipped."""
    result = rerun_with_one_new_row(cli, rsps, monkeypatch, tmp_path, tty=True)

    assert result.exit_code == 0
    assert "skipped" not in result.stdout
    assert "1 ok, 2 skipped" in result.stderr


# --- published schemas -------------------------------------------------------------------------

ROOT = Path(__file__).resolve().parents[1]


def test_every_command_that_prints_json_has_a_schema() -> None:
    """Catches a command added (or renamed) without its published schema."""
    from voucherctl import schemas
    from voucherctl.commands import SPECS

    commands = {"-".join(spec.path) for spec in SPECS}
    assert commands - schema_check.NOT_JSON <= set(schemas.names())
    assert {"row", "error", "dry-run", "dry-run-row"} <= set(schemas.names())


@pytest.mark.parametrize("name", sorted(p.stem for p in (ROOT / "docs" / "schemas").glob("*")))
def test_schema_prints_the_published_file(cli, name) -> None:
    """Catches docs/schemas/ and what `voucherctl schema` prints drifting apart, and a schema
    that is not a valid draft 2020-12 schema."""
    from jsonschema import Draft202012Validator

    words = name.split("-", 1) if name.startswith(("auth-", "sandbox-")) else [name]
    result = cli("schema", *words)  # auth status: as typed after the command

    published = (ROOT / "docs" / "schemas" / f"{name}.json").read_text()
    assert result.exit_code == 0 and result.stdout == published
    schema = json.loads(published)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(schema)


def test_an_unknown_schema_is_a_usage_error_listing_the_names(cli) -> None:
    result = cli("schema", "nosuch", "-o", "json")

    assert result.exit_code == 2 and result.stdout == ""
    message = error_of(result.stderr)["message"]
    assert "nosuch" in message and "auth-status" in message and "row" in message


def test_the_schema_check_catches_a_changed_shape() -> None:
    """Catches a checker that passes anything: a row whose error is a string breaks `row`."""
    from tests.schema_check import check

    row = {"line": 2, "input": {}, "outcome": "failed", "exit_code": 5, "result": None}
    check(
        "row",
        {**row, "error": {"message": "m", "exit_code": 5, "http_status": None, "api_error": None}},
        "a row",
    )
    with pytest.raises(AssertionError, match="breaks schema 'row'"):
        check("row", {**row, "error": "m"}, "a row")


def test_audit_csv_columns_do_not_depend_on_the_records(cli) -> None:
    """Catches audit -o csv whose header changed with the records present (flattened
    identifiers): a spreadsheet import broke from one month to the next."""
    empty = cli("audit", "-o", "csv")

    assert empty.exit_code == 0
    assert empty.stdout == (
        "time,change,user,machine,profile,host,command,identifiers,outcome,exit_code,error\n"
    )
