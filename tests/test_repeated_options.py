"""An option given twice, by either of its names, with different values is refused (exit 2,
naming both values, nothing sent); the same value twice is one (docs/contract.md#common-options).
Strict `responses` stubs: a refusal registers none, so any request fails the test."""

import json

import pytest

import tests.spid_stubs as stubs


@pytest.mark.parametrize(
    ("args", "values"),
    [
        (("handout", "--user", "42", "--group", "47", "--group-id", "48"), ("47", "48")),
        (("handout", "--user", "42", "--user-id", "43", "--group", "47"), ("42", "43")),
        (("generate", "--group", "48", "--group-id", "49", "--amount", "1"), ("48", "49")),
        (("claim", "--user", "1107604", "--user-id", "1", "--voucher-id", "3"), ("1107604", "1")),
        (("redeem", "--user", "1107604", "--user-id", "1", "--voucher-id", "3"), ("1107604", "1")),
        (("vouchers", "--user", "1107604", "--user-id", "1"), ("1107604", "1")),
        (("claim", "--user", "1", "--voucher-id", "3", "--voucher-id", "4"), ("3", "4")),
        (("handout", "--user=1", "--user", "2", "--group", "47"), ("1", "2")),
        (("-o", "json", "--timeout", "5", "--timeout", "9", "show", "X"), ("5", "9")),
    ],
)
def test_an_option_given_twice_with_different_values_is_refused(cli, args, values) -> None:
    """Catches the last of two values taken silently (`handout --group 47 --group-id 48`
    handing out from 48), before or after the command, and a message that does not say which
    values disagree."""
    result = cli(*args, "-o", "json")

    assert (result.exit_code, result.stdout) == (2, ""), result.stderr
    message = json.loads(result.stderr)["error"]["message"]
    assert all(repr(value) in message for value in values), message


def test_the_same_value_twice_is_one(cli, monkeypatch, rsps) -> None:
    """Catches a refusal of `--user 42 --user-id 42`: the same request either way."""
    stubs.use_client_credentials(monkeypatch)
    result = cli(
        "handout", "--user", "42", "--user-id", "42", "--group", "47", "--group", "47",
        "--dry-run", "-o", "json",
    )  # fmt: skip

    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["form"] == {"userId": "42", "voucherGroupId": "47"}
