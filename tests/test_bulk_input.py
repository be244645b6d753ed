"""Hostile bulk files: encodings, BOMs, ragged rows, quotes, repeats, formulas, control bytes.

Each file goes through ``--dry-run`` (which sends nothing) and, where sending matters, a real
run against strict stubs: a request nobody stubbed fails the test.
"""

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests import spaaza_stubs, spid_stubs
from tests.conftest import fixture_json
from tests.sandbox_process import VOUCHERCTL, base_environment

CLAIMED = fixture_json("spaaza_claim_voucher.json")
HOW_TO_FIX = "save the file as UTF-8 CSV (Excel: 'CSV UTF-8')"
FORMULAS = ["=cmd|' /C calc'!A0", "+1", "-2+3", "@SUM(A1)"]


@pytest.fixture(autouse=True)
def credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    spid_stubs.use_client_credentials(monkeypatch)
    spaaza_stubs.use_admin_session(monkeypatch, chain_id=None)


def write(tmp_path: Path, content: str | bytes, name: str = "rows.csv") -> str:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8", newline="")
    return str(path)


def records(stdout: str) -> list[dict]:
    return [json.loads(line) for line in stdout.splitlines()]


def dry_run(cli, command: str, source: str, *extra: str, **kw):
    if command == "handout":
        return cli("handout", "--from", source, "--group", "47", "--dry-run", *extra, **kw)
    return cli(command, "--from", source, "--dry-run", *extra, **kw)


# -- encodings -----------------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
@pytest.mark.parametrize("dry", [True, False])
def test_a_utf16_file_is_refused_in_one_line_saying_how_to_fix_it(
    cli, rsps, tmp_path, encoding, dry
) -> None:
    source = write(tmp_path, "userId\n42\n43\n".encode(encoding))

    options = ["--dry-run"] if dry else []
    result = cli("handout", "--from", source, "--group", "47", *options)

    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == (
        f"voucherctl: error: {source}: line 1: UTF-16 (Excel's 'Unicode text'), not UTF-8; "
        f"{HOW_TO_FIX}\n"
    )
    assert len(rsps.calls) == 0


@pytest.mark.parametrize("skip_invalid", [[], ["--skip-invalid"]])
def test_latin1_is_refused_at_the_line_of_its_first_non_ascii_byte(
    cli, rsps, tmp_path, skip_invalid
) -> None:
    text = "voucher_id,member_number\n1,M-1\n2,M-2\n3,Jos\xe9\n4,Ren\xe9e\n"
    source = write(tmp_path, text.encode("latin-1"))

    result = cli("claim", "--from", source, *skip_invalid)

    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == f"voucherctl: error: {source}: line 4: not UTF-8 text; {HOW_TO_FIX}\n"
    assert len(rsps.calls) == 0


def test_a_bad_byte_far_into_a_big_file_is_placed_on_its_line(cli, rsps, tmp_path) -> None:
    # Far past the reader's first buffer, where a decoding error would have said "line 1".
    rows = "".join(f"{100000 + n}\n" for n in range(5000))
    source = write(tmp_path, b"userId\n" + rows.encode() + b"caf\xe9\n")

    result = dry_run(cli, "handout", source)

    assert result.exit_code == 2
    assert f"{source}: line 5002: not UTF-8 text" in result.stderr
    assert result.stdout == ""


def test_latin1_on_stdin_is_refused_like_a_file(cli, rsps) -> None:
    result = cli(
        "claim",
        "--from",
        "-",
        input="voucher_id,member_number\n1,Jos\xe9\n".encode("latin-1"),
    )

    assert result.exit_code == 2
    assert result.stderr == f"voucherctl: error: -: line 2: not UTF-8 text; {HOW_TO_FIX}\n"
    assert len(rsps.calls) == 0


