"""What the benchmarks share: tool paths, a served sandbox, measured child processes, tables.

Nothing here imports voucherctl: the benchmarks measure an installed ``voucherctl`` from the
outside, the way users run it, so they work from any environment that has it on the path.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import os
import select
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

# The sandbox's public, obviously fake credentials and seed ids (`voucherctl sandbox info`).
SPID_CLIENT_ID = "sandbox-spid-client"
SPID_CLIENT_SECRET = "sandbox-spid-secret"
VOUCHER_CODE = "64-HB2I-OPBL"
HANDOUT_GROUP = "324673248"  # 12,000 unused vouchers in a fresh state file
OTHER_GROUP = "47"
FIRST_BULK_USER, LAST_BULK_USER = 100000, 109999

SERVER_START_SECONDS = 30


class BenchError(Exception):
    """A benchmark could not run (a tool is missing, a command failed); exit 2."""


# -- tools ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tools:
    """The interpreter and the installed commands a benchmark runs."""

    python: str
    voucherctl: str

    def sibling(self, name: str) -> str | None:
        """A command installed next to the interpreter (same venv), else one on the PATH."""
        beside = Path(self.python).parent / name
        if beside.is_file() and os.access(beside, os.X_OK):
            return str(beside)
        return shutil.which(name)


def add_tool_arguments(parser: argparse.ArgumentParser) -> None:
    """``--python`` and ``--voucherctl``, defaulting to this interpreter and its venv."""
    parser.add_argument(
        "--python",
        default=sys.executable,
        help="interpreter to measure (default: the one running this script)",
    )
    parser.add_argument(
        "--voucherctl",
        help="voucherctl to measure (default: the one next to --python, else on the PATH)",
    )


def tools_from(args: argparse.Namespace) -> Tools:
    """The tools named on the command line, checked to exist."""
    # No resolve(): a venv's python is a symlink, and its siblings are the venv's commands.
    python = str(Path(args.python).absolute())
    tools = Tools(python=python, voucherctl="")
    if args.voucherctl and not Path(args.voucherctl).is_file():
        raise BenchError(f"--voucherctl {args.voucherctl}: no such file")
    voucherctl = args.voucherctl or tools.sibling("voucherctl")
    if not voucherctl:
        raise BenchError(
            f"no voucherctl next to {python} nor on the PATH; install it into that "
            "environment or pass --voucherctl PATH"
        )
    return Tools(python=python, voucherctl=str(Path(voucherctl).absolute()))


# -- measured processes --------------------------------------------------------------------


@dataclass(frozen=True)
class Measured:
    """One finished child process: wall time, CPU time and peak memory."""

    wall: float  # seconds from start to reaped
    cpu: float  # user + system seconds, its own and its waited-for children's
    max_rss_kib: int  # peak resident set size of the process (or of its largest child)
    exit_code: int

    @property
    def max_rss_mib(self) -> float:
        return self.max_rss_kib / 1024


def measure(
    argv: Sequence[str],
    *,
    env: dict[str, str],
    stdout: Path | None = None,
    stdin: Path | None = None,
    check: bool = True,
) -> Measured:
    """Run a command to its end and measure it with ``os.wait4``.

    stdout goes to ``stdout`` (a file) or nowhere; stderr is kept to explain a failure.
    """
    with (
        open(stdout or os.devnull, "wb") as out,
        open(stdin or os.devnull, "rb") as inp,
        tempfile.TemporaryFile() as err,
    ):
        started = time.perf_counter()
        child = subprocess.Popen(argv, stdin=inp, stdout=out, stderr=err, env=env)
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
        if check and child.returncode != 0:
            err.seek(0)
            text = err.read().decode(errors="replace").strip()[-2000:]
            raise BenchError(f"{' '.join(argv)} exited {child.returncode}: {text}")
    return Measured(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss, child.returncode)


# -- the sandbox ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Workspace:
    """A temporary home for one benchmark run: state file, data and config directories."""

    root: Path

    @property
    def state(self) -> Path:
        return self.root / "sandbox.sqlite3"

    def environment(self, url: str = "", token: str = "") -> dict[str, str]:
        """The environment a command runs in: this workspace, and the served sandbox if any.

        Every ``VOUCHERCTL_*`` variable of the caller is dropped, so no profile, keyring or
        real host can come into a run, and every ``PYTHON*`` one (PYTHONDONTWRITEBYTECODE,
        PYTHONPROFILEIMPORTTIME, ...), so Python runs the way users run it.
        """
        env = {
            name: value
            for name, value in os.environ.items()
            if not name.startswith(("VOUCHERCTL_", "PYTHON"))
        }
        env.update(
            VOUCHERCTL_DATA_DIR=str(self.root / "data"),
            VOUCHERCTL_CONFIG_DIR=str(self.root / "config"),
            HTTPIE_CONFIG_DIR=str(self.root / "httpie"),
            NO_COLOR="1",
        )
        if url:
            env["VOUCHERCTL_SPID_URL"] = url
        if token:
            env["VOUCHERCTL_SPID_TOKEN"] = token
        return env


@contextmanager
def workspace() -> Iterator[Workspace]:
    """A fresh workspace, removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="voucherctl-bench-") as root:
        yield Workspace(Path(root))


