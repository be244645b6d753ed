"""The ledger: sessions, runs, changes, and the guard that keeps every change at most once.

What users are promised: docs/contract.md#the-ledger and docs/contract.md#bulk-runs.

Every change is recorded as ``sent`` before its request goes out (:meth:`Ledger.begin`) and its
outcome is written onto that same record after (:meth:`Ledger.settle`). ``begin`` decides, in
one transaction that every other writer of the same request waits for, whether the request may
go out now:

- never while an identical request (command, host, request digest) is in flight in a live
  process: the caller waits (``wait``);
- a row its own run already did is ``done``; one its own run sent without an answer is
  ``unknown`` (the caller settles it, or resends only with ``--retry-unknown``);
- an unnamed run skips what any other run or single command did, or left unknown, on that
  host (``elsewhere``, naming it), unless ``--again``; ``lock``/``unlock`` are exempt.

A ``sent`` record whose process is gone (its session's lock released) is unknown.
"""

import hashlib
import json
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from voucherctl.core.errors import RunFinishedError, RunInUseError, RunMismatchError
from voucherctl.core.redact import scrub
from voucherctl.core.text import escape_control
from voucherctl.storage.engines import Engine, Transaction
from voucherctl.storage.migrations import migrate
from voucherctl.storage.subjects import add_subjects

SENT, OK, FAILED, UNKNOWN = "sent", "ok", "failed", "unknown"
REPEATABLE = frozenset({"lock", "unlock"})  # set a state: safe to run again


def digest(values: Mapping[str, str]) -> str:
    """A content hash of parameters (or of a row's input, as voucherctl 0.1 journals hold it)."""
    canonical = json.dumps(values, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:32]


@dataclass(frozen=True)
class Who:
    """Who makes the changes: recorded on every record."""

    os_user: str
    machine: str
    profile: str


@dataclass(frozen=True)
class RunSpec:
    """The run a bulk command asks for."""

    name: str  # --run NAME, the --journal path, or the default name
    identity: str  # command, host, fills and input, hashed: how a default run is found again
    command: str
    host: str
    fixed: Mapping[str, str]
    named: bool
    again: bool = False
    resume: bool = False
    source: str = ""  # the input, for messages


@dataclass(frozen=True)
class Run:
    id: int
    name: str
    named: bool
    again: bool  # rows done elsewhere are sent anyway
    earlier: "tuple[str, bool, int] | None"  # (started, finished, rows done) of its last attempt


@dataclass(frozen=True)
class Request:
    command: str
    host: str
    identifiers: Mapping[str, str]
    digest: str


@dataclass(frozen=True)
class Decision:
    kind: str  # send | done | unknown | elsewhere | wait
    change: int | None = None
    by: str | None = None  # elsewhere: the run or command that did it


def now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


