"""``voucherctl completion bash|zsh|fish``: shell completion scripts, made from the CLI itself."""

from enum import StrEnum
from typing import Annotated

import typer

from voucherctl.cli.command import environment

COMPLETE_VARIABLE = "_VOUCHERCTL_COMPLETE"


class Shell(StrEnum):
    bash = "bash"
    zsh = "zsh"
    fish = "fish"


def script(shell: Shell) -> str:
    """The completion script for ``shell``, as the files in completions/ hold it."""
    # typer keeps these helpers in private modules; typer is pinned in pyproject.toml.
    from typer._completion_shared import get_completion_script

    return (
        get_completion_script(
            prog_name="voucherctl", complete_var=COMPLETE_VARIABLE, shell=shell.value
        )
        + "\n"
    )


def completion(
    ctx: typer.Context,
    shell: Annotated[Shell, typer.Argument(help="The shell to complete in.")],
) -> None:
    """Print a shell completion script: commands, options, formats and profile names.

    Examples, each installing it where the shell looks:

    \b
      bash: voucherctl completion bash > ~/.local/share/bash-completion/completions/voucherctl
      zsh:  voucherctl completion zsh > "${fpath[1]}/_voucherctl"
      fish: voucherctl completion fish > ~/.config/fish/completions/voucherctl.fish
    """
    env = environment(ctx)
    env.stdout.write(script(shell))
