"""The parser's own usage errors about ``-o`` itself are the error object too, once JSON was
asked for by VOUCHERCTL_OUTPUT or an earlier ``-o json|jsonl`` (docs/contract.md#errors): a bad
or missing value for ``-o`` does not undo the JSON asked for before it."""

import json

import pytest

CASES = [
    ("show", "X", "-o", "xml"),  # a bad choice for -o itself
    ("show", "X", "-o"),  # -o with no value
    ("show", "X", "--output"),
]


def error_line(result) -> dict:
    [line] = result.stderr.splitlines()
    error: dict = json.loads(line)["error"]
    return error


@pytest.mark.parametrize("args", CASES)
def test_under_voucherctl_output_json_a_bad_o_is_the_error_object(cli, monkeypatch, args) -> None:
    """Catches `show X -o xml` and `show X -o` printing Typer's text under VOUCHERCTL_OUTPUT."""
    monkeypatch.setenv("VOUCHERCTL_OUTPUT", "json")

    result = cli(*args)

    assert (result.exit_code, result.stdout) == (2, "")
    error = error_line(result)
    assert (error["exit_code"], error["http_status"], error["api_error"]) == (2, None, None)
    assert "--help" in error["message"]


@pytest.mark.parametrize("first", [["-o", "json"], ["-o", "jsonl"], ["--output=json"]])
@pytest.mark.parametrize("args", [*CASES, ("-o", "xml", "show", "X")])
def test_after_an_earlier_o_json_a_bad_o_is_the_error_object(cli, first, args) -> None:
    """Catches `-o json -o xml show X`: the bad value replaced the json asked for before it."""
    result = cli(*first, *args)

    assert (result.exit_code, result.stdout) == (2, "")
    assert error_line(result)["exit_code"] == 2


@pytest.mark.parametrize("args", CASES)
def test_a_bad_o_stays_text_when_json_was_not_asked_for(cli, args) -> None:
    """Catches the object leaking out where no JSON was asked for, or after -o table."""
    for given in (args, ("-o", "table", *args)):
        result = cli(*given)

        assert result.exit_code == 2
        assert not result.stderr.startswith("{"), result.stderr
