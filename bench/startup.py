"""How long voucherctl takes to start and answer, next to Python, its imports and httpie.

    python bench/startup.py [--runs 20] [--warmups 2] [--profile] [--json]

Each case is a whole process, timed from spawn to reaped: bare ``python -c pass``; ``python -c
'import typer, requests'`` (the floor of any Typer + requests CLI); ``voucherctl --version`` and
``--help``; ``voucherctl show CODE -o json`` against a served sandbox, with a token in the
environment so that it makes a single GET; and the same GET with httpie. The cases take turns
round by round, so a slow moment of the machine hits all of them alike. Medians and minimums are
reported, and the goals are checked on medians:

    show       <= 1.3x the import floor, and <= 0.75x httpie
    --version  <= 5x bare python
    --help     <= 15x bare python

``--profile`` adds where ``voucherctl show`` spends its import time (``python -X importtime``),
set against the import floor, to explain a gap. Exit status: 0 when every goal passes, 1 when
one fails, 2 when the benchmark could not run.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from _common import (
    VOUCHER_CODE,
    BenchError,
    Goal,
    Measured,
    Tools,
    add_tool_arguments,
    exit_code,
    goal_table,
    measure,
    median,
    served_sandbox,
    spid_token,
    table,
    tools_from,
    workspace,
)

BARE, FLOOR, VERSION, HELP, SHOW, HTTPIE = (
    "python -c pass",
    "python -c 'import typer, requests'",
    "voucherctl --version",
    "voucherctl --help",
    "voucherctl show CODE -o json",
    "http GET .../voucher/CODE",
)


@dataclass
class Case:
    """One command line and its measured runs."""

    name: str
    argv: list[str]
    runs: list[Measured] = field(default_factory=list)

    @property
    def median_ms(self) -> float:
        return median([run.wall for run in self.runs]) * 1000

    @property
    def min_ms(self) -> float:
        return min(run.wall for run in self.runs) * 1000

    @property
    def cpu_ms(self) -> float:
        return median([run.cpu for run in self.runs]) * 1000


def cases(tools: Tools, url: str, token: str) -> list[Case]:
    """The command lines to time; httpie's only when it is installed."""
    found = [
        Case(BARE, [tools.python, "-c", "pass"]),
        Case(FLOOR, [tools.python, "-c", "import typer, requests"]),
        Case(VERSION, [tools.voucherctl, "--version"]),
        Case(HELP, [tools.voucherctl, "--help"]),
        Case(SHOW, [tools.voucherctl, "show", VOUCHER_CODE, "-o", "json"]),
    ]
    httpie = tools.sibling("http")
    if httpie:
        voucher_url = f"{url}/api/2/voucher/{VOUCHER_CODE}"
        found.append(
            Case(
                HTTPIE,
                [httpie, "--ignore-stdin", "GET", voucher_url, f"Authorization:Bearer {token}"],
            )
        )
    else:
        print("httpie not found next to the interpreter nor on the PATH: skipped", file=sys.stderr)
    return found


def run_rounds(cases: Sequence[Case], env: dict[str, str], runs: int, warmups: int) -> None:
    """Warm every case up, then time them all in turn, ``runs`` rounds."""
    for _ in range(warmups):
        for case in cases:
            measure(case.argv, env=env)
    for _ in range(runs):
        for case in cases:
            case.runs.append(measure(case.argv, env=env))


def goals(by_name: dict[str, Case]) -> list[Goal]:
    """The startup goals, on medians; those whose cases did not run are left out."""
    wanted = [
        ("show / import floor", SHOW, FLOOR, 1.3),
        ("show / httpie", SHOW, HTTPIE, 0.75),
        ("--version / bare python", VERSION, BARE, 5.0),
        ("--help / bare python", HELP, BARE, 15.0),
    ]
    return [
        Goal(
            name,
            by_name[case].median_ms / by_name[base].median_ms,
            limit,
            at_most=True,
            note=f"on minimums {by_name[case].min_ms / by_name[base].min_ms:.2f}x, "
            f"on CPU {by_name[case].cpu_ms / by_name[base].cpu_ms:.2f}x",
        )
        for name, case, base, limit in wanted
        if case in by_name and base in by_name
    ]


def results_table(cases: Sequence[Case]) -> str:
    """Median, min and CPU of every case, and its median next to bare python's."""
    bare = cases[0].median_ms
    rows = [
        [
            case.name,
            f"{case.median_ms:.1f}",
            f"{case.min_ms:.1f}",
            f"{case.cpu_ms:.1f}",
            f"{case.median_ms / bare:.2f}x",
        ]
        for case in cases
    ]
    return table(["command", "median ms", "min ms", "cpu ms", "vs python"], rows)


# -- --profile: where the import time goes -------------------------------------------------


@dataclass(frozen=True)
class Import:
    """One line of ``-X importtime``: a module, its own time and its time with what it imported."""

    name: str
    level: int
    self_us: int
    cumulative_us: int

    @property
    def package(self) -> str:
        return self.name.split(".")[0]


