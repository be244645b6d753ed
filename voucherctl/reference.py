"""Generated artefacts: docs/cli.md (every command's --help) and completions/ (shell scripts).

``python -m voucherctl.reference`` writes them; tests/test_generated.py fails when they are
stale, so a change to a command's options or help cannot land without them.
"""

from pathlib import Path
from typing import Any

import typer
from typer.main import get_command

from voucherctl import schemas
from voucherctl.commands.completion import Shell, script

WIDTH = 100
COMPLETION_FILES = {
    Shell.bash: "voucherctl.bash",
    Shell.zsh: "_voucherctl",
    Shell.fish: "voucherctl.fish",
}


def markdown(app: typer.Typer) -> str:
    """Every command's full --help, as a user sees it, in the order of the command tree."""
    from typer.testing import CliRunner

    runner = CliRunner()
    sections = [
        "# voucherctl command reference\n",
        "Generated from the CLI by `python -m voucherctl.reference`; do not edit by hand.\n",
    ]
    for path in _command_paths(get_command(app), typer.Context(get_command(app))):
        result = runner.invoke(app, [*path, "--help"], env=HELP_ENVIRONMENT, prog_name="voucherctl")
        sections.append(
            f"## {' '.join(['voucherctl', *path])}\n\n```text\n{result.stdout.rstrip()}\n```\n"
        )
    return "\n".join(sections)


HELP_ENVIRONMENT = {"COLUMNS": str(WIDTH), "NO_COLOR": "1", "TERM": "dumb"}


def _command_paths(command: Any, ctx: typer.Context, path: tuple[str, ...] = ()) -> list[list[str]]:
    paths = [list(path)]
    if hasattr(command, "list_commands"):  # a group: its commands follow
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            if sub is not None and not sub.hidden:
                paths += _command_paths(sub, typer.Context(sub, parent=ctx), (*path, name))
    return paths


def generated(root: Path) -> dict[Path, str]:
    """Each generated file under ``root`` and what it must contain."""
    from voucherctl.app import app

    files = {root / "docs" / "cli.md": markdown(app)}
    for shell, name in COMPLETION_FILES.items():
        files[root / "completions" / name] = script(shell)
    for schema in schemas.names():  # the package's files are the source; docs/ has copies
        files[root / "docs" / "schemas" / f"{schema}.json"] = schemas.text(schema) or ""
    return files


def main() -> None:
    root = Path(__file__).resolve().parents[1]
    for path, text in generated(root).items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path.relative_to(root)}")


if __name__ == "__main__":
    main()
