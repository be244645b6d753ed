"""``voucherctl sandbox serve|reset|info``: the built-in emulator of both APIs."""

import signal
import sqlite3
from pathlib import Path
from typing import Annotated, Any

import typer

from voucherctl.cli.command import environment
from voucherctl.core.errors import UsageError
from voucherctl.core.text import escape_control
from voucherctl.sandbox.constants import DEFAULT_PORT
from voucherctl.sandbox.options import DEFAULT_QUOTA_WINDOW, SERVE_TOKEN_TTL
from voucherctl.storage import config
from voucherctl.ui import output
from voucherctl.ui.environment import Environment

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
    """The state file; its missing folders are made 0700, folders that exist keep their mode
    (docs/contract.md#files-and-audit-log)."""
    from voucherctl.cli.clients import SANDBOX_STATE_FILE
    from voucherctl.storage.private_files import private_folder

    path = given or config.data_dir(env.environ) / SANDBOX_STATE_FILE
    shown = escape_control(str(path))
    try:
        if not path.name or path.is_dir():
            raise UsageError(f"--state {shown!r} is a directory; name a file, e.g. state.sqlite3")
        private_folder(path.parent)
        mode = path.stat().st_mode if path.exists() else 0
    except OSError as exc:
        raise UsageError(f"--state {shown!r} cannot be used ({exc.strerror})") from None
    _check_own(path)
    if mode & 0o077:  # the user's file: told, never chmodded
        env.warn(
            f"--state {shown} can be read by other users (mode {mode & 0o777:o}) and holds live "
            f"tokens; make it private: chmod 600 {shown}"
        )
    return path


def _check_own(path: Path) -> None:
    """A usage error, before anything is written, when the file is not the sandbox's
    (docs/contract.md#sandbox)."""
    from voucherctl.sandbox import NotAStateFile
    from voucherctl.sandbox.state_file import check_before_opening

    try:
        check_before_opening(path)
    except NotAStateFile as exc:
        raise _not_ours(exc) from None


def _not_ours(exc: Any) -> UsageError:
    shown = escape_control(str(exc.path))
    return UsageError(
        f"--state {shown!r} is not a sandbox state file ({exc.reason}); nothing was "
        "changed. Name a new or empty file, e.g. --state sandbox.sqlite3"
    )


Host = Annotated[str, typer.Option("--host", help="Loopback address to listen on.")]
Port = Annotated[int, typer.Option("--port", help="Port; 0 picks a free one.")]
Quota = Annotated[
    int | None,
    typer.Option(
        "--quota",
        metavar="N",
        help="SPiD's quota: N API requests per --quota-window, reported in every answer's "
        "'request', answered 420 beyond it.",
    ),
]
QuotaWindow = Annotated[
    int,
    typer.Option("--quota-window", metavar="SECONDS", help="The quota's period (an hour)."),
]
TokenTtl = Annotated[
    int,
    typer.Option(
        "--token-ttl",
        metavar="SECONDS",
        help="Lifetime of SPiD server tokens (900, as SPiD's JWTs) and Spaaza login sessions.",
    ),
]
SignSecret = Annotated[
    str | None,
    typer.Option(
        "--sign-secret",
        metavar="S",
        help="Sign SPiD answers as SPiD does (data as base64url JSON, sig HMAC-SHA256 of it); "
        "give the same secret to the client as VOUCHERCTL_SPID_SIGN_SECRET.",
    ),
]
RateLimit = Annotated[
    int | None,
    typer.Option(
        "--rate-limit",
        metavar="N",
        help="Answer more than N requests a minute with 420 (SPiD) / 429 (Spaaza).",
    ),
]
FailRate = Annotated[
    float,
    typer.Option(
        "--fail-rate",
        metavar="P",
        help="Answer this fraction (0..1) of requests with a 5xx, changing nothing.",
    ),
]
Latency = Annotated[
    int, typer.Option("--latency", metavar="MS", help="Wait this long before each answer.")
]
Seed = Annotated[
    int | None,
    typer.Option("--seed", metavar="N", help="Random seed of --fail-rate, to replay failures."),
]
Log = Annotated[bool, typer.Option("--log", help="One line per request on stderr.")]

# SandboxOptions' words for its fields -> the options users typed.
_OPTION_NAMES = {
    "quota_window": "--quota-window",
    "quota": "--quota",
    "token_ttl": "--token-ttl",
    "sign_secret": "--sign-secret",
    "rate_limit": "--rate-limit",
    "fail_rate": "--fail-rate",
    "latency_ms": "--latency",
}