def test_utf8_with_a_bom_works(cli, rsps, tmp_path) -> None:
    source = write(tmp_path, "\ufeffuserId,voucherGroupId\n42,47\n")
    spid_stubs.oauth_token(rsps)
    spid_stubs.voucher_handout(rsps, "42", "47")

    assert records(cli("handout", "--from", source, "--dry-run").stdout)[0]["input"] == {
        "userId": "42",
        "voucherGroupId": "47",
    }
    result = cli("handout", "--from", source)

    assert result.exit_code == 0, result.stderr
    assert [(r["line"], r["outcome"]) for r in records(result.stdout)] == [(2, "ok")]


def test_utf8_beyond_latin_is_kept_as_given(cli, rsps, tmp_path) -> None:
    source = write(tmp_path, "voucher_id,member_number\n1,Jos\u00e9-\u65e5\u672c-\U0001f600\n")

    result = dry_run(cli, "claim", source)

    assert result.exit_code == 0, result.stderr
    assert records(result.stdout)[0]["request"]["form"]["member_number"] == (
        "Jos\u00e9-\u65e5\u672c-\U0001f600"
    )


# -- shape: ragged rows, quotes, blank lines, headers --------------------------------------------


RAGGED = "userId,voucherGroupId\n42,47\n43,47,99\n44\n45,47\n"


def test_ragged_rows_are_listed_by_line_and_nothing_is_sent(cli, rsps, tmp_path) -> None:
    source = write(tmp_path, RAGGED)

    result = cli("handout", "--from", source)

    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"voucherctl: error: {source}: line 3: has 3 cells, the header names 2 columns",
        f"voucherctl: error: {source}: line 4: has 1 cells, the header names 2 columns",
        "voucherctl: error: 2 of 4 rows are invalid; nothing was sent. Fix them, or add "
        "--skip-invalid to send the valid rows and report the others as failed",
    ]
    assert len(rsps.calls) == 0


def test_skip_invalid_fails_ragged_rows_with_exit_code_2_and_sends_the_rest(
    cli, rsps, tmp_path
) -> None:
    source = write(tmp_path, RAGGED)
    spid_stubs.oauth_token(rsps)
    spid_stubs.voucher_handout(rsps, "42", "47")
    spid_stubs.voucher_handout(rsps, "45", "47")

    result = cli("handout", "--from", source, "--skip-invalid", "--concurrency", "1")

    assert result.exit_code == 8
    by_line = {r["line"]: r for r in records(result.stdout)}
    assert {line: r["outcome"] for line, r in by_line.items()} == {
        2: "ok",
        3: "failed",
        4: "failed",
        5: "ok",
    }
    assert by_line[3]["exit_code"] == 2
    assert by_line[3]["error"]["message"] == "has 3 cells, the header names 2 columns"
    assert by_line[4]["input"] == {"userId": "44"}


def test_quoted_cells_with_commas_and_newlines_keep_their_line_numbers(cli, rsps, tmp_path) -> None:
    source = write(
        tmp_path,
        'voucher_id,member_number\n1,"M,1"\n2,"M-2\n"\n3,"M-3\nM-4"\n"4",M-5\n',
    )

    result = dry_run(cli, "claim", source, "--skip-invalid")

    assert result.exit_code == 0, result.stderr
    by_line = {r["line"]: r for r in records(result.stdout)}
    assert sorted(by_line) == [2, 3, 5, 7]  # the line each row starts on
    assert by_line[2]["request"]["form"] == {"voucher_id": "1", "member_number": "M,1"}
    assert by_line[3]["request"]["form"] == {"voucher_id": "2", "member_number": "M-2"}
    assert by_line[5]["request"] is None
    assert by_line[5]["input"]["member_number"] == "M-3\nM-4"  # JSON keeps it as given
    assert by_line[7]["request"]["form"] == {"voucher_id": "4", "member_number": "M-5"}


def test_a_newline_inside_a_value_is_reported_on_one_line(cli, rsps, tmp_path) -> None:
    source = write(tmp_path, 'voucher_id,member_number\n1,M-1\n2,"M-3\nM-4"\n')

    result = cli("claim", "--from", source)

    assert result.exit_code == 2
    assert result.stderr.splitlines()[0] == (
        f"voucherctl: error: {source}: line 3: member_number must not contain control "
        "characters, not 'M-3\\nM-4'"
    )
    assert len(result.stderr.splitlines()) == 2  # that row, and the summary
    assert len(rsps.calls) == 0


