"""Every table at 60, 80 and 120 columns, on a real terminal (a pty with its window size set),
from the installed CLI against the real sandbox server: no line wider than the terminal, and
every identifier (id, code, key, host) whole on one line, never cut across two."""

import fcntl
import itertools
import os
import re
import select
import struct
import subprocess
import termios
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.sandbox_process import VOUCHERCTL, SandboxProcess
from voucherctl.sandbox import SANDBOX
from voucherctl.ui.table_fit import SHORTENED_NOTE, shorten, width_of

KEY = SANDBOX.spaaza_voucher_key
LOCK_KEY = SANDBOX.spaaza_lock_voucher_key
CODE = re.compile(r"\b\d+-[0-9A-Z]{4}-[0-9A-Z]{4}\b")
ESCAPES = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


@dataclass
class Screen:
    exit_code: int
    lines: list[str]
    stderr: str


def on_terminal(server: SandboxProcess, width: int, *args: str) -> Screen:
    """The installed CLI with stdout on a pty ``width`` columns wide (stderr to a file)."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, width, 0, 0))
    env = {k: v for k, v in server.environment().items() if k not in ("COLUMNS", "LINES")}
    errors = server.state.parent / "stderr.txt"
    with errors.open("w") as stderr:
        process = subprocess.Popen(
            [VOUCHERCTL, *args], stdin=subprocess.DEVNULL, stdout=slave, stderr=stderr, env=env
        )
    os.close(slave)
    output = _read_all(master, process)
    os.close(master)
    text = ESCAPES.sub("", output.decode("utf-8", "replace")).replace("\r\n", "\n")
    return Screen(process.returncode, text.splitlines(), errors.read_text())


def _read_all(master: int, process: subprocess.Popen[bytes]) -> bytes:
    output, deadline = b"", time.monotonic() + 120
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 1)
        if ready:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the process closed the terminal
                break
            if not chunk:
                break
            output += chunk
        elif process.poll() is not None:
            break
    process.wait(timeout=60)
    return output


def broken(identifier: str, lines: list[str]) -> bool:
    """True when some line ends a word with the start of ``identifier`` and the next line has a
    word starting with the rest: the identifier cut in two."""
    for upper, lower in itertools.pairwise(lines):
        for cut in range(1, len(identifier)):
            head, tail = identifier[:cut], identifier[cut:]
            ends = any(word.endswith(head) for word in upper.split())
            if ends and any(word.startswith(tail) for word in lower.split()):
                return True
    return False


def check(screen: Screen, width: int, *, whole: tuple[str, ...] = (), seen: tuple[str, ...] = ()):
    """No line wider than the terminal; each of ``whole`` on one line (a long key at least
    shortened, with the note saying so); none of ``whole`` or ``seen`` cut across lines."""
    assert screen.exit_code == 0, screen.stderr
    assert screen.lines, "nothing was printed"
    too_wide = [line for line in screen.lines if width_of(line) > width]
    assert not too_wide, f"wider than {width}: {too_wide}"
    for identifier in whole:
        if any(identifier in line for line in screen.lines):
            continue
        assert len(identifier) > 16, f"{identifier} not whole on a line: {screen.lines}"
        assert any(shorten(identifier) in line for line in screen.lines), screen.lines
        assert SHORTENED_NOTE in "\n".join(screen.lines)
    for identifier in (*whole, *seen):
        assert not broken(identifier, screen.lines), f"{identifier} cut: {screen.lines}"


@pytest.fixture(params=[60, 80, 120], ids=lambda w: f"{w}-columns")
def width(request: pytest.FixtureRequest) -> int:
    return int(request.param)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[SandboxProcess]:
    sandbox = SandboxProcess(tmp_path / "state.sqlite3")
    yield sandbox
    sandbox.stop()


def test_spid_tables_fit(server: SandboxProcess, width: int) -> None:
    def run(*args: str) -> Screen:
        return on_terminal(server, width, *args)

    check(run("show", SANDBOX.spid_voucher_code), width, whole=("64-HB2I-OPBL", "557916"))
    handed = run("handout", "--user", "42", "--group", SANDBOX.spid_handout_group_id)
    check(handed, width, whole=(SANDBOX.spid_handout_group_id,))
    listed = run("groups")
    check(listed, width, whole=("47", SANDBOX.spid_handout_group_id))
    check(run("group", "47"), width, whole=("47",))
    check(run("generate", "48", "--amount", "1"), width, whole=("48",))
    taken = run("codes", "47", "--amount", "1")
    check(taken, width)
    assert any(CODE.search(line) for line in taken.lines), taken.lines  # the code whole
    dry = run("handout", "--user", "42", "--group", "47", "--dry-run")
    check(dry, width, whole=("/api/2/voucher_handout",))


def test_spaaza_tables_fit(server: SandboxProcess, width: int) -> None:
    def run(*args: str) -> Screen:
        return on_terminal(server, width, *args)

    user = ("--user-id", str(SANDBOX.spaaza_user_id))
    voucher = ("--voucher-id", str(SANDBOX.spaaza_voucher_id))
    ids = (str(SANDBOX.spaaza_voucher_id), KEY)
    check(run("claim", *voucher, *user), width, whole=(*ids, str(SANDBOX.spaaza_user_id)))
    lock = ("--basket-code", "BASKET-778812", "--locking-code", "LOCK-99")
    check(run("lock", *voucher, *lock), width, whole=(*ids, "BASKET-778812", "LOCK-99"))
    listed = run("vouchers", *user)
    check(listed, width, whole=(str(SANDBOX.spaaza_voucher_id),), seen=("BASKET-778812", KEY))
    assert any("BASKET-778812" in line for line in listed.lines)  # the lock's holder
    one = run("vouchers", *user, *voucher)
    check(one, width, whole=(*ids, "BASKET-778812", "LOCK-99"))
    check(run("unlock", *voucher), width, whole=ids)
    redeemed = run("redeem", *voucher, *user, "--amount", "2")
    check(redeemed, width, whole=ids)
    other = ("--voucher-id", str(SANDBOX.spaaza_lock_voucher_id), "--user-id", "1")
    assert on_terminal(server, width, "claim", *other).exit_code == 0
    check(run("unclaim", *other), width, whole=(str(SANDBOX.spaaza_lock_voucher_id), LOCK_KEY))


def test_status_audit_and_sandbox_tables_fit(server: SandboxProcess, width: int) -> None:
    def run(*args: str) -> Screen:
        return on_terminal(server, width, *args)

    assert run("handout", "--user", "42", "--group", "47").exit_code == 0
    voucher = ("--voucher-id", str(SANDBOX.spaaza_voucher_id))
    lock = ("--basket-code", "BASKET-778812", "--locking-code", "LOCK-99")
    assert run("lock", *voucher, *lock).exit_code == 0

    check(run("auth", "status"), width, whole=(server.url,))
    check(run("doctor"), width, whole=(server.url,))
    audit = run("audit")
    check(audit, width, whole=("BASKET-778812", str(SANDBOX.spaaza_voucher_id)), seen=(server.url,))
    info = run("sandbox", "info")
    check(info, width, whole=(KEY, LOCK_KEY, SANDBOX.spid_client_id, "324673248"))
    assert run("config", "set", "spaaza.chain_id", "1000").exit_code == 0
    check(run("config", "list"), width, whole=("1000",))


# Long values the sandbox never holds, through strict `responses` stubs: the CLI runs in
# process with its stdout taken for a terminal and the width given by COLUMNS (a pty cannot be
# used with stubs); the same layout code runs as on a pty.
LONG_CODES = [f"{n}-" + "ABCDEFGHJK" * 5 + "LMNOP" for n in (1, 2)]  # 57 characters each
TOO_LONG_CODE = "9-" + "QRSTUVWXYZ" * 6 + "Q"  # 63: wider than 60 columns


def stubbed_screen(result, width: int) -> Screen:
    text = result.stdout
    return Screen(result.exit_code, text.splitlines(), result.stderr)


@pytest.fixture
def spid_stubbed(monkeypatch, rsps, isolated_environment):
    import tests.spid_stubs as stubs

    stubs.use_client_credentials(monkeypatch)
    stubs.oauth_token(rsps)
    return stubs


@pytest.mark.parametrize("columns", [60, 80])
def test_long_codes_taken_out_stay_whole_within_the_width(
    cli, rsps, spid_stubbed, monkeypatch, columns
) -> None:
    """Catches `codes G --amount 2` drawing a table wider than the terminal (75 columns at 60
    for long codes): the codes go one record each, every code whole."""
    monkeypatch.setenv("COLUMNS", str(columns))
    sample = [
        {"voucherId": str(557914 + n), "voucherGroupId": "46", "voucherCode": code,
         "type": "8", "createdBy": "1", "created": "2014-08-05 14:37:03"}
        for n, code in enumerate(LONG_CODES)
    ]  # fmt: skip
    spid_stubbed.vouchers_handout(rsps, "46", "2", sample)

    screen = stubbed_screen(cli("codes", "46", "--amount", "2", tty=True), columns)

    check(screen, columns, whole=tuple(LONG_CODES))
    assert all(any(code in line for line in screen.lines) for code in LONG_CODES)


def test_a_code_wider_than_the_terminal_is_alone_on_its_line(
    cli, rsps, spid_stubbed, monkeypatch
) -> None:
    """Catches a code too long for the terminal cut, shortened or sharing its line: it stands
    alone, whole, and is the only line wider than the terminal."""
    monkeypatch.setenv("COLUMNS", "60")
    sample = [{"voucherId": "1", "voucherGroupId": "46", "voucherCode": TOO_LONG_CODE,
               "type": "8", "createdBy": "1", "created": "2014-08-05 14:37:03"}]  # fmt: skip
    spid_stubbed.vouchers_handout(rsps, "46", "1", sample)

    result = cli("codes", "46", "--amount", "1", tty=True)

    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert [line for line in lines if width_of(line) > 60] == [TOO_LONG_CODE]


def test_a_long_client_id_in_a_group_is_never_folded(cli, rsps, spid_stubbed, monkeypatch):
    """Catches `group ID` folding a long client id inside itself with no … and no note."""
    from tests.conftest import fixture_json

    monkeypatch.setenv("COLUMNS", "60")
    client = "c" * 30 + "0123456789abcdef" * 2  # 62 characters
    group = {**fixture_json("spid_get_voucher.json")["group"], "clientId": client}
    spid_stubbed.voucher_group(rsps, "47", group)

    screen = stubbed_screen(cli("group", "47", tty=True), 60)

    check(screen, 60, whole=(client,))


def test_a_long_code_in_the_voucher_heading_fits(cli, rsps, spid_stubbed, monkeypatch) -> None:
    """Catches `show CODE` writing a heading line wider than the terminal for a long code."""
    from tests.conftest import fixture_json

    monkeypatch.setenv("COLUMNS", "60")
    code = "62-" + "ABCDEFGHJK" * 5 + "LMNOPQRST"  # 62 characters
    voucher = {**fixture_json("spid_get_voucher.json"), "voucherCode": code}
    spid_stubbed.get_voucher(rsps, code, voucher)

    screen = stubbed_screen(cli("show", code, tty=True), 60)

    check(screen, 60, whole=(code,))
