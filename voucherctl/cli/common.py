"""What every command shares: the common options, and the one place errors become exit codes.

Typer only knows the options a command function declares, and users put common options after
the full command path (``voucherctl show X -o json``). :func:`command` therefore adds the common
options to each command's signature, merges them with any given before the command, and calls
the command with a ready :class:`Environment`.
"""

import inspect
import math
import sys
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import Enum, StrEnum
from typing import Annotated, Any

import typer

from voucherctl import config
from voucherctl.env import DEFAULT_MAX_WAIT, DEFAULT_TIMEOUT, CommonOptions, Environment
from voucherctl.errors import ExitCode, UsageError, VoucherctlError


class OutputFormat(StrEnum):
    table = "table"
    json = "json"
    jsonl = "jsonl"
    csv = "csv"


def _complete_profile(incomplete: str) -> list[str]:
    from voucherctl.cli.completion import profile_names

    return profile_names(incomplete)


def _positive_seconds(value: float | None) -> float | None:
    if value is not None and (not math.isfinite(value) or value <= 0):
        raise typer.BadParameter("must be a positive number of seconds")
    return value


COMMON_PARAMETERS: dict[str, tuple[Any, Any]] = {
    "profile": (
        Annotated[
            str | None,
            typer.Option(
                "--profile",
                "-p",
                metavar="NAME",
                show_default="default",
                autocompletion=_complete_profile,
                help="Profile of config.toml to use [env: VOUCHERCTL_PROFILE].",
            ),
        ],
        None,
    ),
    "sandbox": (
        Annotated[
            bool | None,
            typer.Option(
                "--sandbox", help="Use the built-in sandbox of both APIs.", show_default=False
            ),
        ],
        None,
    ),
    "output": (
        Annotated[
            OutputFormat | None,
            typer.Option(
                "--output",
                "-o",
                case_sensitive=False,
                show_default="table on a terminal, else json",
                help="Output format [env: VOUCHERCTL_OUTPUT].",
            ),
        ],
        None,
    ),
    "verbose": (
        Annotated[
            bool | None,
            typer.Option(
                "--verbose",
                "-v",
                show_default=False,
                help="Show HTTP exchanges on stderr, secrets redacted.",
            ),
        ],
        None,
    ),
    "quiet": (
        Annotated[
            bool | None,
            typer.Option("--quiet", "-q", help="Nothing on stderr but errors.", show_default=False),
        ],
        None,
    ),
    "timeout": (
        Annotated[
            float | None,
            typer.Option(
                "--timeout",
                metavar="SECONDS",
                callback=_positive_seconds,
                help="Time limit of each request [env: VOUCHERCTL_TIMEOUT].",
                show_default=str(DEFAULT_TIMEOUT),
            ),
        ],
        None,
    ),
    "yes": (
        Annotated[
            bool | None,
            typer.Option(
                "--yes",
                "-y",
                show_default=False,
                help="Confirm changes on a protected profile without asking.",
            ),
        ],
        None,
    ),
    "max_wait": (
        Annotated[
            float | None,
            typer.Option(
                "--max-wait",
                metavar="SECONDS",
                callback=_positive_seconds,
                help="Longest wait for a rate limit to reset before giving up (exit 6).",
                show_default=str(DEFAULT_MAX_WAIT),
            ),
        ],
        None,
    ),
}


# Options that an environment variable can set when no command-line option does.
ENVIRONMENT_DEFAULTS = {
    "profile": "VOUCHERCTL_PROFILE",
    "output": "VOUCHERCTL_OUTPUT",
    "timeout": "VOUCHERCTL_TIMEOUT",
}


def common_options_from(
    typed_after: dict[str, Any], typed_before: dict[str, Any], environ: dict[str, str]
) -> CommonOptions:
    """Merge the common options: typed after the command, else before it, else the variable."""
    merged: dict[str, Any] = {}
    for name in COMMON_PARAMETERS:
        value = typed_after.get(name)
        if value is None:
            value = typed_before.get(name)
        if value is None and name in ENVIRONMENT_DEFAULTS:
            value = _from_environment(name, environ)
        if value is not None:
            merged[name] = value.value if isinstance(value, Enum) else value
    options = CommonOptions(**merged)
    if options.profile is not None:
        check_profile_name(options.profile)
    if options.sandbox and options.profile:
        raise UsageError("--sandbox cannot be combined with --profile (or VOUCHERCTL_PROFILE)")
    return options


