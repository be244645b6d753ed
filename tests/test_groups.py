"""``voucherctl groups`` and ``voucherctl group``."""

import json

import pytest

from tests import spid_stubs as stubs
from tests.conftest import fixture_json, table_lines

GROUP_47 = fixture_json("spid_get_voucher.json")["group"]
GROUP_9 = {**GROUP_47, "voucherGroupId": "9", "title": "Summer sale", "type": "5", "unique": "0"}


@pytest.fixture(autouse=True)
def credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    stubs.use_client_credentials(monkeypatch)


def test_groups_as_json(cli, rsps) -> None:
    stubs.oauth_token(rsps)
    stubs.voucher_groups(rsps, [GROUP_47, GROUP_9])

    result = cli("groups")

    assert json.loads(result.stdout) == [GROUP_47, GROUP_9]


def test_groups_table(cli, rsps) -> None:
    stubs.oauth_token(rsps)
    stubs.voucher_groups(rsps, [GROUP_47, GROUP_9])

    result = cli("groups", tty=True)

    lines = table_lines(result.stdout)
    assert lines[0] == "Voucher groups (times: no zone given)"  # said once, not on every time
    assert lines[1] == "Id Title Type Codes Created"
    assert lines[3] == "47 Freebies for everyone! payment method unique 2014-08-06 11:47:25"
    assert lines[4] == "9 Summer sale campaign shared 2014-08-06 11:47:25"


def test_filters_go_to_spid_in_its_names_and_title_is_exact(cli, rsps) -> None:
    """Catches --title filtering by substring in the client instead of sending SPiD's exact
    ``title``, and filters sent under other names than SPiD's."""
    stubs.oauth_token(rsps)
    wanted = {"title": "Summer sale", "type": "5", "campaignId": "12", "productId": "7"}
    stubs.voucher_groups(rsps, [GROUP_9], filters=wanted)

    result = cli(
        "groups", "--title", "Summer sale", "--type", "campaign", "--campaign-id", "12",
        "--product-id", "7", "-o", "jsonl",
    )  # fmt: skip

    assert result.exit_code == 0, result.stderr
    assert [json.loads(line) for line in result.stdout.splitlines()] == [GROUP_9]


def test_a_type_is_taken_by_its_code_too(cli, rsps) -> None:
    stubs.oauth_token(rsps)
    stubs.voucher_groups(rsps, [GROUP_47], filters={"type": "8"})

    assert json.loads(cli("groups", "--type", "8").stdout) == [GROUP_47]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--type", "coupon"], "--type must be a voucher type: 3 (giveaway), 5 (campaign)"),
        (["--campaign-id", "x1"], "--campaign-id must be a positive whole number"),
        (["--product-id", ""], "--product-id must be a positive whole number"),
        (["--title", " "], "--title must not be empty"),
    ],
)
def test_bad_filters_are_usage_errors_and_nothing_is_sent(cli, rsps, args, message) -> None:
    result = cli("groups", *args)

    assert result.exit_code == 2
    assert message in result.stderr


def test_every_page_is_read(cli, rsps) -> None:
    """Catches listing only SPiD's first page (1000 groups at most) as if it were all."""
    first = [{**GROUP_47, "voucherGroupId": str(n)} for n in range(1, 1001)]
    stubs.oauth_token(rsps)
    stubs.voucher_groups(rsps, first)
    stubs.voucher_groups(rsps, [GROUP_9], offset=1000)

    result = cli("groups", "-o", "json")

    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == [*first, GROUP_9]


def test_a_full_last_page_ends_with_spids_404(cli, rsps) -> None:
    first = [{**GROUP_47, "voucherGroupId": str(n)} for n in range(1, 1001)]
    stubs.oauth_token(rsps)
    stubs.voucher_groups(rsps, first)
    stubs.voucher_groups(rsps, None, offset=1000, status=404, error="No voucher groups found")

    result = cli("groups", "-o", "json")

    assert result.exit_code == 0, result.stderr
    assert len(json.loads(result.stdout)) == 1000


def test_a_search_that_finds_nothing_is_an_empty_list(cli, rsps) -> None:
    """Catches SPiD's 404 for an empty search reported as exit 3 instead of no groups."""
    stubs.oauth_token(rsps)
    stubs.voucher_groups(
        rsps, None, filters={"title": "Nope"}, status=404, error="No voucher groups found"
    )

    result = cli("groups", "--title", "Nope", "-o", "json")

    assert (result.exit_code, result.stdout) == (0, "[]\n")
    assert result.stderr.startswith("no group titled 'Nope'")  # a note, not an error


def test_a_404_about_the_client_is_still_exit_4(cli, rsps) -> None:
    stubs.oauth_token(rsps)
    stubs.voucher_groups(rsps, None, status=404, error="Unknown client ID")

    assert cli("groups").exit_code == 4