def parse_importtime(text: str) -> list[Import]:
    """The ``import time:`` lines of a process's stderr."""
    imports = []
    for line in text.splitlines():
        if not line.startswith("import time:"):
            continue
        self_us, cumulative_us, name = line.removeprefix("import time:").split("|")
        if not self_us.strip().isdigit():
            continue  # the header line
        level = (len(name) - len(name.lstrip(" ")) - 1) // 2
        imports.append(Import(name.strip(), level, int(self_us), int(cumulative_us)))
    return imports


def profile_imports(argv: list[str], env: dict[str, str], runs: int) -> list[list[Import]]:
    """``runs`` runs of a command with ``PYTHONPROFILEIMPORTTIME=1``, each one's imports."""
    profiled = {**env, "PYTHONPROFILEIMPORTTIME": "1"}
    found = []
    for _ in range(runs):
        done = subprocess.run(
            argv, env=profiled, stdin=subprocess.DEVNULL, capture_output=True, text=True
        )
        if done.returncode != 0:
            raise BenchError(f"{' '.join(argv)} exited {done.returncode}: {done.stderr[-2000:]}")
        found.append(parse_importtime(done.stderr))
    return found


def per_package_ms(runs: list[list[Import]]) -> dict[str, float]:
    """Median over the runs of each top-level package's own import time (its modules' self)."""
    totals: dict[str, list[float]] = defaultdict(list)
    for imports in runs:
        run: dict[str, float] = defaultdict(float)
        for entry in imports:
            run[entry.package] += entry.self_us / 1000
        for package, ms in run.items():
            totals[package].append(ms)
    return {package: median(values) for package, values in totals.items()}


def beyond_floor(imports: list[Import], floor: set[str]) -> dict[str, float]:
    """Per module, in ms: its own import time and that of everything it imported, leaving out
    the modules that the floor imports too.

    ``-X importtime`` lists a module after everything it imported, those one level deeper.
    """
    totals: dict[str, float] = {}
    finished: dict[int, float] = defaultdict(float)  # level -> subtrees waiting for their parent
    for entry in imports:
        own = 0.0 if entry.name in floor else entry.self_us / 1000
        totals[entry.name] = own + finished.pop(entry.level + 1, 0.0)
        finished[entry.level] += totals[entry.name]
    return totals


def largest_beyond_floor(
    show_runs: list[list[Import]], floor_runs: list[list[Import]], top: int
) -> list[list[str]]:
    """Table rows: the modules of the show runs that add the most import time over the floor."""
    floor = {entry.name for imports in floor_runs for entry in imports}
    entries = {entry.name: entry for imports in show_runs for entry in imports}
    samples: dict[str, list[float]] = defaultdict(list)
    for imports in show_runs:
        for name, ms in beyond_floor(imports, floor).items():
            samples[name].append(ms)
    extra = sorted(
        ((median(values), name) for name, values in samples.items() if name not in floor),
        reverse=True,
    )
    return [
        ["  " * entries[name].level + name, f"{ms:.1f}", f"{entries[name].self_us / 1000:.1f}"]
        for ms, name in extra[:top]
    ]


PHASES = """
import contextlib, io, json, sys, time
started = time.perf_counter()
import typer, requests
floor = time.perf_counter()
import typer.main
from voucherctl.app import app
imported = time.perf_counter()
command = typer.main.get_command(app)
built = time.perf_counter()
with contextlib.redirect_stdout(io.StringIO()):
    code = command.main(sys.argv[1:], prog_name="voucherctl", standalone_mode=False)
done = time.perf_counter()
phases = [floor - started, imported - floor, built - imported, done - built]
print(json.dumps({"code": code, "phases": phases}), file=sys.stderr)
"""
PHASE_NAMES = (
    "import typer, requests (the floor)",
    "import voucherctl.app (every command module)",
    "typer.main.get_command (the click tree of every command)",
    "run `show` (config, request, output)",
)


def phase_report(tools: Tools, env: dict[str, str], runs: int) -> str:
    """Where a `voucherctl show` spends its time, phase by phase, timed inside the process.

    Relies on ``voucherctl.app.app`` being the Typer app; says so when it is not.
    """
    argv = [tools.python, "-c", PHASES, "show", VOUCHER_CODE, "-o", "json"]
    samples: list[list[float]] = []
    for _ in range(runs):
        started = time.perf_counter()
        done = subprocess.run(argv, env=env, stdin=subprocess.DEVNULL, capture_output=True)
        wall = time.perf_counter() - started
        try:
            answer = json.loads(done.stderr.decode().strip().splitlines()[-1])
        except (ValueError, IndexError):
            return "Phases of `voucherctl show`: could not be timed (voucherctl.app changed?)"
        if done.returncode != 0 or answer["code"] not in (0, None):
            raise BenchError(f"timing the phases of show failed: {done.stderr.decode()[-2000:]}")
        samples.append([*answer["phases"], wall - sum(answer["phases"]), wall])
    names = [*PHASE_NAMES, "start and exit of the process (wall - the above)", "wall"]
    rows = [
        [name, f"{median([sample[i] for sample in samples]) * 1000:.1f}"]
        for i, name in enumerate(names)
    ]
    return (
        f"Phases of `voucherctl show`, timed inside the process (median of {runs} runs)\n\n"
        + table(["phase", "ms"], rows)
    )


