"""What earlier versions wrote, imported into the ledger once and never modified
(docs/contract.md#the-ledger): ``audit.jsonl`` and the journals in the data directory, and a
journal named by ``--journal PATH``.

A journal's rows carry the id of their change in ``audit.jsonl``, so a row imported from both is
one record: the journal adds the run, the audit log the identifiers.
"""

import json
import os
import stat
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from voucherctl.core.errors import UsageError
from voucherctl.core.text import escape_control
from voucherctl.storage.engines import Transaction
from voucherctl.storage.ledger import SENT, Ledger, now
from voucherctl.storage.subjects import add_subjects

AUDIT_FILE = "audit.jsonl"
JOURNALS = "journals"
FORMAT, LEGACY_FORMAT = 2, 1
# voucherctl 0.1's rows, known by line: line -> (row key, input hash) of the file as it is now.
LegacyRows = Callable[[], dict[int, tuple[str, str]]]


def import_data_folder(ledger: Ledger, data: Path) -> None:
    """``audit.jsonl`` and the journals of the data directory, each once."""
    audit = data / AUDIT_FILE
    folder = data / JOURNALS
    journals = sorted(folder.glob("*.jsonl")) if folder.is_dir() else []
    if not audit.is_file() and not journals:
        return
    done = _imported(ledger)
    if audit.is_file() and _key(ledger, audit) not in done:
        _import_audit(ledger, audit)
    for path in journals:
        if _key(ledger, path) not in done and _header(path).get("voucherctl_journal") == FORMAT:
            import_journal(ledger, path, name=path.stem, named=False)


def import_journal(
    ledger: Ledger,
    path: Path,
    *,
    name: str,
    named: bool,
    expect: tuple[str, str] | None = None,
    legacy: LegacyRows | None = None,
) -> None:
    """A journal file, read only, as the run ``name``; once. ``expect``: the command and host
    the run has (a journal of another is refused). A file that is no journal is left alone."""
    if _key(ledger, path) in _imported(ledger) or not _is_file(path):
        return
    header = _header(path)
    if header.get("voucherctl_journal") not in (FORMAT, LEGACY_FORMAT):
        return
    shown = escape_control(str(path))
    if expect is not None and (header.get("command"), header.get("host")) != expect:
        raise UsageError(
            f"the journal {shown} records a different run (command "
            f"{escape_control(repr(header.get('command')))}, host "
            f"{escape_control(repr(header.get('host')))}); nothing was sent (name another run)"
        )
    rows, started, finished = _journal_rows(path, shown)
    if header["voucherctl_journal"] == LEGACY_FORMAT:
        rows = _legacy_rows(rows, legacy, shown)
    with ledger.engine.transaction() as tx:
        run = _import_run(tx, ledger, header, name, named, started, finished)
        for key, (line, state, change) in rows.items():
            _import_row(tx, ledger, header, run, key, line, state, change)
        tx.run("INSERT INTO imports (source, time) VALUES (?, ?)", (_key(ledger, path), now()))


def _import_run(
    tx: Transaction,
    ledger: Ledger,
    header: dict[str, Any],
    name: str,
    named: bool,
    started: str | None,
    finished: bool,
) -> int:
    found = tx.one("SELECT id FROM runs WHERE name = ?", (name,))
    if found is not None:
        return int(found[0])
    identity = "" if named else name.partition("-")[2]
    stamp = started or now()
    created = tx.one(
        "INSERT INTO runs (name, identity, command, host, fixed, named, profile, machine, "
        "os_user, started, last_started, ended, finished) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        (
            name,
            identity,
            str(header.get("command")),
            str(header.get("host")),
            json.dumps(header.get("fixed") or {}, sort_keys=True),
            int(named),
            ledger.who.profile,
            ledger.who.machine,
            ledger.who.os_user,
            stamp,
            stamp,
            stamp,
            int(finished),
        ),
    )
    assert created is not None
    return int(created[0])


def _import_row(
    tx: Transaction,
    ledger: Ledger,
    header: dict[str, Any],
    run: int,
    key: str,
    line: int,
    state: str,
    change: str | None,
) -> None:
    audited = tx.one("SELECT id, outcome FROM changes WHERE ref = ?", (change,)) if change else None
    if audited is not None:
        outcome = state if audited[1] == SENT and state != SENT else audited[1]
        tx.run(
            "UPDATE changes SET run_id = ?, row_key = ?, line = ?, outcome = ? WHERE id = ?",
            (run, key, line, outcome, audited[0]),
        )
        return
    tx.run(
        "INSERT INTO changes (time, os_user, machine, profile, host, command, identifiers, "
        "digest, run_id, row_key, line, outcome, ref) VALUES (?, ?, ?, ?, ?, ?, '{}', ?, ?, ?, "
        "?, ?, ?)",
        (
            now(),
            ledger.who.os_user,
            ledger.who.machine,
            ledger.who.profile,
            str(header.get("host")),
            str(header.get("command")),
            key.partition("/")[0],
            run,
            key,
            line,
            state,
            change,
        ),
    )


