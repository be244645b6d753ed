"""What voucherctl makes is its owner's alone (0600 files, 0700 folders) whatever the umask; what
the user named or made (an --out file's folder, a --state file and its folder) keeps its mode."""

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import spid_stubs as stubs
from tests.conftest import fixture_json
from tests.sandbox_process import SandboxProcess
from voucherctl.sandbox import SANDBOX
from voucherctl.sandbox.store import Store

SAMPLE = fixture_json("spid_vouchers_handout.json")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def open_umask() -> Iterator[None]:
    """A umask that masks nothing: SQLite and open() would then make files 0644 or 0666."""
    previous = os.umask(0)
    yield
    os.umask(previous)


@pytest.fixture
def shared(tmp_path: Path) -> Path:
    """A team's folder: group-writable, setgid."""
    folder = tmp_path / "shared"
    folder.mkdir()
    folder.chmod(0o2775)
    return folder


@pytest.mark.usefixtures("open_umask")
def test_codes_out_in_a_shared_folder_leaves_it_as_it_was(
    cli, rsps, monkeypatch, shared, isolated_environment
) -> None:
    """Catches --out chmodding the folder it names (a team's 2775 folder turned 0700), and the
    codes written readable by others."""
    monkeypatch.setenv("VOUCHERCTL_SPID_URL", stubs.SPID)
    monkeypatch.setenv("VOUCHERCTL_SPID_TOKEN", stubs.TOKEN)
    stubs.vouchers_handout(rsps, "46", "1", SAMPLE)
    out = shared / "partner.csv"

    result = cli("codes", "46", "--out", str(out))

    assert result.exit_code == 0, result.stderr
    assert mode(shared) == 0o2775
    assert mode(out) == 0o600
    kept = isolated_environment / "data" / "codes"
    assert [mode(kept.parent), mode(kept)] == [0o700, 0o700]
    assert {mode(file) for file in kept.iterdir()} == {0o600}


@pytest.mark.usefixtures("open_umask")
def test_sandbox_serve_state_in_a_shared_folder_is_private_and_the_folder_is_not_touched(
    shared,
) -> None:
    """Catches the state file and its -wal and -shm, which hold live tokens, made 0644 (or 0666
    under this umask), and the folder named by --state chmodded."""
    state = shared / "state.sqlite3"
    server = SandboxProcess(state)
    try:
        handout = ("handout", "--user", "103800", "--group", str(SANDBOX.spid_handout_group_id))
        done = server.run(*handout)
        assert done.exit_code == 0, done.stderr
        files = {path.name: mode(path) for path in shared.iterdir()}
    finally:
        server.stop()

    wal, shm = "state.sqlite3-wal", "state.sqlite3-shm"
    assert files == {"state.sqlite3": 0o600, wal: 0o600, shm: 0o600, "data": 0o700}
    assert mode(shared) == 0o2775


@pytest.mark.usefixtures("open_umask")
def test_a_missing_state_folder_is_made_0700(shared) -> None:
    state = shared / "new" / "deeper" / "state.sqlite3"
    server = SandboxProcess(state)
    server.stop()

    assert [mode(state.parent), mode(state.parent.parent), mode(state)] == [0o700, 0o700, 0o600]
    assert mode(shared) == 0o2775


def test_an_existing_state_file_keeps_its_mode_with_a_warning(shared, tmp_path) -> None:
    """Catches voucherctl chmodding a state file it did not make; its owner is told instead."""
    state = shared / "state.sqlite3"
    state.touch()
    state.chmod(0o640)
    server = SandboxProcess(state, log=tmp_path / "serve.log")
    server.stop()

    assert mode(state) == 0o640
    [warning] = [line for line in server.logged() if "warning" in line]
    assert warning == (
        f"voucherctl: warning: --state {state} can be read by other users (mode 640) and holds "
        f"live tokens; make it private: chmod 600 {state}"
    )


@pytest.mark.usefixtures("open_umask")
def test_the_data_directorys_sandbox_state_is_made_private(cli, isolated_environment) -> None:
    """The state a --sandbox command keeps in the data directory, and its -wal and -shm."""
    from voucherctl.cli.clients import SANDBOX_STATE_FILE, _prepare_state

    state = isolated_environment / "data" / SANDBOX_STATE_FILE
    _prepare_state(state)
    store = Store(state)
    try:
        with store.write() as db:
            db.execute("INSERT INTO spid_token VALUES ('t', 'c', 0)")
        files = {path.name: mode(path) for path in state.parent.iterdir()}
    finally:
        store.close()

    assert mode(state.parent) == 0o700
    assert files == {
        SANDBOX_STATE_FILE: 0o600,
        f"{SANDBOX_STATE_FILE}-wal": 0o600,
        f"{SANDBOX_STATE_FILE}-shm": 0o600,
    }


def test_the_data_directorys_existing_state_keeps_its_mode(isolated_environment) -> None:
    """Catches a --sandbox command chmodding every sandbox.sqlite3* file it finds, ones it did
    not make among them."""
    from voucherctl.cli.clients import SANDBOX_STATE_FILE, _prepare_state

    folder = isolated_environment / "data"
    folder.mkdir(parents=True)
    folder.chmod(0o750)
    state = folder / SANDBOX_STATE_FILE
    state.touch()
    state.chmod(0o640)
    backup = folder / f"{SANDBOX_STATE_FILE}.backup"
    backup.touch()
    backup.chmod(0o644)

    _prepare_state(state)

    assert [mode(folder), mode(state), mode(backup)] == [0o750, 0o640, 0o644]
