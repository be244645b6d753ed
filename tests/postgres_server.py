"""A real PostgreSQL server for the tests, started in a temporary folder and stopped by its PID.

The machine's PostgreSQL binaries are used when found (``pg_config --bindir``,
``/usr/lib/postgresql/*/bin``, ``initdb`` on PATH); else those of ``pgserver``, a pip package in
the test extra. PostgreSQL refuses to run as root, so as root the server runs as the
``postgres`` user (or ``nobody``), in a folder of its own under the temp directory. In CI
(``CI=true``) a server that cannot be started fails the tests instead of skipping them.
"""

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

USER = "voucherctl"


def _bin_dir() -> tuple[Path, bool] | None:
    """Where initdb and postgres are, and whether they come from pgserver."""
    candidates = []
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        found = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True)
        candidates.append(Path(found.stdout.strip()))
    candidates += sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(Path(on_path).resolve().parent)
    for folder in candidates:
        if (folder / "initdb").is_file() and (folder / "postgres").is_file():
            return folder, False
    try:
        from pgserver._commands import POSTGRES_BIN_PATH  # type: ignore[import-untyped]
    except ImportError:
        return None
    return Path(POSTGRES_BIN_PATH), True


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class PostgresServer:
    """initdb, then ``postgres`` on a free loopback port; ``stop`` ends it by its PID."""

    def __init__(self) -> None:
        found = _bin_dir()
        if found is None:
            unavailable("no PostgreSQL binaries (install PostgreSQL, or pip install pgserver)")
        assert found is not None
        bin_dir, bundled = found
        self.folder = Path(tempfile.mkdtemp(prefix="voucherctl-pg-"))
        self.owner = _run_as()
        if bundled and self.owner is not None:  # the venv may be closed to other users
            shutil.copytree(bin_dir.parent, self.folder / "pginstall", symlinks=True)
            bin_dir = self.folder / "pginstall" / "bin"
        data, self.sockets = self.folder / "data", self.folder / "sockets"
        self.sockets.mkdir()
        if self.owner is not None:
            for path in [self.folder, *self.folder.rglob("*")]:
                os.chown(path, self.owner.pw_uid, self.owner.pw_gid, follow_symlinks=False)
        self.port = _free_port()
        self._as_owner([str(bin_dir / "initdb"), "-D", str(data), "-U", USER, "--auth=trust"])
        self.log = (self.folder / "server.log").open("w")
        self.process = subprocess.Popen(
            [
                str(bin_dir / "postgres"),
                *("-D", str(data), "-p", str(self.port), "-k", str(self.sockets)),
                *("-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"),
                *("-c", "max_connections=200"),
            ],
            stdout=self.log,
            stderr=subprocess.STDOUT,
            **self._user(),
        )
        self._wait_ready()

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{USER}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # fast shutdown
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()
        shutil.rmtree(self.folder, ignore_errors=True)

    def _user(self) -> dict[str, int]:
        if self.owner is None:
            return {}
        return {"user": self.owner.pw_uid, "group": self.owner.pw_gid}

    def _as_owner(self, command: list[str]) -> None:
        done = subprocess.run(command, capture_output=True, text=True, **self._user())
        if done.returncode:
            self.stop()
            unavailable(f"{command[0]} failed: {done.stderr.strip()[-500:]}")

    def _wait_ready(self) -> None:
        import psycopg

        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                log = (self.folder / "server.log").read_text()[-500:]
                self.stop()
                unavailable(f"postgres exited: {log}")
            try:
                psycopg.connect(self.url(), connect_timeout=2).close()
                return
            except psycopg.OperationalError:
                time.sleep(0.1)
        self.stop()
        unavailable("postgres did not accept connections within 60 s")


def _run_as() -> "pwd.struct_passwd | None":
    """The user to run PostgreSQL as: None (ourselves) unless we are root."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            return pwd.getpwnam(name)
    unavailable("running as root and no 'postgres' or 'nobody' user to run PostgreSQL as")
    return None


def unavailable(why: str) -> None:
    """Skip, or in CI fail: the PostgreSQL tests are never skipped there."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"PostgreSQL is needed in CI: {why}")
    pytest.skip(f"PostgreSQL unavailable: {why}")