@dataclass(frozen=True)
class Server:
    """A served sandbox: its base URL and process id."""

    url: str
    pid: int

    def cpu_seconds(self) -> float | None:
        """User + system CPU time the server has used so far (Linux /proc), else None."""
        try:
            stat = Path(f"/proc/{self.pid}/stat").read_text()
        except OSError:
            return None
        fields = stat.rpartition(")")[2].split()  # after the command name, which may hold spaces
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def served_sandbox(
    tools: Tools, space: Workspace, *, latency_ms: int = 0, options: Sequence[str] = ()
) -> Iterator[Server]:
    """``voucherctl sandbox serve`` over the workspace's state file, once it listens.

    ``options`` go to ``sandbox serve`` as they are (``--quota 50``, ``--log``, ...); its
    stderr goes to ``sandbox.log`` in the workspace. Stopped with SIGTERM, as a supervisor
    would.
    """
    argv = [tools.voucherctl, "sandbox", "serve", "--port", "0", "--state", str(space.state)]
    if latency_ms:
        argv += ["--latency", str(latency_ms)]
    argv += options
    log = (space.root / "sandbox.log").open("wb")
    server = subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=log, env=space.environment(), text=True
    )
    try:
        assert server.stdout is not None
        ready, _, _ = select.select([server.stdout], [], [], SERVER_START_SECONDS)
        url = server.stdout.readline().strip() if ready else ""
        if not url.startswith("http://"):
            raise BenchError(f"the sandbox did not start: {' '.join(argv)}")
        yield Server(url, server.pid)
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


def spid_token(url: str) -> str:
    """A SPiD server token from the sandbox (client credentials, HTTP Basic)."""
    parts = urlsplit(url)
    basic = base64.b64encode(f"{SPID_CLIENT_ID}:{SPID_CLIENT_SECRET}".encode()).decode()
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=10)
    try:
        conn.request(
            "POST",
            "/oauth/token",
            "grant_type=client_credentials",
            {
                "Authorization": f"Basic {basic}",
                "Content-Type": "application/x-www-form-urlencoded",
            },
        )
        answer = json.loads(conn.getresponse().read())
    finally:
        conn.close()
    return str(answer["access_token"])


# -- figures and tables --------------------------------------------------------------------


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


@dataclass(frozen=True)
class Goal:
    """A figure and the bound it must keep."""

    name: str
    value: float
    limit: float
    at_most: bool  # True: passes when value <= limit; False: when value >= limit
    unit: str = "x"
    digits: int = 2
    note: str = ""  # shown beside the verdict, e.g. the same ratio on minimums
    counted: bool = True  # False: shown for comparison, its verdict in parentheses, no effect

    @property
    def passed(self) -> bool:
        return self.value <= self.limit if self.at_most else self.value >= self.limit

    def row(self) -> list[str]:
        value = f"{self.value:.{self.digits}f}{self.unit}"
        bound = f"{'<=' if self.at_most else '>='} {self.limit:g}{self.unit}"
        verdict = "PASS" if self.passed else "FAIL"
        return [self.name, value, bound, verdict if self.counted else f"({verdict})", self.note]

    def as_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "value": self.value,
            "limit": self.limit,
            "at_most": self.at_most,
            "unit": self.unit,
            "passed": self.passed,
            "note": self.note,
            "counted": self.counted,
        }


def goal_table(goals: Sequence[Goal]) -> str:
    """The goals as a table with PASS/FAIL."""
    return table(["goal", "measured", "target", "result", ""], [goal.row() for goal in goals])


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A plain-text table: the first column left-aligned, the others right-aligned."""
    cells = [[str(h) for h in headers], *([str(cell) for cell in row] for row in rows)]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]

    def line(row: list[str]) -> str:
        first = row[0].ljust(widths[0])
        rest = (cell.rjust(width) for cell, width in zip(row[1:], widths[1:], strict=True))
        return "  ".join([first, *rest]).rstrip()

    rule = "  ".join("-" * width for width in widths)
    return "\n".join([line(cells[0]), rule, *(line(row) for row in cells[1:])])


def exit_code(goals: Sequence[Goal]) -> int:
    """0 when every counted goal passed, 1 otherwise."""
    return 0 if all(goal.passed for goal in goals if goal.counted) else 1


def write_big_csv(path: Path, rows: int) -> Path:
    """A ``userId`` CSV of ``rows`` distinct ids, written in blocks."""
    block = 100_000
    with path.open("w", encoding="utf-8") as out:
        out.write("userId\n")
        for start in range(0, rows, block):
            out.write("".join(f"{1_000_000 + i}\n" for i in range(start, min(start + block, rows))))
    return path