def check_profile_name(name: str) -> None:
    """A profile name must be printable text, since it names TOML tables and keyring entries."""
    from voucherctl.output import escape_control

    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        printable = False
    else:
        printable = name.isprintable() and bool(name.strip()) and len(name) <= MAX_PROFILE_NAME
    if not printable:
        raise UsageError(
            f"profile name {escape_control(name)!r} is not usable: give printable text of at "
            f"most {MAX_PROFILE_NAME} characters, e.g. prod"
        )


MAX_PROFILE_NAME = 64


def _from_environment(name: str, environ: dict[str, str]) -> Any:
    variable = ENVIRONMENT_DEFAULTS[name]
    text = environ.get(variable, "").strip()
    if not text:
        return None  # an empty variable counts as unset
    if name == "output":
        if text.lower() not in OutputFormat.__members__:
            choices = ", ".join(OutputFormat.__members__)
            raise UsageError(f"{variable}={text!r} is not an output format; use one of {choices}")
        return text.lower()
    if name == "timeout":
        try:
            seconds = float(text)
        except ValueError:
            seconds = -1.0
        if not math.isfinite(seconds) or seconds <= 0:
            raise UsageError(f"{variable}={text!r} is not a positive number of seconds")
        return seconds
    return text


def command(func: Callable[..., None]) -> Callable[..., None]:
    """Turn ``func(env, **arguments)`` into a Typer command that takes the common options.

    A function with a ``bulk`` parameter also takes ``--from`` and the other bulk options, and
    gets them as one :class:`BulkOptions`.
    """
    signature = inspect.signature(func, eval_str=True)
    takes_bulk = "bulk" in signature.parameters
    bulk_parameters: dict[str, tuple[Any, Any]] = {}
    if takes_bulk:
        from voucherctl.cli.bulk import BULK_PARAMETERS, bulk_options

        bulk_parameters = BULK_PARAMETERS
    own = [p for name, p in signature.parameters.items() if name not in ("env", "bulk")]
    extra = {**bulk_parameters, **COMMON_PARAMETERS}
    added = [
        inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=hint, default=default)
        for name, (hint, default) in extra.items()
    ]
    context = inspect.Parameter(
        "ctx", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=typer.Context
    )

    def wrapper(ctx: typer.Context, **kwargs: Any) -> None:
        given = {name: kwargs.pop(name) for name in COMMON_PARAMETERS}
        bulk = {name: kwargs.pop(name) for name in bulk_parameters} if takes_bulk else None
        before = ctx.find_root().obj or {}
        with error_boundary(verbose=bool(given.get("verbose") or before.get("verbose"))):
            environ = config.environ_snapshot()
            options = common_options_from(given, before, environ)
            if bulk is not None:
                kwargs["bulk"] = bulk_options(bulk)
            func(Environment(options=options, environ=environ), **kwargs)

    wrapper.__name__ = func.__name__
    wrapper.__doc__ = func.__doc__
    wrapper.__module__ = func.__module__
    wrapper.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=[context, *own, *added]
    )
    wrapper.__annotations__ = {p.name: p.annotation for p in [context, *own, *added]}
    return wrapper


@contextmanager
def error_boundary(*, verbose: bool) -> Iterator[None]:
    """The one place an exception becomes a message on stderr and an exit code."""
    from voucherctl.output import escape_control
    from voucherctl.redact import scrub

    def fail(message: str, code: ExitCode) -> typer.Exit:
        sys.stderr.write(f"voucherctl: error: {escape_control(scrub(message))}\n")
        return typer.Exit(int(code))

    try:
        yield
    except VoucherctlError as exc:
        raise fail(exc.message, exc.exit_code) from None
    except KeyboardInterrupt:
        raise fail("interrupted", ExitCode.INTERRUPTED) from None
    except BrokenPipeError:
        raise typer.Exit(int(ExitCode.OK)) from None  # the reader (head, grep -q) had enough
    except (typer.Exit, typer.Abort):
        raise
    except Exception as exc:
        if verbose:
            sys.stderr.write(scrub("".join(traceback.format_exc())))
        hint = "" if verbose else " (run with --verbose for details)"
        raise fail(f"unexpected error: {type(exc).__name__}: {exc}{hint}", ExitCode.ERROR) from None