def test_a_quote_left_open_is_reported_where_it_opens(cli, rsps, tmp_path) -> None:
    # Left open, the quote would swallow every later row into one cell, silently.
    source = write(tmp_path, 'userId,voucherGroupId\n42,47\n43,"47\n44,47\n45,47\n')

    result = cli("handout", "--from", source, "--skip-invalid")

    assert result.exit_code == 2
    assert result.stderr == (
        f"voucherctl: error: {source}: line 3: a quoted cell starts in this row and is never "
        'closed (a stray ")\n'
    )
    assert len(rsps.calls) == 0


def test_blank_lines_crlf_and_white_space_around_cells_are_forgiven(cli, rsps, tmp_path) -> None:
    source = write(
        tmp_path,
        " userId , voucherGroupId \r\n\r\n 42 ,47 \r\n   \r\n,\r\n43\t, 47\r\n\r\n\r\n",
    )

    result = cli("handout", "--from", source, "--dry-run")

    assert result.exit_code == 0, result.stderr
    assert [(r["line"], r["request"]["form"]) for r in records(result.stdout)] == [
        (3, {"userId": "42", "voucherGroupId": "47"}),
        (6, {"userId": "43", "voucherGroupId": "47"}),
    ]


@pytest.mark.parametrize("content", ["", "\ufeff", "\n\n"])
def test_an_empty_file_is_a_usage_error(cli, rsps, tmp_path, content) -> None:
    source = write(tmp_path, content)

    result = cli("handout", "--from", source)

    assert result.exit_code == 2
    assert result.stderr == (
        f"voucherctl: error: {source}: the file is empty; its first line must name the columns\n"
    )
    assert len(rsps.calls) == 0


def test_a_header_without_rows_does_nothing_and_says_so(cli, rsps, tmp_path) -> None:
    source = write(tmp_path, "userId,voucherGroupId\n\n")

    result = cli("handout", "--from", source, "--dry-run", "-o", "json")

    assert result.exit_code == 0
    assert json.loads(result.stdout) == []
    assert f"voucherctl: warning: {source} has no rows under its header" in result.stderr


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("userId,userId", "column(s) named twice: userId"),
        (" userId ,userId", "column(s) named twice: userId"),
        ("=cmd|' /C calc'!A0", "none of the columns (=cmd|' /C calc'!A0) is one handout takes"),
        ("user\x1b[2JId,voucherGroupID", "none of the columns (user\\x1b[2JId, voucherGroupID)"),
    ],
)
def test_a_bad_header_stops_the_run(cli, rsps, tmp_path, header, message) -> None:
    source = write(tmp_path, f"{header}\n42,47\n")

    result = cli("handout", "--from", source)

    assert result.exit_code == 2
    assert message in result.stderr
    assert len(result.stderr.splitlines()) == 1
    assert "\x1b" not in result.stderr
    assert len(rsps.calls) == 0


@pytest.mark.parametrize(
    ("header", "note"),
    [
        ("userId,voucherGroupID", "ignores the column(s) voucherGroupID"),
        ("userId,voucherGroupId,", "ignores the column(s) (blank)"),
        ("user\x1b[2JId,voucherGroupId", "ignores the column(s) user\\x1b[2JId"),
    ],
)
def test_a_column_the_command_does_not_use_is_named_and_ignored(
    cli, rsps, tmp_path, header, note
) -> None:
    """A mistyped column is not silently dropped: the note names it, and the rows that then
    lack what they need stop the run before anything is sent."""
    source = write(tmp_path, f"{header}\n42,47,\n")

    result = cli("handout", "--from", source, "--skip-invalid", "--dry-run")

    assert note in result.stderr
    assert "\x1b" not in result.stderr
    assert len(rsps.calls) == 0


# -- repeated rows -------------------------------------------------------------------------------

REPEATS = "userId,voucherGroupId\n42,47\n43,47\n42,47\n 042 , 47 \n"