def test_a_server_repeating_a_full_page_is_not_followed_forever(cli, rsps) -> None:
    """Catches paging on without end when a server ignores ``offset``."""
    page = [{**GROUP_47, "voucherGroupId": str(n)} for n in range(1, 1001)]
    stubs.oauth_token(rsps)
    stubs.voucher_groups(rsps, page)
    stubs.voucher_groups(rsps, page, offset=1000)

    result = cli("groups")

    assert result.exit_code == 1
    assert "with the page before it again" in result.stderr


def test_a_collection_keyed_by_id_is_listed_too(cli, rsps) -> None:
    stubs.oauth_token(rsps)
    stubs.voucher_groups(rsps, {"47": GROUP_47, "9": GROUP_9})

    assert json.loads(cli("groups").stdout) == [GROUP_47, GROUP_9]


def test_group_shows_one_group(cli, rsps) -> None:
    stubs.oauth_token(rsps)
    stubs.voucher_group(rsps, "47", GROUP_47)

    result = cli("group", "47", tty=True)

    lines = table_lines(result.stdout)
    assert "Title Freebies for everyone!" in lines
    assert "Type payment method" in lines


def test_unknown_group_is_exit_3(cli, rsps) -> None:
    stubs.oauth_token(rsps)
    stubs.voucher_group(rsps, "5", None, status=404, error="Voucher group not found")

    result = cli("group", "5")

    assert result.exit_code == 3
    assert result.stderr == (
        "voucherctl: error: show voucher group 5: HTTP 404: Voucher group not found\n"
    )


def test_search_matches_part_of_the_title_in_any_case_on_every_page(cli, rsps) -> None:
    """Catches --search sent to SPiD as its exact title filter, matched case-sensitively, or
    matched on the first page only."""
    stubs.oauth_token(rsps)
    page = [{**GROUP_47, "voucherGroupId": str(n), "title": f"Group {n}"} for n in range(1000)]
    page[3]["title"] = "Summer sale"
    stubs.voucher_groups(rsps, page)  # no title sent: SPiD's filter is exact
    stubs.voucher_groups(rsps, [{**GROUP_9, "title": "END OF SUMMER"}], offset=1000)

    result = cli("groups", "--search", "sUmMeR", "-o", "json")

    assert result.exit_code == 0, result.stderr
    assert [g["title"] for g in json.loads(result.stdout)] == ["Summer sale", "END OF SUMMER"]


def test_an_empty_exact_title_says_why_and_what_to_try(cli, rsps) -> None:
    """Catches the silent empty table a support person got from ``--title summer``."""
    stubs.oauth_token(rsps)
    stubs.voucher_groups(rsps, [], filters={"title": "summer"})

    result = cli("groups", "--title", "summer", "-o", "json")

    assert result.exit_code == 0
    assert json.loads(result.stdout) == []
    assert result.stderr.strip() == (
        "no group titled 'summer' (--title is SPiD's exact, case-sensitive match; "
        "try --search summer)"
    )


def test_an_empty_search_says_so(cli, rsps) -> None:
    stubs.oauth_token(rsps)
    stubs.voucher_groups(rsps, [GROUP_47])

    result = cli("groups", "--search", "winter", tty=True)

    assert result.exit_code == 0
    assert "no group's title contains 'winter'" in result.stderr


def test_a_title_found_then_searched_away_names_the_search(cli, rsps) -> None:
    """Catches `groups --title X --search zz` saying "no group titled X" although SPiD found
    X: the note must name the filter that left nothing."""
    stubs.oauth_token(rsps)
    stubs.voucher_groups(rsps, [GROUP_47], filters={"title": GROUP_47["title"]})

    result = cli("groups", "--title", GROUP_47["title"], "--search", "zz", "-o", "json")

    assert (result.exit_code, result.stdout) == (0, "[]\n")
    assert "no group titled" not in result.stderr
    assert "no group's title contains 'zz'" in result.stderr
    assert "the 1 groups SPiD's filters found" in result.stderr


@pytest.mark.parametrize(
    ("title", "search"),
    [
        ("İstanbul deals", "istanbul"),
        ("\uff33\uff35\uff2d\uff2d\uff25\uff32 \uff12\uff10\uff12\uff16", "summer 2026"),
        ("Straße", "STRASSE"),
    ],
)
def test_search_folds_unicode_fully(cli, rsps, title, search) -> None:
    """Catches --search compared with str.lower() or casefold() alone: a dotted capital I,
    full-width letters and ß must match their plain spellings."""
    stubs.oauth_token(rsps)
    stubs.voucher_groups(rsps, [{**GROUP_47, "title": title}])

    result = cli("groups", "--search", search, "-o", "json")

    assert [g["title"] for g in json.loads(result.stdout)] == [title], result.stderr
