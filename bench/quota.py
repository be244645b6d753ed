"""How closely a bulk run keeps to SPiD's quota: its time against the ideal, and the refusals.

    python bench/quota.py [--quota 50] [--window 2] [--rows 300] [--concurrency 4] [--json]

Against ``voucherctl sandbox serve --quota N --quota-window W --log`` (SPiD's regime: N API
requests a window, reported in every answer, 420 beyond them) over a fresh state file, one run
of ``voucherctl handout --from users.csv --group 324673248 --concurrency C --max-wait M -o jsonl
-q`` over --rows distinct users, credentials from the environment (client id and secret, as
cron has them; the token exchange is no API request and the quota does not count it).

The ideal time is rows / N windows of W seconds: what a client sending exactly N requests a
window takes. (A client can finish sooner: the last window need not be waited out, so the
floor is ceil(rows / N) - 1 windows.) Refusals are the requests the sandbox answered 420, read
from its --log. --max-wait (default: twice the window) must exceed the window: a run told it
may not wait out a reset fails the rows the quota cannot take.

Goals: at most --concurrency requests refused; wall time at most 1.1x the ideal; every row ok
and every user exactly one voucher (checked in the state file). Exit status: 0 when every goal
passes, 1 when one fails, 2 when the benchmark could not run.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from _common import (
    FIRST_BULK_USER,
    HANDOUT_GROUP,
    SPID_CLIENT_ID,
    SPID_CLIENT_SECRET,
    BenchError,
    Goal,
    Measured,
    Tools,
    Workspace,
    add_tool_arguments,
    exit_code,
    goal_table,
    measure,
    served_sandbox,
    table,
    tools_from,
    workspace,
)
from bulk import integrity_problems, vouchers_per_user, write_users


@dataclass(frozen=True)
class Figures:
    """What one run did, as the client and the sandbox's log tell it."""

    process: Measured
    outcomes: Counter[str]
    answers: Counter[int]  # SPiD API answers by status, from the sandbox's log
    token_requests: int

    @property
    def refused(self) -> int:
        return self.answers[420]


def read_log(path: Path) -> tuple[Counter[int], int]:
    """API answers by status, and token requests, from ``sandbox serve --log`` lines like
    ``127.0.0.1 "POST /api/2/voucher_handout" 200 0.4ms``."""
    answers: Counter[int] = Counter()
    tokens = 0
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        request, _, rest = line.partition('" ')
        status = rest.split(" ", 1)[0]
        if not status.isdigit():
            continue  # not a request line (a traceback, a warning)
        if '"POST /oauth/token' in request:
            tokens += 1
        elif " /api/" in request:
            answers[int(status)] += 1
    return answers, tokens


def run_bulk(tools: Tools, space: Workspace, args: argparse.Namespace, max_wait: float) -> Figures:
    """One bulk handout against a sandbox serving the quota."""
    options = ["--quota", str(args.quota), "--quota-window", str(args.window), "--log"]
    users = range(FIRST_BULK_USER, FIRST_BULK_USER + args.rows)
    users_csv = write_users(space.root / "users.csv", users)
    rows_out = space.root / "rows.jsonl"
    with served_sandbox(tools, space, options=options) as server:
        before = vouchers_per_user(space.state, HANDOUT_GROUP)
        env = space.environment(server.url)
        env.update(
            VOUCHERCTL_SPID_CLIENT_ID=SPID_CLIENT_ID,
            VOUCHERCTL_SPID_CLIENT_SECRET=SPID_CLIENT_SECRET,
        )
        argv = [tools.voucherctl, "handout", "--from", str(users_csv), "--group", HANDOUT_GROUP]
        argv += ["--concurrency", str(args.concurrency), "--max-wait", f"{max_wait:g}"]
        process = measure([*argv, "-o", "jsonl", "-q"], env=env, stdout=rows_out, check=False)
    with rows_out.open(encoding="utf-8") as lines:
        outcomes = Counter(json.loads(line)["outcome"] for line in lines)
    problems = integrity_problems(before, vouchers_per_user(space.state, HANDOUT_GROUP), set(users))
    if problems:
        raise BenchError(f"{len(problems)} users without exactly one voucher: {problems[0]}")
    answers, tokens = read_log(space.root / "sandbox.log")
    return Figures(process, outcomes, answers, tokens)


