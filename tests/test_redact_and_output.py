"""Secrets masked everywhere, and output that neither a terminal nor a spreadsheet can abuse."""

from voucherctl.core import redact
from voucherctl.core.text import escape_control
from voucherctl.ui import output


def test_registered_secrets_are_masked_anywhere_in_text() -> None:
    redact.register("canary-sekrit-0001")

    assert redact.scrub("token=canary-sekrit-0001; bye") == "token=***; bye"


def test_secrets_are_masked_percent_encoded_too() -> None:
    redact.register("canary/sek+rit 0002")

    assert redact.scrub("next=%2Fx%3Ft%3Dcanary%2Fsek%2Brit%200002") == "next=%2Fx%3Ft%3D***"
    assert redact.scrub("t=canary%2Fsek%2Brit+0002") == "t=***"


def test_short_values_are_not_treated_as_secrets() -> None:
    redact.register("ab")

    assert redact.scrub("abc") == "abc"


def test_secret_fields_are_masked_in_form_and_json_bodies() -> None:
    assert redact.body("grant_type=x&client_secret=s3&password=p", "") == (
        "grant_type=x&client_secret=%2A%2A%2A&password=%2A%2A%2A"
    )
    assert redact.body(
        '{"access_token": "abc", "n": {"session_key": "k"}}', "application/json"
    ) == ('{"access_token": "***", "n": {"session_key": "***"}}')


def test_authorization_headers_keep_only_the_scheme() -> None:
    assert redact.headers({"Authorization": "Bearer xyz", "X-Spaaza-Session-Key": "k"}) == {
        "Authorization": "Bearer ***",
        "X-Spaaza-Session-Key": "***",
    }


def test_control_characters_are_escaped() -> None:
    assert escape_control("a\x1b[2Jb\x9bc\n") == "a\\x1b[2Jb\\x9bc\\n"
    assert escape_control("line\nnext", keep_newlines=True) == "line\nnext"


def test_json_escapes_what_json_dumps_leaves_raw() -> None:
    assert output.to_json({"t": "a\x7fb\u2028"}) == '{"t": "a\\u007fb\\u2028"}'


def test_csv_cells_never_start_a_formula() -> None:
    assert output.csv_cell("=cmd|' /C calc'!A0") == "'=cmd|' /C calc'!A0"
    assert output.csv_cell("@SUM(1)") == "'@SUM(1)"
    assert output.csv_cell("-5") == "-5"
    assert output.csv_cell(None) == ""