class Ledger:
    """An open ledger, with this process's session (and its lock) in it."""

    def __init__(self, engine: Engine, who: Who) -> None:
        self.engine = engine
        self.who = who
        self.shown = engine.shown
        self._dead: set[int] = set()
        migrate(engine, now())
        with engine.transaction() as tx:
            found = tx.one(
                "INSERT INTO sessions (machine, os_user, pid, started) VALUES (?, ?, ?, ?) "
                "RETURNING id",
                (who.machine, who.os_user, os.getpid(), now()),
            )
        assert found is not None
        self.session = int(found[0])
        engine.hold(self.session)

    def close(self) -> None:
        self.engine.close()  # again: nothing more happens

    def alive(self, session: int | None) -> bool:
        if session is None or session in self._dead:
            return False
        if self.engine.alive(int(session)):
            return True
        self._dead.add(int(session))
        return False

    # -- runs ------------------------------------------------------------------------------

    def open_run(self, spec: RunSpec) -> Run:
        """The run ``spec`` asks for, held by this process until :meth:`end_run`."""
        with self.engine.transaction(guard=f"run\n{spec.identity}\n{spec.name}") as tx:
            if spec.named:
                found = tx.one(_RUN + " WHERE name = ?", (spec.name,))
            else:
                found = tx.one(
                    _RUN + " WHERE identity = ? ORDER BY id DESC LIMIT 1", (spec.identity,)
                )
            if found is not None:
                self._check_free(found, spec)
            fresh = found is None or (not spec.named and self._anew(found, spec))
            if fresh:
                return self._new_run(tx, spec)
            assert found is not None
            done = tx.one(
                "SELECT count(*) FROM changes WHERE run_id = ? AND outcome = ?", (found[0], OK)
            )
            tx.run(
                "UPDATE runs SET holder = ?, last_started = ?, ended = NULL, finished = 0, "
                "reason = NULL, machine = ?, os_user = ?, profile = ? WHERE id = ?",
                (
                    self.session,
                    now(),
                    self.who.machine,
                    self.who.os_user,
                    self.who.profile,
                    found[0],
                ),
            )
            earlier = (str(found[5]), bool(found[6]), int(done[0]) if done else 0)
            return Run(int(found[0]), str(found[1]), spec.named, spec.again, earlier)

    def _check_free(self, found: tuple[Any, ...], spec: RunSpec) -> None:
        _, name, command, host, holder = found[:5]
        shown = escape_control(name)
        if (command, host) != (spec.command, spec.host):
            raise RunMismatchError(
                f"the run {shown} is a {command} run on {escape_control(host)}; this is "
                f"{spec.command} on {escape_control(spec.host)}. Nothing was sent: give this run "
                "a name of its own (--run NAME)"
            )
        if self.alive(holder):
            raise RunInUseError(
                f"the run {shown} is in use by another voucherctl run ({_holder(found)}); "
                "nothing was sent. Wait for that run to end, or name this one otherwise "
                "(--run NAME)"
            )

    def _anew(self, found: tuple[Any, ...], spec: RunSpec) -> bool:
        """Whether an unnamed run starts a new run rather than going on with ``found``."""
        finished = bool(found[6])
        if spec.again or (finished and spec.command in REPEATABLE and not spec.resume):
            return True
        if finished and not spec.resume:
            done = f"started {found[5]}"
            raise RunFinishedError(
                f"{spec.source} was already run to the end with {spec.command} on "
                f"{escape_control(spec.host)} (run {escape_control(found[1])}, {done}); nothing "
                "was sent. To go on with that run (done rows skipped, failed rows sent again) add "
                "--resume; to run the file anew add --again (or name a run of its own: --run NAME)"
            )
        return False

    def _new_run(self, tx: Transaction, spec: RunSpec) -> Run:
        name = spec.name
        if not spec.named:
            count = tx.one("SELECT count(*) FROM runs WHERE identity = ?", (spec.identity,))
            if count and count[0]:
                name = f"{spec.name}-{int(count[0]) + 1}"
        stamp = now()
        found = tx.one(
            "INSERT INTO runs (name, identity, command, host, fixed, named, profile, machine, "
            "os_user, started, last_started, finished, holder) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?) RETURNING id",
            (
                name,
                spec.identity,
                spec.command,
                spec.host,
                json.dumps(dict(spec.fixed), sort_keys=True),
                int(spec.named),
                self.who.profile,
                self.who.machine,
                self.who.os_user,
                stamp,
                stamp,
                self.session,
            ),
        )
        assert found is not None
        return Run(int(found[0]), name, spec.named, spec.again, None)

    def end_run(self, run: Run, *, finished: bool, reason: str | None) -> None:
        with self.engine.transaction() as tx:
            tx.run(
                "UPDATE runs SET ended = ?, finished = ?, reason = ?, holder = NULL WHERE id = ?",
                (now(), int(finished), scrub(reason) if reason else None, run.id),
            )

    # -- changes ---------------------------------------------------------------------------

    def begin(
        self,
        request: Request,
        *,
        run: Run | None = None,
        row: tuple[str, int] | None = None,
        resend: bool = False,
    ) -> Decision:
        """Whether ``request`` goes out now; when it does, recorded as ``sent`` first.

        ``row``: the row's key and line in ``run``. ``resend``: a row the run left unknown,
        sent again (--retry-unknown).
        """
        if run is not None and row is not None and not resend:
            with self.engine.read() as tx:  # a row its run did: no write lock to wait for
                done = tx.one(_OWN, (run.id, row[0]))
            if done is not None and done[1] == OK:
                return Decision("done", int(done[0]))
        guard = f"{request.host}\n{request.command}\n{request.digest}"
        with self.engine.transaction(guard=guard) as tx:
            if run is not None and row is not None and not resend:
                own = tx.one(_OWN, (run.id, row[0]))
                if own is not None and own[1] != FAILED:
                    return self._own(own)
            in_flight = tx.all(
                f"SELECT session FROM changes WHERE {_SAME} AND outcome = ?",
                (*_same(request), SENT),
            )
            if any(self.alive(found[0]) for found in in_flight):
                return Decision("wait")
            if run is not None and not run.named and not run.again:
                by = _elsewhere(tx, request, run)
                if by is not None:
                    return Decision("elsewhere", by=by)
            return Decision("send", self._insert(tx, request, run, row))

    def done_rows(self, run: Run, keys: list[str]) -> set[str]:
        """Which of the row ``keys`` ``run`` did (ok)."""
        if not keys:
            return set()
        marks = ", ".join("?" for _ in keys)
        with self.engine.read() as tx:
            found = tx.all(
                f"SELECT row_key FROM changes WHERE run_id = ? AND outcome = ? "
                f"AND row_key IN ({marks})",
                (run.id, OK, *keys),
            )
        return {str(row[0]) for row in found}

    def done_elsewhere(self, request: Request, run: Run) -> str | None:
        """Who did ``request`` (or left it unknown) on its host outside ``run``, if anyone."""
        with self.engine.transaction() as tx:
            return _elsewhere(tx, request, run)

    def discard_run(self, run: Run) -> None:
        """Let go of a run that sent nothing; forgotten when it has no rows at all."""
        with self.engine.transaction() as tx:
            tx.run("UPDATE runs SET holder = NULL WHERE id = ?", (run.id,))
            rows = tx.one("SELECT count(*) FROM changes WHERE run_id = ?", (run.id,))
            if rows is not None and not rows[0] and run.earlier is None:
                tx.run("DELETE FROM runs WHERE id = ?", (run.id,))

    def _own(self, own: tuple[Any, ...]) -> Decision:
        change, outcome, session = int(own[0]), own[1], own[2]
        if outcome == OK:
            return Decision("done", change)
        if outcome == SENT and self.alive(session):
            return Decision("wait")
        return Decision("unknown", change)

    def _insert(
        self, tx: Transaction, request: Request, run: Run | None, row: tuple[str, int] | None
    ) -> int:
        identifiers = dict(request.identifiers)
        found = tx.one(
            "INSERT INTO changes (time, os_user, machine, profile, host, command, identifiers, "
            "digest, run_id, row_key, line, session, outcome) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (
                now(),
                self.who.os_user,
                self.who.machine,
                self.who.profile,
                request.host,
                request.command,
                scrub(json.dumps(identifiers, ensure_ascii=False)),
                request.digest,
                run.id if run else None,
                row[0] if row else None,
                row[1] if row else None,
                self.session,
                SENT,
            ),
        )
        assert found is not None
        add_subjects(tx, int(found[0]), identifiers)
        return int(found[0])

    def settle(
        self,
        change: int,
        outcome: str,
        exit_code: int | None,
        error: Mapping[str, Any] | None,
        *,
        identifiers: Mapping[str, str] | None = None,
    ) -> None:
        """The outcome of a change, written onto its record (also when settled later)."""
        text = scrub(json.dumps(dict(error), ensure_ascii=False)) if error else None
        with self.engine.transaction() as tx:
            tx.run(
                "UPDATE changes SET outcome = ?, exit_code = ?, error = ?, settled = ? "
                "WHERE id = ?",
                (outcome, exit_code, text, now(), change),
            )
            if identifiers:
                tx.run(
                    "UPDATE changes SET identifiers = ? WHERE id = ?",
                    (scrub(json.dumps(dict(identifiers), ensure_ascii=False)), change),
                )
                add_subjects(tx, change, identifiers)


