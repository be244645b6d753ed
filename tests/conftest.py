"""Shared fixtures: every test runs with its own config, data and keyring, and no real network."""

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import responses
from typer.testing import CliRunner

FIXTURES = Path(__file__).parent / "fixtures"


# Folders the suite must never change, though it runs as root: /dev made 0700 once broke every
# other user of the machine (PostgreSQL's initdb among them).
MACHINE_FOLDERS = ("/dev", "/tmp", "/var/tmp", str(Path.home()))


@pytest.fixture(autouse=True, scope="session")
def machine_left_as_found() -> Iterator[None]:
    """Fails the run when any test changed the mode or owner of a folder outside its temp dir."""
    before = {path: _mode_and_owner(path) for path in MACHINE_FOLDERS}
    yield
    after = {path: _mode_and_owner(path) for path in MACHINE_FOLDERS}
    changed = {path: (before[path], after[path]) for path in before if before[path] != after[path]}
    assert not changed, f"the suite changed folders it does not own (before, after): {changed}"


def _mode_and_owner(path: str) -> tuple[int, int, int] | None:
    try:
        info = os.stat(path)
    except OSError:
        return None
    return info.st_mode, info.st_uid, info.st_gid


@pytest.fixture(autouse=True)
def isolated_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Relocate all state into a temp dir, and drop variables that could reach a real account."""
    for name in list(os.environ):
        if name.startswith("VOUCHERCTL_"):
            monkeypatch.delenv(name)
    home = tmp_path / "home"
    monkeypatch.setenv("VOUCHERCTL_CONFIG_DIR", str(home / "config"))
    monkeypatch.setenv("VOUCHERCTL_DATA_DIR", str(home / "data"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "xdg-data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "xdg-config"))
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "100")
    monkeypatch.setenv("TERM", "dumb")
    return home


@pytest.fixture(autouse=True)
def fresh_secret_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts with no secret registered for scrubbing, so a scrub test passes only
    when the code under test registered the secret itself, not because an earlier test did."""
    monkeypatch.setattr("voucherctl.core.redact._registered", set())


@pytest.fixture(autouse=True)
def no_waiting(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Retries record their waits instead of sleeping."""
    waits: list[float] = []
    monkeypatch.setattr("voucherctl.api.transport.pacing.pause", waits.append)
    return waits


@pytest.fixture
def file_keyring(monkeypatch: pytest.MonkeyPatch) -> Any:
    """A real keyring backend (keyrings.alt's plaintext file) inside this test's temp dir."""
    import keyring
    from keyrings.alt.file import PlaintextKeyring

    backend = PlaintextKeyring()
    previous = keyring.get_keyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


@pytest.fixture
def no_keyring(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A machine with no keyring backend at all (keyring's own 'fail' backend)."""
    import keyring
    from keyring.backends.fail import Keyring as FailKeyring

    previous = keyring.get_keyring()
    keyring.set_keyring(FailKeyring())
    yield
    keyring.set_keyring(previous)


@dataclass
class Outcome:
    exit_code: int
    stdout: str
    stderr: str


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Run voucherctl in-process: ``cli("show", "X", tty=True, input="...")``.

    ``tty`` makes stdout and stderr terminals; ``stdin_tty`` stdin (default: same as ``tty``).
    """
    from tests.schema_check import check_run
    from voucherctl.app import app
    from voucherctl.ui.environment import Environment

    def run(
        *args: str, tty: bool = False, stdin_tty: bool | None = None, input: str = ""
    ) -> Outcome:
        stdin = tty if stdin_tty is None else stdin_tty
        monkeypatch.setattr(Environment, "stdout_isatty", property(lambda self: tty))
        monkeypatch.setattr(Environment, "stderr_isatty", property(lambda self: tty))
        monkeypatch.setattr(Environment, "stdin_isatty", property(lambda self: stdin))
        result = CliRunner().invoke(app, list(args), input=input, prog_name="voucherctl")
        if result.exception and not isinstance(result.exception, SystemExit):
            raise result.exception
        check_run(args, result.stdout, result.stderr, os.environ, tty=tty)  # published schemas
        return Outcome(result.exit_code, result.stdout, result.stderr)

    return run


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    """Strict HTTP stubs: a stub that is not called, or a request nobody stubbed, fails."""
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


def spid_container(
    data: Any,
    *,
    code: int = 200,
    error: str | None = None,
    reset: int = 3600,
    kind: str = "element",
    obj: str = "Voucher",
) -> dict[str, Any]:
    """An SPP Container as SPiD wraps every answer."""
    return {
        "name": "SPP Container",
        "version": "0.2",
        "api": 2,
        "object": obj,
        "type": "error" if error else kind,
        "code": code,
        "request": {"reset": reset, "limit": 0, "remaining": 0 if code == 420 else 100},
        "debug": {"route": {}, "params": {}},
        "meta": None,
        "error": {"code": code, "type": "ApiException", "description": error} if error else None,
        "data": data,
    }


def fixture_json(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def table_lines(text: str) -> list[str]:
    """A rendered table's lines with runs of spaces folded, so tests don't count padding."""
    return [" ".join(line.split()) for line in text.splitlines() if line.strip()]
