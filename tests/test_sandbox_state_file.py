"""The sandbox uses only its own state file (docs/contract.md#sandbox): a user's database, a text
file, a FIFO or a folder named by --state (or lying where --sandbox keeps its state) is refused,
exit 2 in one line, and left byte for byte as it was, with nothing created beside it."""

import os
import sqlite3
import subprocess
from pathlib import Path

import pytest

from tests.sandbox_process import VOUCHERCTL, base_environment
from voucherctl.cli.clients import SANDBOX_STATE_FILE
from voucherctl.sandbox import SANDBOX, NotAStateFile, ensure_state, reset_state
from voucherctl.sandbox.state_file import APPLICATION_ID, TABLES


def user_database(path: Path, wal: bool = False) -> bytes:
    """A database of the user's, as `sqlite3 app.db 'create table customers(...)'` makes it."""
    with sqlite3.connect(path) as db:
        if wal:
            db.execute("PRAGMA journal_mode = WAL")
        db.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)")
        db.execute("INSERT INTO customers (name) VALUES ('Ada')")
    db.close()
    return path.read_bytes()


def earlier_state(path: Path) -> None:
    """A state file as voucherctl wrote it before files were marked: the sandbox's tables,
    user_version 3, no application id; one voucher handed out to user 42."""
    ensure_state(path)
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA application_id = 0")
        db.execute(
            "UPDATE spid_voucher SET status = 1, user_id = 42 WHERE code = ?",
            (SANDBOX.spid_voucher_code,),
        )
    db.close()


def application_id(path: Path) -> int:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        marked: int = db.execute("PRAGMA application_id").fetchone()[0]
    db.close()
    return marked