_OWN = (
    "SELECT id, outcome, session FROM changes WHERE run_id = ? AND row_key = ? "
    "ORDER BY id DESC LIMIT 1"
)
_SAME = "digest = ? AND host = ? AND command = ?"


def _same(request: Request) -> tuple[str, str, str]:
    return (request.digest, request.host, request.command)


def _elsewhere(tx: Transaction, request: Request, run: Run) -> str | None:
    """(b): an unnamed run skips what another run or command did or left unknown on the host;
    ``lock``/``unlock`` set a state, and are sent again."""
    if request.command in REPEATABLE:
        return None
    found = tx.one(
        "SELECT c.time, c.os_user, c.machine, r.name, c.command FROM changes c "
        "LEFT JOIN runs r ON r.id = c.run_id "
        "WHERE c.digest = ? AND c.host = ? AND c.command = ? "
        "AND c.outcome IN ('ok', 'unknown', 'sent') AND (c.run_id IS NULL OR c.run_id <> ?) "
        "ORDER BY c.id DESC LIMIT 1",
        (*_same(request), run.id),
    )
    return _by(found) if found is not None else None


_RUN = "SELECT id, name, command, host, holder, last_started, finished FROM runs"


def _holder(found: tuple[Any, ...]) -> str:
    return f"started {found[5]}"


def _by(found: tuple[Any, ...]) -> str:
    when, user, machine, run, command = found
    what = f"run {escape_control(run)}" if run else f"a single {command}"
    return f"{what} at {when} by {escape_control(user)}@{escape_control(machine)}"
