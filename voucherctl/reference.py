"""Generated artefacts: docs/cli.md and man/voucherctl.1 (every command's --help) and
completions/ (shell scripts).

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
MAN_PAGE = "voucherctl.1"  # installed into share/man/man1 (pyproject.toml's data-files)
MAN_WIDTH = 68  # man indents the text 7 columns: within 80 in all
COMPLETION_FILES = {
    Shell.bash: "voucherctl.bash",
    Shell.zsh: "_voucherctl",
    Shell.fish: "voucherctl.fish",
}


def help_texts(app: typer.Typer, width: int | None = None) -> list[tuple[list[str], str]]:
    """Every command's full --help, as a user sees it (``width``: wrapped to that many
    columns), in the order of the command tree: the one source of docs/cli.md and the man
    page."""
    from typer.testing import CliRunner

    runner = CliRunner()
    texts = []
    for path in _command_paths(get_command(app), typer.Context(get_command(app))):
        extra: dict[str, Any] = {"terminal_width": width} if width else {}
        result = runner.invoke(
            app, [*path, "--help"], env=HELP_ENVIRONMENT, prog_name="voucherctl", **extra
        )
        texts.append((path, result.stdout.rstrip()))
    return texts


def markdown(texts: list[tuple[list[str], str]]) -> str:
    """docs/cli.md: each command's help under its own heading."""
    sections = [
        "# voucherctl command reference\n",
        "Generated from the CLI by `python -m voucherctl.reference`; do not edit by hand.\n",
    ]
    for path, text in texts:
        sections.append(f"## {' '.join(['voucherctl', *path])}\n\n```text\n{text}\n```\n")
    return "\n".join(sections)


def manpage(texts: list[tuple[list[str], str]]) -> str:
    """man/voucherctl.1 (roff): the same help texts as docs/cli.md, for 'man voucherctl'."""
    from voucherctl import __version__

    lines = [
        '.\\" Generated from the CLI by python -m voucherctl.reference; do not edit.',
        f'.TH VOUCHERCTL 1 "" "voucherctl {__version__}" "User Commands"',
        ".SH NAME",
        "voucherctl \\- administer SPiD and Spaaza vouchers from the command line",
        ".SH SYNOPSIS",
        ".B voucherctl",
        "[\\fIOPTIONS\\fR] \\fICOMMAND\\fR [\\fIARGS\\fR]...",
        ".br",
        ".B voucherctl help",
        "[\\fICOMMAND\\fR]...",
    ]
    for path, text in texts:
        if path:
            lines.append(f'.SS "{_roff(" ".join(["voucherctl", *path]))}"')
        else:
            lines.append(".SH DESCRIPTION")
        lines += [".nf", *(_roff(line) for line in text.splitlines()), ".fi"]
        if not path:
            lines.append(".SH COMMANDS")
    lines += [
        '.SH "SEE ALSO"',
        "\\fBvoucherctl help\\fR \\fICOMMAND\\fR; docs/cli.md and docs/contract.md in the source.",
    ]
    return "\n".join(lines) + "\n"


def _roff(line: str) -> str:
    """A line of text as roff prints it verbatim: backslashes and hyphens escaped (a plain "-"
    may print as a typographic hyphen that a copied option would not work with), and a line
    that would read as a request guarded."""
    text = line.replace("\\", "\\e").replace("-", "\\-")
    return "\\&" + text if text.startswith((".", "'")) else text


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

    files = {
        root / "docs" / "cli.md": markdown(help_texts(app)),
        root / "man" / MAN_PAGE: manpage(help_texts(app, MAN_WIDTH)),
    }
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