def serve(state: Path) -> tuple[int, str, str]:
    """`sandbox serve --state`: its exit code and output when it refuses; a server that starts
    anyway is stopped and reported as exit -1."""
    process = subprocess.Popen(
        [VOUCHERCTL, "sandbox", "serve", "--port", "0", "--state", str(state)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=base_environment(state.parent),
    )
    assert process.stdout is not None
    first = process.stdout.readline()
    if first:
        process.terminate()
    out, err = process.communicate(timeout=60)
    return (-1 if first else process.returncode), first + out, err


def refused(text: str, state: Path) -> bool:
    lines = text.splitlines()
    return len(lines) == 1 and "is not a sandbox state file" in lines[0] and str(state) in text


def test_serve_refuses_a_users_database_and_leaves_it_as_it_was(tmp_path: Path) -> None:
    app = tmp_path / "app.db"
    before = user_database(app)

    code, out, err = serve(app)

    assert (code, out) == (2, "")
    assert refused(err, app) and "customers" in err and "Traceback" not in err
    assert app.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["app.db"]


@pytest.mark.parametrize("wal", [False, True])
def test_reset_refuses_a_users_database_and_leaves_it_as_it_was(cli, tmp_path, wal) -> None:
    app = tmp_path / "app2.db"
    before = user_database(app, wal=wal)

    result = cli("sandbox", "reset", "--state", str(app))

    assert result.exit_code == 2 and result.stdout == ""
    assert refused(result.stderr, app)
    assert app.read_bytes() == before  # the user's table is still there, and nothing else
    assert sorted(p.name for p in tmp_path.iterdir()) == ["app2.db"]  # no -wal, -shm


def test_sandbox_refuses_a_users_database_where_it_keeps_its_state(
    cli, isolated_environment
) -> None:
    state = isolated_environment / "data" / SANDBOX_STATE_FILE
    state.parent.mkdir(parents=True)
    before = user_database(state)

    result = cli("show", SANDBOX.spid_voucher_code, "--sandbox")

    assert result.exit_code == 2 and result.stdout == ""
    assert refused(result.stderr, state) and "Move it elsewhere" in result.stderr
    assert state.read_bytes() == before


def other_programs_database(path: Path) -> None:
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA application_id = 1196444487")  # GeoPackage's
        db.execute(f"CREATE TABLE {sorted(TABLES)[0]} (id INTEGER)")  # a name the sandbox uses
    db.close()


def settings_only_database(path: Path) -> None:
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA user_version = 7")
    db.close()


@pytest.mark.parametrize(
    "make",
    [
        lambda path: path.write_text("not a database\n"),
        lambda path: path.write_text('{"change": "c1", "outcome": "sent"}\n'),  # an audit log
        lambda path: path.write_bytes(b"SQLite format 3\x00 but cut short"),
        other_programs_database,
        settings_only_database,
        lambda path: os.mkfifo(path),
    ],
    ids=["text", "audit-jsonl", "short-header", "other-program", "settings-only", "fifo"],
)
def test_serve_refuses_a_file_that_is_not_a_state_file_as_a_usage_error(
    tmp_path: Path, make
) -> None:
    state = tmp_path / "state"
    make(state)
    before = None if state.is_fifo() else state.read_bytes()

    code, out, err = serve(state)

    assert (code, out) == (2, "")
    assert refused(err, state) and "Traceback" not in err and "unexpected" not in err
    assert (None if state.is_fifo() else state.read_bytes()) == before
    assert [p.name for p in tmp_path.iterdir()] == ["state"]


def test_a_folder_as_state_is_a_usage_error(cli, tmp_path: Path) -> None:
    for command in ("reset",):
        result = cli("sandbox", command, "--state", str(tmp_path))
        assert result.exit_code == 2 and len(result.stderr.splitlines()) == 1
        assert "is a directory" in result.stderr
    with pytest.raises(NotAStateFile, match="a directory"):
        ensure_state(tmp_path)


def test_reset_state_refuses_a_users_database(tmp_path: Path) -> None:
    app = tmp_path / "app.db"
    before = user_database(app)

    with pytest.raises(NotAStateFile, match="customers"):
        reset_state(app)
    assert app.read_bytes() == before


@pytest.mark.parametrize("how", ["missing", "empty"])
def test_a_missing_or_empty_file_becomes_a_marked_state_file(cli, tmp_path, how) -> None:
    state = tmp_path / "state.sqlite3"
    if how == "empty":
        state.touch()

    assert cli("sandbox", "reset", "--state", str(state)).exit_code == 0
    assert application_id(state) == APPLICATION_ID
    assert cli("sandbox", "reset", "--state", str(state)).exit_code == 0  # its own: reset again


def test_an_earlier_versions_state_file_is_kept_and_marked(tmp_path: Path) -> None:
    state = tmp_path / "old.sqlite3"
    earlier_state(state)
    assert application_id(state) == 0

    ensure_state(state)

    assert application_id(state) == APPLICATION_ID
    with sqlite3.connect(state) as db:
        [(holder,)] = db.execute(
            "SELECT user_id FROM spid_voucher WHERE code = ?", (SANDBOX.spid_voucher_code,)
        ).fetchall()
    db.close()
    assert holder == 42  # its records kept: it was the sandbox's, only unmarked


def test_an_earlier_versions_state_file_can_be_reset(cli, tmp_path: Path) -> None:
    state = tmp_path / "old.sqlite3"
    earlier_state(state)

    result = cli("sandbox", "reset", "--state", str(state))

    assert result.exit_code == 0
    assert application_id(state) == APPLICATION_ID


@pytest.mark.parametrize(
    "tables", [["spid_user", "customers"], ["spid_user"], [*sorted(TABLES), "customers"]]
)
def test_a_database_sharing_some_of_the_sandboxs_table_names_is_refused(
    cli, tmp_path, tables
) -> None:
    """Only exactly the sandbox's tables make an unmarked file an earlier version's."""
    app = tmp_path / "app.db"
    with sqlite3.connect(app) as db:
        db.execute("PRAGMA user_version = 3")
        for table in tables:
            db.execute(f"CREATE TABLE {table} (id INTEGER PRIMARY KEY)")
    db.close()
    before = app.read_bytes()

    result = cli("sandbox", "reset", "--state", str(app))

    assert result.exit_code == 2 and refused(result.stderr, app)
    assert app.read_bytes() == before


@pytest.mark.parametrize("call", ["reset", "ensure"])
def test_a_file_that_became_someone_elses_after_opening_is_not_touched(
    tmp_path: Path, call: str
) -> None:
    """Checked again under the write lock: a store opened on an empty file that another program
    then filled leaves that program's table alone."""
    from voucherctl.sandbox.store import Store

    path = tmp_path / "race.db"
    path.touch()
    store = Store(path)
    try:
        with sqlite3.connect(path) as other:
            other.execute("CREATE TABLE customers (id INTEGER)")
        other.close()
        with pytest.raises(NotAStateFile, match="customers"):
            store.reset() if call == "reset" else store.ensure()
    finally:
        store.close()
    with sqlite3.connect(path) as db:
        names = [row[0] for row in db.execute("SELECT name FROM sqlite_schema")]
    db.close()
    assert names == ["customers"]