def _journal_rows(path: Path, shown: str) -> tuple[dict[str, Any], str | None, bool]:
    """Row key (or ``line N`` in a 0.1 journal) -> (line, last state, change id)."""
    rows: dict[str, Any] = {}
    started: str | None = None
    finished = False
    for number, record in _records(path, shown):
        if number == 1:
            continue
        if record.get("run") == "start":
            started, finished = str(record.get("time")), False
        elif record.get("run") == "end":
            finished = record.get("finished") is True
        else:
            try:
                state = str(record["state"])
                if "row" in record:
                    rows[str(record["row"])] = (int(record["line"]), state, record.get("change"))
                else:
                    rows[f"line {int(record['line'])}"] = (
                        int(record["line"]),
                        state,
                        str(record["hash"]),
                    )
            except (KeyError, TypeError, ValueError):
                raise _damaged(shown, number, "a record of an unknown shape") from None
    return rows, started, finished


def _legacy_rows(rows: dict[str, Any], legacy: LegacyRows | None, shown: str) -> dict[str, Any]:
    """A 0.1 journal's rows by their key today: usable only while every row it recorded still
    stands on its line, unchanged; otherwise which rows were sent cannot be told."""
    standing = legacy() if legacy else {}
    moved = [line for line, _, hashed in rows.values() if standing.get(line, ("", ""))[1] != hashed]
    if moved:
        raise UsageError(
            f"the journal {shown} was written by voucherctl 0.1, which knew rows by their line, "
            f"and {len(moved)} row(s) it recorded (line {min(moved)} first) no longer stand on "
            "their line; nothing was sent. Restore the file as it was to go on, or name a new "
            "run (--run NAME) after checking those rows"
        )
    return {standing[line][0]: (line, state, None) for line, state, _ in rows.values()}


def _import_audit(ledger: Ledger, path: Path) -> None:
    from voucherctl.storage.ledger import digest

    changes: dict[str, dict[str, Any]] = {}
    for number, entry in _records(path, escape_control(str(path)), strict=False):
        key = str(entry.get("change") or f"line {number}")
        first = changes.setdefault(key, {**entry, "first": entry.get("time")})
        first.update(entry, first=first["first"])
    with ledger.engine.transaction() as tx:
        for key, entry in changes.items():
            ids = entry.get("identifiers") if isinstance(entry.get("identifiers"), dict) else {}
            assert isinstance(ids, dict)
            error = entry.get("error")
            found = tx.one(
                "INSERT INTO changes (time, settled, os_user, machine, profile, host, command, "
                "identifiers, digest, outcome, exit_code, error, ref) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                (
                    str(entry.get("first") or ""),
                    str(entry.get("time") or ""),
                    str(entry.get("user") or "unknown"),
                    ledger.who.machine,  # the log was this machine's
                    str(entry.get("profile") or ""),
                    str(entry.get("host") or ""),
                    str(entry.get("command") or ""),
                    json.dumps(ids, ensure_ascii=False),
                    digest({str(k): str(v) for k, v in ids.items()}),
                    str(entry.get("outcome") or SENT),
                    entry.get("exit_code") if isinstance(entry.get("exit_code"), int) else None,
                    json.dumps({"message": str(error)}) if error else None,
                    key,
                ),
            )
            assert found is not None
            add_subjects(tx, int(found[0]), ids)
        tx.run("INSERT INTO imports (source, time) VALUES (?, ?)", (_key(ledger, path), now()))


def _key(ledger: Ledger, path: Path) -> str:
    """A file as ``imports`` knows it: machines sharing a ledger may have the same paths."""
    return f"{ledger.who.machine}:{path}"


def _imported(ledger: Ledger) -> set[str]:
    with ledger.engine.transaction() as tx:
        return {str(row[0]) for row in tx.all("SELECT source FROM imports")}


def _is_file(path: Path) -> bool:
    try:
        return stat.S_ISREG(path.stat().st_mode)
    except OSError:
        return False


def _header(path: Path) -> dict[str, Any]:
    """The first record of a regular file, or nothing (a FIFO is never opened)."""
    if not _is_file(path):
        return {}
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        with os.fdopen(fd, "rb") as handle:
            first = json.loads(handle.readline(65536).decode("utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError):
        return {}
    return first if isinstance(first, dict) else {}


def _records(
    path: Path, shown: str, *, strict: bool = True
) -> Iterator[tuple[int, dict[str, Any]]]:
    with path.open("rb") as handle:
        for number, text in enumerate(handle, start=1):
            if not text.endswith(b"\n"):
                return  # a record a kill cut short
            try:
                record = json.loads(text.decode("utf-8"))
            except (UnicodeDecodeError, ValueError, RecursionError):
                if strict:
                    raise _damaged(shown, number, "not a JSON record") from None
                continue
            if isinstance(record, dict):
                yield number, record
            elif strict:
                raise _damaged(shown, number, "not a JSON object")


def _damaged(shown: str, number: int, why: str) -> UsageError:
    return UsageError(
        f"the journal {shown} is damaged at line {number} ({why}), so which rows were sent "
        "cannot be told; nothing was sent. Move it away and check the rows it covers "
        "(voucherctl audit) before running again"
    )