def test_repeated_handout_rows_are_named_in_a_warning_and_still_two_rows(
    cli, rsps, tmp_path
) -> None:
    source = write(tmp_path, REPEATS)

    result = cli("handout", "--from", source, "--dry-run")

    assert result.exit_code == 0
    assert [r["line"] for r in records(result.stdout)] == [2, 3, 4, 5]
    warnings = [line for line in result.stderr.splitlines() if "warning" in line]
    assert warnings == [
        f"voucherctl: warning: {source}: line 4 repeats line 2",
        f"voucherctl: warning: {source}: line 5 repeats line 2",
        "voucherctl: warning: 2 rows repeat an earlier row; every row is sent, so a user named "
        "twice gets a voucher for each; remove the repeats you do not mean",
    ]


def test_repeated_rows_are_sent_once_each_and_resumed_as_separate_rows(cli, rsps, tmp_path) -> None:
    source = write(tmp_path, REPEATS)
    journal = str(tmp_path / "run.jsonl")
    spid_stubs.oauth_token(rsps)
    for user in ("42", "43", "42", "42"):
        spid_stubs.voucher_handout(rsps, user, "47")

    first = cli("handout", "--from", source, "--journal", journal, "--concurrency", "1")

    assert first.exit_code == 0, first.stderr
    assert len([c for c in rsps.calls if "voucher_handout" in c.request.url]) == 4
    spid_stubs.oauth_token(rsps)  # and nothing else: every row is done
    second = cli("handout", "--from", source, "--journal", journal)
    assert second.exit_code == 0
    assert {r["line"]: r["outcome"] for r in records(second.stdout)} == {
        2: "skipped",
        3: "skipped",
        4: "skipped",
        5: "skipped",
    }


def test_repeated_claims_are_warned_about_too(cli, rsps, tmp_path) -> None:
    source = write(tmp_path, "voucher_id,user_id\n1,7\n1,7\n")

    result = dry_run(cli, "claim", source)

    assert result.exit_code == 0
    assert f"{source}: line 3 repeats line 2" in result.stderr
    assert "the repeats will likely be refused" in result.stderr


def test_many_repeats_are_listed_only_at_first(cli, rsps, tmp_path) -> None:
    source = write(tmp_path, "userId\n" + "42\n" * 30)

    result = dry_run(cli, "handout", source, "-q")

    assert result.exit_code == 0
    assert result.stderr == ""  # --quiet: warnings too
    result = dry_run(cli, "handout", source)
    assert result.stderr.count("repeats line 2") == 20
    assert "29 rows repeat an earlier row (the first 20 listed)" in result.stderr


# -- formulas and control characters in cells ----------------------------------------------------


def _claim_file(tmp_path: Path, values: list[str]) -> str:
    rows = "".join(f"{n},{_quoted(value)}\n" for n, value in enumerate(values, start=1))
    return write(tmp_path, "voucher_id,member_number\n" + rows)


def _quoted(value: str) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="").writerow([value])
    return buffer.getvalue()


def test_formulas_are_kept_as_given_in_json(cli, rsps, tmp_path) -> None:
    source = _claim_file(tmp_path, FORMULAS)

    result = dry_run(cli, "claim", source)

    assert result.exit_code == 0, result.stderr
    assert [r["request"]["form"]["member_number"] for r in records(result.stdout)] == FORMULAS
    assert [r["input"]["member_number"] for r in records(result.stdout)] == FORMULAS


def test_formulas_are_neutralised_in_csv_of_a_dry_run(cli, rsps, tmp_path) -> None:
    source = _claim_file(tmp_path, FORMULAS)

    result = dry_run(cli, "claim", source, "-o", "csv")

    assert result.exit_code == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [row["member_number"] for row in rows] == [
        "'=cmd|' /C calc'!A0",
        "+1",  # a signed number: a spreadsheet reads the number 1, nothing runs
        "'-2+3",
        "'@SUM(A1)",
    ]
    assert [row["line"] for row in rows] == ["2", "3", "4", "5"]
    assert json.loads(rows[0]["request"])["form"]["member_number"] == FORMULAS[0]


