"""``voucherctl sandbox serve|reset|info``: the built-in emulator of both APIs."""

import signal
import sqlite3
from pathlib import Path
from typing import Annotated, Any

import typer

from voucherctl import config, output
from voucherctl.cli.command import environment
from voucherctl.env import Environment
from voucherctl.errors import UsageError
from voucherctl.text import escape_control

StatePath = Annotated[
    Path | None,
    typer.Option(
        "--state",
        metavar="PATH",
        help="State file.",
        show_default="sandbox.sqlite3 in the data directory",
    ),
]


def _state(env: Environment, given: Path | None) -> Path:
    from voucherctl.clients import SANDBOX_STATE_FILE

    path = given or config.data_dir(env.environ) / SANDBOX_STATE_FILE
    shown = escape_control(str(path))
    try:
        if not path.name or path.is_dir():
            raise UsageError(f"--state {shown!r} is a directory; name a file, e.g. state.sqlite3")
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"--state {shown!r} cannot be used ({exc.strerror})") from None
    return path


def serve(
    ctx: typer.Context,
    host: Annotated[
        str, typer.Option("--host", help="Loopback address to listen on.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port; 0 picks a free one.")] = 8765,
    state: StatePath = None,
    rate_limit: Annotated[
        int | None,
        typer.Option(
            "--rate-limit",
            metavar="N",
            help="Answer more than N requests a minute with 420 (SPiD) / 429 (Spaaza).",
        ),
    ] = None,
    fail_rate: Annotated[
        float,
        typer.Option(
            "--fail-rate",
            metavar="P",
            help="Answer this fraction (0..1) of requests with a 5xx, changing nothing.",
        ),
    ] = 0.0,
    latency: Annotated[
        int, typer.Option("--latency", metavar="MS", help="Wait this long before each answer.")
    ] = 0,
    token_ttl: Annotated[
        int,
        typer.Option(
            "--token-ttl", metavar="SECONDS", help="Lifetime of SPiD tokens and Spaaza sessions."
        ),
    ] = 604800,
    seed: Annotated[
        int | None,
        typer.Option("--seed", metavar="N", help="Random seed of --fail-rate, to replay failures."),
    ] = None,
    log: Annotated[bool, typer.Option("--log", help="One line per request on stderr.")] = False,
) -> None:
    """Serve SPiD and Spaaza on one loopback port until stopped (Ctrl-C or SIGTERM).

    Commands given --sandbox use it when it runs on the default port 8765, and otherwise start
    their own over the same state file. The base URL is printed on stdout once listening.
    """
    env = environment(ctx)
    from voucherctl.sandbox import SandboxOptions, serve_forever

    if not config.is_loopback(host):
        raise UsageError(
            f"--host {host!r} is not a loopback address; the sandbox serves only "
            "this machine (127.0.0.1, ::1, localhost)"
        )
    if not 0 <= port <= 65535:
        raise UsageError(f"--port must be from 0 to 65535, not {port}")
    try:
        options = SandboxOptions(
            rate_limit=rate_limit,
            fail_rate=fail_rate,
            latency_ms=latency,
            token_ttl=token_ttl,
            seed=seed,
            log=log,
        )
    except ValueError as exc:
        raise UsageError(
            str(exc)
            .replace("rate_limit", "--rate-limit")
            .replace("fail_rate", "--fail-rate")
            .replace("latency_ms", "--latency")
            .replace("token_ttl", "--token-ttl")
        ) from None
    path = _state(env, state)

    def ready(url: str) -> None:
        env.stdout.write(url + "\n")
        env.stdout.flush()
        env.info(f"voucherctl sandbox listening on {url} (state {path}); Ctrl-C stops it")

    signal.signal(signal.SIGTERM, _stop_quietly)
    try:
        serve_forever(host, port, path, options, ready=ready)
    except OSError as exc:
        raise UsageError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    except _Stopped:
        env.info("voucherctl sandbox stopped")


class _Stopped(Exception):
    """SIGTERM: the normal way a supervisor stops the sandbox."""


def _stop_quietly(signum: int, frame: Any) -> None:
    raise _Stopped


def reset(ctx: typer.Context, state: StatePath = None) -> None:
    """Drop all sandbox state and seed it afresh."""
    env = environment(ctx)
    from voucherctl.sandbox import reset_state

    path = _state(env, state)
    try:
        reset_state(path)
    except (OSError, sqlite3.Error) as exc:
        shown = escape_control(str(path))
        raise UsageError(f"--state {shown!r} cannot hold the sandbox's database ({exc})") from None
    env.info(f"sandbox state {path} reset to its seed data")


def info(ctx: typer.Context) -> None:
    """Print the sandbox's credentials and the ids of its seed data."""
    env = environment(ctx)
    from voucherctl.sandbox import SANDBOX

    details = SANDBOX.as_dict()
    rows = [output.field(name, name) for name in details]
    output.print_record(env, details, rows, title="voucherctl sandbox")
