"""Peak memory of a 1,000,000-row ``--dry-run`` in every output format.

A dry run streams: each format is written row by row as the file is read, so its peak memory
must not grow with the file. The figure is the process's peak resident set size (``wait4``),
with stdout going to /dev/null. Goal: under 100 MiB for every format.

    python bench/dry_run_memory.py [--rows N] [--json]

Exit status: 0 when every goal passes, 1 when one fails, 2 when the benchmark could not run.
Nothing is sent: a dry run needs no server.
"""

from __future__ import annotations

import argparse
import json
import sys

from _common import (
    OTHER_GROUP,
    BenchError,
    Goal,
    add_tool_arguments,
    exit_code,
    goal_table,
    measure,
    tools_from,
    workspace,
    write_big_csv,
)

FORMATS = ("json", "jsonl", "csv")
LIMIT_MIB = 100.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_tool_arguments(parser)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    tools = tools_from(args)
    goals = []
    try:
        with workspace() as space:
            users = write_big_csv(space.root / "users.csv", args.rows)
            for fmt in FORMATS:
                argv = [tools.voucherctl, "handout", "--from", str(users), "--group", OTHER_GROUP]
                run = measure([*argv, "--dry-run", "-o", fmt], env=space.environment())
                goals.append(
                    Goal(
                        f"peak RSS, -o {fmt}, {args.rows:,} rows",
                        run.max_rss_mib,
                        LIMIT_MIB,
                        at_most=True,
                        unit=" MiB",
                        digits=1,
                        note=f"{run.wall:.1f} s",
                    )
                )
    except BenchError as exc:
        print(f"dry run benchmark: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps([goal.as_dict() for goal in goals], indent=2))
    else:
        print(goal_table(goals))
    return exit_code(goals)


if __name__ == "__main__":
    sys.exit(main())
