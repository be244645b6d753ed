"""voucherctl/ui/table_fit.py: the layout rules, one at a time (tests/test_table_widths.py runs
every real table on a real terminal)."""

from hypothesis import given
from hypothesis import strategies as st

from voucherctl.ui.table_fit import Spec, plan, record_lines, render, width_of, wrapped

KEY = "13918dc12e44bc183cb168fa10684d0714115ff37132d4c265f4a8ab6678a741"


def laid_out(specs: list[Spec], rows: list[list[str]], width: int) -> list[str]:
    return render(specs, rows, plan(specs, rows, width))


def test_a_table_that_fits_is_left_whole() -> None:
    specs = [Spec("Id", "line"), Spec("Key", "ident")]

    lines = laid_out(specs, [["35735", KEY]], 120)

    assert lines[2] == f"35735  {KEY}"


def test_secondary_columns_go_first_highest_rank_first_and_are_named() -> None:
    """Catches dropping in the wrong order (or dropping a column that is never to go)."""
    specs = [
        Spec("Id", "line"),
        Spec("Basket code", "ident", drop=1),
        Spec("Campaign", "text", drop=3),
        Spec("Expires", "line", drop=2),
    ]
    rows = [["35735", "BASKET-778812", "Earn €5 on signup", "2050-01-01 00:00:00"]]

    layout = plan(specs, [list(row) for row in rows], 40)

    assert layout.dropped == ["Campaign", "Expires"]
    assert layout.kept == [0, 1]


def test_a_long_key_is_shortened_only_while_the_room_is_lacking() -> None:
    """Catches a key left shortened after dropping columns made room for it whole."""
    specs = [Spec("Id", "line"), Spec("Reason", "line", drop=1), Spec("Key", "ident")]
    rows = [["35735", "x" * 60, KEY]]

    layout = plan(specs, rows, 72)

    assert layout.dropped == ["Reason"]
    assert rows[0][2] == KEY and not layout.shortened


def test_a_key_that_cannot_fit_is_shortened_and_said_so() -> None:
    rows = [["35735", KEY]]

    layout = plan([Spec("Id", "line"), Spec("Key", "ident")], rows, 40)

    assert layout.shortened
    assert rows[0][1] == "13918dc1…a741"


def test_identifiers_wrap_between_words_or_after_an_equals_sign_never_inside() -> None:
    """The issue's "voucherGroupId=4" then "7": a value is never cut."""
    lines = wrapped("userId=42 voucherGroupId=47", 16, "words")

    assert lines == ["userId=42", "voucherGroupId=", "47"]


def test_a_url_breaks_only_after_a_path_slash_never_in_its_host() -> None:
    lines = wrapped("host=http://127.0.0.1:44003/api/2", 23, "words")

    assert lines == ["host=", "http://127.0.0.1:44003/", "api/2"]


def test_free_text_folds_a_word_only_when_it_is_wider_than_the_column() -> None:
    assert wrapped("Free coffee with order", 10, "text") == ["Free", "coffee", "with order"]
    assert wrapped("abcdefghijkl", 5, "text") == ["abcde", "fghij", "kl"]


def test_a_record_value_too_wide_beside_its_label_goes_below_it() -> None:
    lines, shortened = record_lines([("Voucher key", KEY, "ident"), ("Id", "1", "line")], 70)

    assert lines[:2] == ["Voucher key", f"  {KEY}"]
    assert lines[2].split() == ["Id", "1"]
    assert not shortened


def test_a_record_key_wider_than_the_terminal_is_shortened() -> None:
    lines, shortened = record_lines([("Voucher key", KEY, "ident")], 60)

    assert shortened
    assert lines == ["Voucher key  13918dc1…a741"]


@given(
    st.lists(
        st.tuples(
            st.text("ab =-/", min_size=0, max_size=30),
            st.text("0123456789", min_size=1, max_size=9),
            st.text("xyz ", min_size=0, max_size=40),
            st.sampled_from(["", "2026-12-08 01:10:41"]),
            st.text("ABC-", min_size=0, max_size=70),
        ),
        min_size=1,
        max_size=5,
    ),
    st.integers(min_value=45, max_value=130),
)
def test_no_line_is_wider_than_the_terminal(
    rows: list[tuple[str, str, str, str, str]], width: int
) -> None:
    """Whatever the cells (empty ones under long labels too), a table of identifiers, ids,
    text and times fits ``width``."""
    specs = [
        Spec("Words", "words", drop=1),
        Spec("Id", "line"),
        Spec("Text", "text", drop=2),
        Spec("Locked until", "line", drop=3),
        Spec("Basket code", "ident", drop=4),
    ]
    table = [list(row) for row in rows]

    lines = laid_out(specs, table, width)

    assert all(width_of(line) <= width for line in lines)


def test_an_identifier_wider_than_its_column_stands_alone_never_folded() -> None:
    """Catches identifiers folded like free text: a key cut at the column's edge."""
    assert wrapped(f"voucher_key={KEY} id=1", 20, "words") == ["voucher_key=", KEY, "id=1"]