def serve(
    ctx: typer.Context,
    host: Host = "127.0.0.1",
    port: Port = DEFAULT_PORT,
    state: StatePath = None,
    quota: Quota = None,
    quota_window: QuotaWindow = DEFAULT_QUOTA_WINDOW,
    token_ttl: TokenTtl = SERVE_TOKEN_TTL,
    sign_secret: SignSecret = None,
    rate_limit: RateLimit = None,
    fail_rate: FailRate = 0.0,
    latency: Latency = 0,
    seed: Seed = None,
    log: Log = False,
) -> None:
    """Serve SPiD and Spaaza on one loopback port until stopped (Ctrl-C or SIGTERM).

    It models the real APIs' regime on request: --quota and --quota-window (SPiD's hourly
    quota), --token-ttl, --sign-secret; and injects faults: --rate-limit, --fail-rate,
    --latency. Commands given --sandbox use it when it runs on the default port 8765 over the
    same state file, and otherwise start their own. The base URL is printed on stdout once
    listening.

    Examples:

    \b
      voucherctl sandbox serve
      voucherctl sandbox serve --quota 100 --quota-window 60 --sign-secret s3cret
    """
    from voucherctl.sandbox import SandboxOptions

    env = environment(ctx)
    _check_address(host, port)
    try:
        options = SandboxOptions(
            rate_limit=rate_limit,
            fail_rate=fail_rate,
            latency_ms=latency,
            token_ttl=token_ttl,
            seed=seed,
            log=log,
            quota=quota,
            quota_window=quota_window,
            sign_secret=sign_secret,
        )
    except ValueError as exc:
        message = str(exc)
        for field, option in _OPTION_NAMES.items():
            if message.startswith(field):
                message = option + message[len(field) :]
                break
        raise UsageError(message) from None
    if sign_secret:
        from voucherctl.core import redact

        redact.register(sign_secret)
    _serve(env, host, port, _state(env, state), options)


def _serve(env: Environment, host: str, port: int, path: Path, options: Any) -> None:
    from voucherctl.sandbox import serve_forever

    def ready(url: str) -> None:
        env.stdout.write(url + "\n")
        env.stdout.flush()
        env.info(f"voucherctl sandbox listening on {url} (state {path}); Ctrl-C stops it")

    from voucherctl.sandbox import NotAStateFile

    signal.signal(signal.SIGTERM, _stop_quietly)
    try:
        serve_forever(host, port, path, options, ready=ready)
    except NotAStateFile as exc:
        raise _not_ours(exc) from None
    except sqlite3.Error as exc:
        shown = escape_control(str(path))
        raise UsageError(f"--state {shown!r} cannot hold the sandbox's database ({exc})") from None
    except OSError as exc:
        raise UsageError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    except _Stopped:
        env.info("voucherctl sandbox stopped")


def _check_address(host: str, port: int) -> None:
    if not config.is_loopback(host):
        raise UsageError(
            f"--host {host!r} is not a loopback address; the sandbox serves only "
            "this machine (127.0.0.1, ::1, localhost)"
        )
    if not 0 <= port <= 65535:
        raise UsageError(f"--port must be from 0 to 65535, not {port}")


class _Stopped(Exception):
    """SIGTERM: the normal way a supervisor stops the sandbox."""


def _stop_quietly(signum: int, frame: Any) -> None:
    raise _Stopped


def reset(ctx: typer.Context, state: StatePath = None) -> None:
    """Drop all sandbox state and seed it afresh, and forget the bulk runs made against it.

    The ledger's records of changes and runs made with --sandbox are forgotten with its state:
    after a reset the same file runs anew.

    Examples:

    \b
      voucherctl sandbox reset
      voucherctl sandbox reset --state /tmp/sandbox.sqlite3
    """
    from voucherctl.sandbox import NotAStateFile, reset_state

    env = environment(ctx)
    path = _state(env, state)
    try:
        reset_state(path)
    except NotAStateFile as exc:
        raise _not_ours(exc) from None
    except (OSError, sqlite3.Error) as exc:
        shown = escape_control(str(path))
        raise UsageError(f"--state {shown!r} cannot hold the sandbox's database ({exc})") from None
    env.info(f"sandbox state {path} reset to its seed data")
    if state is None:
        _forget_sandbox_runs(env)


def _forget_sandbox_runs(env: Environment) -> None:
    from voucherctl.storage.location import open_ledger
    from voucherctl.storage.reading import forget_host

    ledger = open_ledger(env.environ, env.profile.name, changes=False)
    try:
        forgotten, busy = forget_host(ledger, config.SANDBOX_NAME)
    finally:
        ledger.close()
    if forgotten:
        env.info(f"forgot {forgotten} bulk run(s) made against the sandbox")
    for name in busy:
        env.warn(f"the bulk run {escape_control(name)} is still running; it is kept")


def info(ctx: typer.Context) -> None:
    """Print where the sandbox is served, its credentials and the ids of its seed data.

    Examples:

    \b
      voucherctl sandbox info
      voucherctl sandbox info --query spaaza_voucher_key
    """
    env = environment(ctx)
    from voucherctl.cli.clients import served_sandbox_url
    from voucherctl.sandbox import SANDBOX

    served = served_sandbox_url(env)
    details = {
        "served_at": served or "not served: each --sandbox command starts one of its own",
        **SANDBOX.as_dict(),
    }
    rows = [output.identifier(name, name) for name in details]
    output.print_record(env, details, rows, title="voucherctl sandbox")
