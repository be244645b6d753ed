"""The real sandbox server and the installed CLI, as separate processes, for end-to-end tests."""

import os
import signal
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections import Counter

from voucherctl.sandbox import SANDBOX

VOUCHERCTL = str(Path(sys.executable).parent / "voucherctl")


@dataclass
class Done:
    exit_code: int
    stdout: str
    stderr: str


class SandboxProcess:
    """``voucherctl sandbox serve`` on a free port, over its own state file."""

    def __init__(self, state: Path, *options: str, log: Path | None = None) -> None:
        """``log``: the server's stderr (with ``--log``, a line per request) goes to this file."""
        self.state = state
        self.log = log
        self._log_file = log.open("w") if log else None
        self.process = subprocess.Popen(
            [VOUCHERCTL, "sandbox", "serve", "--port", "0", "--state", str(state), *options],
            stdout=subprocess.PIPE,
            stderr=self._log_file or subprocess.PIPE,
            text=True,
            env=base_environment(state.parent),
        )
        assert self.process.stdout is not None
        self.url = self.process.stdout.readline().strip()
        if not self.url.startswith("http://127.0.0.1:"):
            self.stop()
            why = log.read_text() if log else self.process.stderr.read()  # type: ignore[union-attr]
            raise RuntimeError(f"sandbox did not start: {why}")

    def logged(self) -> list[str]:
        """The request lines logged so far (``--log`` and ``log=`` given)."""
        assert self.log is not None
        return self.log.read_text().splitlines()

    def environment(self, **extra: str) -> dict[str, str]:
        """Variables that point the CLI at this server with the sandbox's credentials."""
        env = base_environment(self.state.parent)
        env.update(
            VOUCHERCTL_SPID_URL=self.url,
            VOUCHERCTL_SPID_CLIENT_ID=SANDBOX.spid_client_id,
            VOUCHERCTL_SPID_CLIENT_SECRET=SANDBOX.spid_client_secret,
            VOUCHERCTL_SPAAZA_URL=self.url,
            VOUCHERCTL_SPAAZA_USER_ID=str(SANDBOX.spaaza_session_user_id),
            VOUCHERCTL_SPAAZA_SESSION_KEY=SANDBOX.spaaza_session_key,
            VOUCHERCTL_SPAAZA_CHAIN_ID=str(SANDBOX.spaaza_chain_id),
        )
        env.update(extra)
        return env

    def run(self, *args: str, input: str | None = None, **extra: str) -> Done:
        """Run the installed CLI against this server."""
        return run_cli(*args, env=self.environment(**extra), input=input)

    def query(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        """Read the server's state directly (read-only)."""
        with sqlite3.connect(f"file:{self.state}?mode=ro", uri=True) as db:
            return db.execute(sql, params).fetchall()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:  # a machine so loaded it did not get to it
                self.process.kill()
                self.process.wait(timeout=10)
        for stream in (self.process.stdout, self.process.stderr, self._log_file):
            if stream:
                stream.close()


def base_environment(home: Path) -> dict[str, str]:
    """A clean environment: no VOUCHERCTL_* of the developer's, state under ``home``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("VOUCHERCTL_")}
    env.update(
        VOUCHERCTL_CONFIG_DIR=str(home / "config"),
        VOUCHERCTL_DATA_DIR=str(home / "data"),
        NO_COLOR="1",
        COLUMNS="100",
    )
    return env


def ledger_rows(data: Path, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    """Read the SQLite ledger of the data directory ``data`` (read only)."""
    with sqlite3.connect(f"file:{data / 'ledger.sqlite3'}?mode=ro", uri=True, timeout=30) as db:
        return db.execute(sql, params).fetchall()


def run_cli(*args: str, env: dict[str, str], input: str | None = None) -> Done:
    from tests.schema_check import check_run

    done = subprocess.run(
        [VOUCHERCTL, *args], env=env, input=input, capture_output=True, text=True, timeout=120
    )
    check_run(args, done.stdout, done.stderr, env, tty=False)  # the published schemas
    return Done(done.returncode, done.stdout, done.stderr)


def users_file(path: Path, users: list[int], group: int = SANDBOX.spid_handout_group_id) -> Path:
    """A handout file: one row per user, all from ``group``."""
    path.write_text("userId,voucherGroupId\n" + "".join(f"{u},{group}\n" for u in users))
    return path


def vouchers_per_user(sandbox: SandboxProcess, users: list[int]) -> "Counter[int]":
    """How many vouchers the sandbox handed each of ``users`` (a user with none is left out)."""
    from collections import Counter

    rows = sandbox.query(
        "select user_id, count(*) from spid_voucher where user_id between ? and ? group by user_id",
        min(users),
        max(users),
    )
    return Counter(dict(rows))
