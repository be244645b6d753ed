"""Entry point of ``voucherctl`` and ``python -m voucherctl``."""

import os
import sys


def main() -> None:
    """Run the CLI; ``--version`` alone is answered before anything heavy is imported."""
    if sys.argv[1:] == ["--version"]:
        from voucherctl import __version__

        sys.stdout.write(f"voucherctl {__version__}\n")
        return
    from voucherctl.app import build_app, command_in

    if "_VOUCHERCTL_COMPLETE" in os.environ:  # the shell asks for completions
        from typer._completion_classes import completion_init  # private; typer is pinned

        completion_init()
        build_app()(prog_name="voucherctl")
        return
    build_app(only=command_in(sys.argv[1:]))(prog_name="voucherctl")


if __name__ == "__main__":
    main()