def test_formulas_are_neutralised_in_csv_of_a_run(cli, rsps, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("VOUCHERCTL_SPAAZA_CHAIN_ID", "3")  # an admin session needs one
    source = _claim_file(tmp_path, FORMULAS[:1])
    form = {"voucher_id": "1", "member_number": FORMULAS[0], "chain_id": "3"}
    spaaza_stubs.claim_voucher(rsps, form, CLAIMED)

    result = cli("claim", "--from", source, "-o", "csv")

    assert result.exit_code == 0, result.stderr
    [row] = list(csv.DictReader(io.StringIO(result.stdout)))
    assert row["member_number"] == "'=cmd|' /C calc'!A0"
    assert row["outcome"] == "ok"


def test_a_formula_where_a_number_belongs_is_an_invalid_row(cli, rsps, tmp_path) -> None:
    source = write(tmp_path, "userId\n" + "".join(f"{_quoted(f)}\n" for f in FORMULAS))

    result = dry_run(cli, "handout", source, "-o", "csv", "--skip-invalid")

    assert result.exit_code == 0
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [row["userId"] for row in rows] == ["'=cmd|' /C calc'!A0", "+1", "'-2+3", "'@SUM(A1)"]
    assert all(row["error"].startswith("userId must be a positive whole number") for row in rows)
    assert all(row["request"] == "" for row in rows)


CONTROL = "M\x1b[31m-1\x07\x9b2J"


def test_control_characters_in_a_cell_are_escaped_in_error_messages(cli, rsps, tmp_path) -> None:
    source = _claim_file(tmp_path, [CONTROL])

    result = cli("claim", "--from", source)

    assert result.exit_code == 2
    assert result.stderr.splitlines()[0] == (
        f"voucherctl: error: {source}: line 2: member_number must not contain control "
        "characters, not 'M\\x1b[31m-1\\x07\\x9b2J'"
    )
    assert not any(c in result.stderr for c in "\x1b\x07\x9b")
    assert len(rsps.calls) == 0


def test_a_nul_in_a_cell_of_a_utf8_file_is_an_invalid_row(cli, rsps, tmp_path) -> None:
    source = write(tmp_path, "userId\n42\x00\n43\n")

    result = dry_run(cli, "handout", source, "--skip-invalid")

    assert result.exit_code == 0
    assert [r["error"] and r["error"]["message"] for r in records(result.stdout)] == [
        "userId must be a positive whole number, not '42\\x00'",
        None,
    ]


@pytest.mark.parametrize("fmt", ["table", "csv", "jsonl", "json"])
def test_control_characters_in_a_cell_never_reach_the_terminal(
    cli, rsps, tmp_path, fmt, monkeypatch
) -> None:
    monkeypatch.setenv("VOUCHERCTL_SPAAZA_CHAIN_ID", "3")  # an admin session needs one
    source = _claim_file(tmp_path, [CONTROL, "M-2"])
    form = {"voucher_id": "2", "member_number": "M-2", "chain_id": "3"}
    spaaza_stubs.claim_voucher(rsps, form, CLAIMED)

    for args in (["--dry-run"], []):
        result = cli("claim", "--from", source, "--skip-invalid", "-o", fmt, *args)

        assert result.exit_code == (0 if args else 8), result.stderr
        assert not any(c in result.stdout + result.stderr for c in "\x1b\x07\x9b")
        assert "x1b[31m-1" in result.stdout  # shown, escaped


def test_a_cell_that_is_too_long_is_an_invalid_row(cli, rsps, tmp_path) -> None:
    source = _claim_file(tmp_path, ["M" * 5000, "M-2"])

    result = dry_run(cli, "claim", source, "--skip-invalid")

    assert result.exit_code == 0
    errors = [r["error"] and r["error"]["message"] for r in records(result.stdout)]
    assert errors == ["member_number is longer than 1000 characters", None]


def test_a_cell_past_the_csv_limit_stops_the_run_at_its_line(cli, rsps, tmp_path) -> None:
    source = _claim_file(tmp_path, ["M-1", "M" * 20_000])

    result = dry_run(cli, "claim", source, "--skip-invalid")

    assert result.exit_code == 2
    assert result.stderr == (
        f"voucherctl: error: {source}: line 3: a cell is over 10000 characters\n"
    )


# -- size ----------------------------------------------------------------------------------------

MiB = 1 << 20


def _huge_file(path: Path, how: str) -> Path:
    """60 MB on one line (one cell, or many short ones), or in one quoted cell over many lines."""
    piece = {"cell": "7" * MiB, "cells": "1," * (MiB // 2), "lines": ("M" * 99 + "\n") * 10486}
    with path.open("w", encoding="utf-8", newline="") as handle:
        handle.write("userId,voucherGroupId\n101,47\n102," + ('"' if how == "lines" else ""))
        for _ in range(60):
            handle.write(piece[how])
        handle.write('"\n' if how == "lines" else "\n")
    return path


@pytest.mark.parametrize("how", ["cell", "cells", "lines"])
def test_a_huge_line_or_cell_is_refused_while_read_in_bounded_memory(tmp_path, how) -> None:
    """Catches a 60 MB line read whole before it is refused (138 MiB for one cell, 352 MiB for a
    line of short cells, 435 MiB for 200 MB): it is refused at its line, under 100 MiB at
    the peak, and nothing is sent (nothing listens at the URL: sending would be exit 7)."""
    source = _huge_file(tmp_path / "huge.csv", how)
    env = base_environment(tmp_path)
    env.update(VOUCHERCTL_SPID_URL="http://127.0.0.1:9", VOUCHERCTL_SPID_TOKEN="t0ken")
    # A parent of its own, so that RUSAGE_CHILDREN is this one run's peak alone.
    measure = (
        "import resource, subprocess, sys\n"
        "done = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
        "peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
        "print(done.returncode, peak, repr(done.stdout), done.stderr, sep='\\n', end='')\n"
    )
    try:
        answer = subprocess.run(
            [sys.executable, "-c", measure, VOUCHERCTL, "handout", "--from", str(source)],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
    finally:
        source.unlink()

    code, peak_kib, stdout, stderr = answer.stdout.split("\n", 3)
    reason = (
        "the line is over 1000000 characters (a cell holds at most 10000); nothing was sent"
        if how != "lines"
        else "a cell is over 10000 characters"
    )
    assert int(peak_kib) < 100 * 1024, f"peak {int(peak_kib) // 1024} MiB"
    assert (int(code), stdout) == (2, "''")
    assert stderr == f"voucherctl: error: {source}: line 3: {reason}\n"


def test_a_header_over_the_line_limit_is_refused_by_every_reader(tmp_path) -> None:
    """The header is read line-limited wherever it is read: the rows and the unused columns."""
    from voucherctl.bulk.rows import Source
    from voucherctl.changes.operation import Fills
    from voucherctl.commands.spid.handout import HANDOUT
    from voucherctl.core.errors import UsageError

    source = Source(
        write(tmp_path, "userId,voucherGroupId," + "x," * 600_000 + "\n1,47\n"), io.StringIO()
    )
    reason = "line 1: the line is over 1000000 characters"

    with pytest.raises(UsageError, match=reason):
        source.unused_columns(HANDOUT)
    with pytest.raises(UsageError, match=reason):
        next(source.rows(HANDOUT, Fills()))


@pytest.mark.parametrize("ending", ["\n", "\r\n"])
@pytest.mark.parametrize(("extra", "refused"), [(0, False), (1, True)])
def test_the_line_limit_counts_the_characters_before_the_line_ending(
    cli, rsps, tmp_path, ending, extra, refused
) -> None:
    line = ("x" * 999 + ",") * 1000 + "x" * extra  # 1000000 characters, or one more
    source = write(tmp_path, f"userId{ending}{line}{ending}x{ending}")

    result = dry_run(cli, "handout", source)

    assert result.exit_code == 2
    too_long = f"{source}: line 2: the line is over 1000000 characters"
    assert (too_long in result.stderr) is refused, result.stderr
    if not refused:  # the line ending read whole with its line: the next line is line 3
        assert "line 2: has 1001 cells" in result.stderr
        assert "line 3: userId must be a positive whole number" in result.stderr
