"""What the ledger costs as it grows: audit over a million records, resuming a big finished run,
starting a run with a long history, and a bulk run's memory by rows.

    python bench/ledger.py [--records N] [--resume-rows N] [--memory-rows 1000,10000,100000]

(a) ``audit --user X -o json`` and ``audit --since 1h -o json`` over a SQLite ledger of
    --records changes (spread over 30 days, 100,000 users), wall time and peak RSS; the floor is
    ``grep -c`` over a JSONL file of the same records;
(b) a run of --resume-rows rows that finished, run again (``--run big``): every row skipped,
    nothing sent; wall time to exit;
(c) a one-row run, process start to exit (its first and only request inside), with an empty
    ledger and with the --records one: time to the first request must not grow with history;
(d) peak RSS of bulk runs of each --memory-rows rows (rows the sandbox refuses at once, so
    that the run is the client's work), and the KiB a row adds.

The history is written straight into the ledger file the way voucherctl writes it (schema made
by voucherctl itself). Goals: (a) under 1 s and 100 MiB each; (b) under 5 s; (c) the run with
history within 1.5x of the one without, plus 0.2 s; (d) under 100 MiB at the largest count.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import sqlite3
import sys
import time
from pathlib import Path

from _common import (
    HANDOUT_GROUP,
    BenchError,
    Goal,
    Measured,
    Workspace,
    add_tool_arguments,
    exit_code,
    goal_table,
    measure,
    served_sandbox,
    spid_token,
    table,
    tools_from,
    workspace,
)

DAY = 86_400


def digest(values: dict[str, str]) -> str:
    """A request's digest, as voucherctl computes it (voucherctl.storage.ledger.digest)."""
    text = json.dumps(values, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def stamp(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def make_schema(tools_voucherctl: str, env: dict[str, str]) -> Path:
    """An empty ledger, made (and migrated) by voucherctl itself."""
    measure([tools_voucherctl, "runs", "-o", "json"], env=env)
    return Path(env["VOUCHERCTL_DATA_DIR"]) / "ledger.sqlite3"


def fill_history(ledger: Path, jsonl: Path, records: int, host: str) -> None:
    """``records`` single handouts over 30 days, in the ledger and in a JSONL file."""
    rng = random.Random(7)
    now = time.time()
    with sqlite3.connect(ledger) as db, jsonl.open("w", encoding="utf-8") as out:
        db.execute("PRAGMA synchronous = OFF")
        for start in range(0, records, 50_000):
            rows, subjects, lines = [], [], []
            for n in range(start, min(start + 50_000, records)):
                when = stamp(now - 30 * DAY + n * (30 * DAY / records))
                ids = {"userId": str(rng.randrange(1, 100_001)), "voucherGroupId": HANDOUT_GROUP}
                text = json.dumps(ids)
                rows.append((n + 1, when, text, digest(ids)))
                subjects += [(n + 1, "user", ids["userId"]), (n + 1, "group", HANDOUT_GROUP)]
                lines.append(
                    json.dumps(
                        {
                            "time": when,
                            "user": "ann",
                            "host": host,
                            "command": "handout",
                            "identifiers": ids,
                            "outcome": "ok",
                        }
                    )
                    + "\n"
                )
            db.executemany(
                "INSERT INTO changes (id, time, settled, os_user, machine, profile, host, "
                "command, identifiers, digest, outcome, exit_code) VALUES "
                f"(?, ?, ?, 'ann', 'desk', 'default', '{host}', 'handout', ?, ?, 'ok', 0)",
                [(i, t, t, s, d) for i, t, s, d in rows],
            )
            db.executemany("INSERT INTO subjects VALUES (?, ?, ?)", subjects)
            out.writelines(lines)


def in_child(*argv: object) -> None:
    import subprocess

    subprocess.run([sys.executable, __file__, *map(str, argv)], check=True)


def finished_run(ledger: Path, rows: int, host: str, first_user: int) -> Path:
    """A run ``big`` that did every row of a ``rows``-row file: the file."""
    csv = ledger.parent.parent / "big.csv"
    stamp_now = stamp(time.time())
    with sqlite3.connect(ledger) as db, csv.open("w") as out:
        out.write("userId,voucherGroupId\n")
        cursor = db.execute(
            "INSERT INTO runs (name, identity, command, host, fixed, named, profile, machine, "
            "os_user, started, last_started, ended, finished) VALUES ('big', '', 'handout', ?, "
            "'{}', 1, 'default', 'desk', 'ann', ?, ?, ?, 1)",
            (host, stamp_now, stamp_now, stamp_now),
        )
        run = cursor.lastrowid
        batch = []
        for n in range(rows):
            ids = {"userId": str(first_user + n), "voucherGroupId": HANDOUT_GROUP}
            out.write(f"{ids['userId']},{HANDOUT_GROUP}\n")
            key = digest(ids)
            batch.append((stamp_now, json.dumps(ids), key, run, f"{key}/0", n + 2))
        db.executemany(
            "INSERT INTO changes (time, os_user, machine, profile, host, command, identifiers, "
            f"digest, run_id, row_key, line, outcome) VALUES (?, 'ann', 'desk', 'default', "
            f"'{host}', 'handout', ?, ?, ?, ?, ?, 'ok')",
            batch,
        )
    return csv


def timed(label: str, measured: Measured) -> list[str]:
    return [label, f"{measured.wall:.2f}", f"{measured.cpu:.2f}", f"{measured.max_rss_mib:.1f}"]


def run(args: argparse.Namespace) -> tuple[list[list[str]], list[Goal]]:
    tools = tools_from(args)
    rows: list[list[str]] = []
    goals: list[Goal] = []
    with workspace() as space, served_sandbox(tools, space) as server:
        token = spid_token(server.url)
        env = space.environment(server.url, token)
        host = server.url
        fresh = Workspace(space.root / "fresh")
        fresh_env = fresh.environment(server.url, token)
        one = space.root / "one.csv"
        one.write_text(f"userId,voucherGroupId\n100001,{HANDOUT_GROUP}\n")
        empty = measure(
            [tools.voucherctl, "handout", "--from", str(one), "-o", "jsonl"],
            env=fresh_env,
            stdout=space.root / "one-empty.jsonl",
        )
        ledger = make_schema(tools.voucherctl, env)
        jsonl = space.root / "history.jsonl"
        started = time.monotonic()
        # In a child: a child's peak RSS starts from its parent's, so this process stays small.
        in_child("fill-history", ledger, jsonl, args.records, host)
        print(
            f"history of {args.records:,} records written in {time.monotonic() - started:.0f} s",
            file=sys.stderr,
        )
        grep = measure(
            ["grep", "-c", '"userId": "4242"', str(jsonl)],
            env=env,
            stdout=space.root / "grep.txt",
            check=False,
        )
        by_user = measure(
            [tools.voucherctl, "audit", "--user", "4242", "-o", "json"],
            env=env,
            stdout=space.root / "user.json",
        )
        since = measure(
            [tools.voucherctl, "audit", "--since", "1h", "-o", "json"],
            env=env,
            stdout=space.root / "since.json",
        )
        one_history = space.root / "one-history.csv"
        one_history.write_text(f"userId,voucherGroupId\n100002,{HANDOUT_GROUP}\n")
        with_history = measure(
            [tools.voucherctl, "handout", "--from", str(one_history), "-o", "jsonl"],
            env=env,
            stdout=space.root / "one-history.jsonl",
        )
        csv = ledger.parent.parent / "big.csv"
        in_child("finished-run", ledger, args.resume_rows, host, 2_000_000)
        resume = measure(
            [tools.voucherctl, "handout", "--from", str(csv), "--run", "big", "-o", "jsonl", "-q"],
            env=env,
            stdout=space.root / "resume.jsonl",
        )
        skipped = sum(1 for line in (space.root / "resume.jsonl").open() if '"skipped"' in line)
        if skipped != args.resume_rows:
            raise BenchError(f"the resumed run skipped {skipped} of {args.resume_rows} rows")
        memory = []
        for count in args.memory_rows:
            users = space.root / f"mem-{count}.csv"
            with users.open("w") as out:
                out.write("userId,voucherGroupId\n")
                out.writelines(f"{5_000_000 + i},{HANDOUT_GROUP}\n" for i in range(count))
            mem_env = Workspace(space.root / f"mem-{count}").environment(server.url, token)
            memory.append(
                (
                    count,
                    measure(
                        [
                            tools.voucherctl,
                            "handout",
                            "--from",
                            str(users),
                            "--concurrency",
                            "8",
                            "-o",
                            "jsonl",
                            "-q",
                        ],
                        env=mem_env,
                        stdout=Path(os.devnull),
                        check=False,
                    ),
                )
            )
    rows += [
        timed(f"grep -c over the JSONL of {args.records:,} records (floor)", grep),
        timed(f"audit --user 4242 over {args.records:,} records", by_user),
        timed(f"audit --since 1h over {args.records:,} records", since),
        timed(f"resume of a finished {args.resume_rows:,}-row run, nothing to do", resume),
        timed("a one-row run, empty ledger", empty),
        timed(f"a one-row run, {args.records:,} records in the ledger", with_history),
        *(timed(f"bulk run of {count:,} refused rows", measured) for count, measured in memory),
    ]
    goals += [
        Goal("audit --user, wall", by_user.wall, 1.0, True, unit=" s"),
        Goal("audit --user, peak RSS", by_user.max_rss_mib, 100.0, True, unit=" MiB", digits=1),
        Goal("audit --since 1h, wall", since.wall, 1.0, True, unit=" s"),
        Goal("audit --since 1h, peak RSS", since.max_rss_mib, 100.0, True, unit=" MiB", digits=1),
        Goal(f"resume of {args.resume_rows:,} done rows, wall", resume.wall, 5.0, True, unit=" s"),
        Goal(
            "one-row run with history / without",
            with_history.wall,
            empty.wall * 1.5 + 0.2,
            True,
            unit=" s",
            note=f"without: {empty.wall:.2f} s",
        ),
    ]
    if memory:
        (low, low_m), (high, high_m) = memory[0], memory[-1]
        per_row = (high_m.max_rss_kib - low_m.max_rss_kib) / max(high - low, 1)
        goals.append(
            Goal(
                f"bulk run peak RSS, {high:,} rows",
                high_m.max_rss_mib,
                100.0,
                True,
                unit=" MiB",
                digits=1,
                note=f"{per_row:.3f} KiB a row",
            )
        )
    return rows, goals


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_tool_arguments(parser)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--resume-rows", type=int, default=100_000)
    parser.add_argument(
        "--memory-rows",
        default="1000,10000,100000",
        type=lambda text: [int(n) for n in text.split(",") if n],
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    try:
        rows, goals = run(args)
    except BenchError as exc:
        print(f"ledger benchmark: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps({"runs": rows, "goals": [goal.as_dict() for goal in goals]}))
    else:
        print(table(["run", "wall s", "cpu s", "max RSS MiB"], rows), end="\n\n")
        print(goal_table(goals))
    return exit_code(goals)


if __name__ == "__main__":
    if sys.argv[1:2] == ["fill-history"]:
        ledger_file, jsonl_file, count, host_url = sys.argv[2:]
        fill_history(Path(ledger_file), Path(jsonl_file), int(count), host_url)
        sys.exit(0)
    if sys.argv[1:2] == ["finished-run"]:
        ledger_file, count, host_url, first = sys.argv[2:]
        finished_run(Path(ledger_file), int(count), host_url, int(first))
        sys.exit(0)
    sys.exit(main())
