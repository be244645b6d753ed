"""Entry point of ``voucherctl`` and ``python -m voucherctl``."""

import sys


def main() -> None:
    """Run the CLI; ``--version`` alone is answered before anything heavy is imported."""
    if sys.argv[1:] == ["--version"]:
        from voucherctl import __version__

        sys.stdout.write(f"voucherctl {__version__}\n")
        return
    from voucherctl.cli.app import app

    app(prog_name="voucherctl")


if __name__ == "__main__":
    main()