def main() -> int:
    """Run the benchmark and print its tables."""
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_tool_arguments(parser)
    parser.add_argument("--quota", type=int, default=50, help="API requests a window (N)")
    parser.add_argument("--window", type=int, default=2, help="the window, seconds (W)")
    parser.add_argument("--rows", type=int, default=300, help="users of the bulk handout")
    parser.add_argument("--concurrency", type=int, default=4, help="requests in flight at once")
    parser.add_argument("--max-wait", type=float, help="default: twice the window")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    if min(args.quota, args.window, args.rows, args.concurrency) < 1:
        parser.error("--quota, --window, --rows and --concurrency must be at least 1")
    max_wait = args.max_wait or 2.0 * args.window
    if max_wait < args.window:
        parser.error("--max-wait must be at least the window: the run must wait out a reset")
    load_before = os.getloadavg()[0]
    try:
        tools = tools_from(args)
        with workspace() as space:
            figures = run_bulk(tools, space, args, max_wait)
    except BenchError as exc:
        print(f"quota benchmark: {exc}", file=sys.stderr)
        return 2
    load_after = os.getloadavg()[0]

    ideal = args.rows / args.quota * args.window
    floor = (math.ceil(args.rows / args.quota) - 1) * args.window
    wall = figures.process.wall
    goals = [
        Goal("requests refused (420)", figures.refused, args.concurrency, True, unit="", digits=0),
        Goal(
            "wall time / ideal",
            wall / ideal,
            1.1,
            True,
            note=f"{wall:.2f} s against {ideal:.1f} s; {wall / floor:.2f}x the floor"
            if floor
            else f"{wall:.2f} s against {ideal:.1f} s",
        ),
        Goal("rows not ok", args.rows - figures.outcomes["ok"], 0, True, unit="", digits=0),
    ]
    if args.json:
        print(json.dumps(as_json(tools, args, max_wait, figures, ideal, floor, goals)))
        return exit_code(goals)
    print(
        f"voucherctl quota: sandbox --quota {args.quota} --quota-window {args.window}, "
        f"{args.rows} rows, concurrency {args.concurrency}, --max-wait {max_wait:g}\n"
        f"python: {tools.python}\nvoucherctl: {tools.voucherctl}\n"
        f"load average (1 min) before: {load_before:.2f}, after: {load_after:.2f}\n"
    )
    rows = [
        ["wall time", f"{wall:.2f} s"],
        ["ideal (rows / N x W)", f"{ideal:.2f} s"],
        ["floor ((ceil(rows / N) - 1) x W)", f"{floor:.2f} s"],
        [
            "API answers by status",
            ", ".join(f"{k}: {v}" for k, v in sorted(figures.answers.items())),
        ],
        ["token requests", str(figures.token_requests)],
        ["row outcomes", ", ".join(f"{k}: {v}" for k, v in sorted(figures.outcomes.items()))],
        ["exit code", str(figures.process.exit_code)],
    ]
    print(table(["figure", "value"], rows), end="\n\n")
    print(goal_table(goals))
    return exit_code(goals)


def as_json(
    tools: Tools,
    args: argparse.Namespace,
    max_wait: float,
    figures: Figures,
    ideal: float,
    floor: float,
    goals: list[Goal],
) -> dict[str, object]:
    """Everything measured, for scripts."""
    return {
        "python": tools.python,
        "voucherctl": tools.voucherctl,
        "quota": args.quota,
        "window_s": args.window,
        "rows": args.rows,
        "concurrency": args.concurrency,
        "max_wait_s": max_wait,
        "wall_s": figures.process.wall,
        "ideal_s": ideal,
        "floor_s": floor,
        "answers_by_status": {str(k): v for k, v in figures.answers.items()},
        "token_requests": figures.token_requests,
        "outcomes": dict(figures.outcomes),
        "exit_code": figures.process.exit_code,
        "goals": [goal.as_dict() for goal in goals],
    }


if __name__ == "__main__":
    sys.exit(main())