def profile_report(tools: Tools, env: dict[str, str], runs: int, top: int = 15) -> str:
    """Where `voucherctl show` spends its time beyond the floor: its phases, its import time by
    package next to the floor's, and its largest imports that the floor does not make."""
    show_argv = [tools.voucherctl, "show", VOUCHER_CODE, "-o", "json"]
    floor_argv = [tools.python, "-c", "import typer, requests"]
    show_runs = profile_imports(show_argv, env, runs)
    floor_runs = profile_imports(floor_argv, env, runs)
    show_packages, floor_packages = per_package_ms(show_runs), per_package_ms(floor_runs)

    def package_row(name: str, show_ms: float, floor_ms: float) -> list[str]:
        return [name, f"{show_ms:.1f}", f"{floor_ms:.1f}", f"{show_ms - floor_ms:+.1f}"]

    ranked = sorted(show_packages, key=lambda package: -show_packages[package])
    shown, rest = ranked[:top], ranked[top:]
    rows = [package_row(p, show_packages[p], floor_packages.get(p, 0.0)) for p in shown]
    rows.append(
        package_row(
            f"({len(rest)} other packages)",
            sum(show_packages[p] for p in rest),
            sum(ms for p, ms in floor_packages.items() if p not in shown),
        )
    )
    rows.append(package_row("(all)", sum(show_packages.values()), sum(floor_packages.values())))
    by_package = table(["package", "show ms", "floor ms", "extra ms"], rows)

    largest = table(
        ["module (indent = import depth)", "ms beyond the floor", "self ms (one run)"],
        largest_beyond_floor(show_runs, floor_runs, top),
    )
    return "\n\n".join(
        [
            phase_report(tools, env, runs),
            "Import time by top-level package, `voucherctl show` vs `import typer, requests`\n"
            f"(PYTHONPROFILEIMPORTTIME, self times, median of {runs} runs; profiling inflates "
            f"them)\n\n{by_package}",
            "Imports of `voucherctl show` that the floor does not make, by the time they and\n"
            f"their own imports add beyond the floor (median of {runs} runs)\n\n{largest}",
        ]
    )


# -- main ----------------------------------------------------------------------------------


def main() -> int:
    """Run the benchmark and print its table."""
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_tool_arguments(parser)
    parser.add_argument("--runs", type=int, default=20, help="timed runs of each case")
    parser.add_argument("--warmups", type=int, default=2, help="untimed runs of each case first")
    parser.add_argument(
        "--profile", action="store_true", help="also show where `voucherctl show` imports go"
    )
    parser.add_argument("--profile-runs", type=int, default=5, help="runs to take medians of")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    if args.runs < 1 or args.warmups < 0 or args.profile_runs < 1:
        parser.error("--runs and --profile-runs must be at least 1, --warmups at least 0")
    load_before = os.getloadavg()[0]
    try:
        tools = tools_from(args)
        with workspace() as space, served_sandbox(tools, space) as server:
            url = server.url
            token = spid_token(url)
            env = space.environment(url, token)
            timed = cases(tools, url, token)
            run_rounds(timed, env, args.runs, args.warmups)
            profile = profile_report(tools, env, args.profile_runs) if args.profile else ""
    except BenchError as exc:
        print(f"startup benchmark: {exc}", file=sys.stderr)
        return 2
    load_after = os.getloadavg()[0]
    checked = goals({case.name: case for case in timed})
    if args.json:
        print(json.dumps(as_json(tools, timed, checked, args, (load_before, load_after)), indent=2))
    else:
        print(f"voucherctl startup: {args.runs} runs per case after {args.warmups} warm-ups")
        print(f"python: {tools.python}\nvoucherctl: {tools.voucherctl}")
        print(f"load average (1 min) before: {load_before:.2f}, after: {load_after:.2f}\n")
        print(results_table(timed), end="\n\n")
        print(goal_table(checked))
        if profile:
            print(f"\n{profile}")
    return exit_code(checked)


def as_json(
    tools: Tools,
    timed: Sequence[Case],
    checked: Sequence[Goal],
    args: argparse.Namespace,
    load: tuple[float, float],
) -> dict[str, object]:
    """Everything measured, for scripts."""
    return {
        "python": tools.python,
        "voucherctl": tools.voucherctl,
        "runs": args.runs,
        "warmups": args.warmups,
        "load_average": list(load),
        "cases": [
            {
                "name": case.name,
                "argv": [_masked(arg) for arg in case.argv],
                "median_ms": case.median_ms,
                "min_ms": case.min_ms,
                "cpu_ms": case.cpu_ms,
                "wall_ms": [run.wall * 1000 for run in case.runs],
            }
            for case in timed
        ],
        "goals": [goal.as_dict() for goal in checked],
    }


def _masked(arg: str) -> str:
    return "Authorization:Bearer TOKEN" if arg.startswith("Authorization:") else arg


if __name__ == "__main__":
    sys.exit(main())
