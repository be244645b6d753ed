"""The options every command accepts, declared once (docs/contract.md#common-options).

:func:`common_options` is an option group: its parameters are the options, as Typer reads any
command's, and its body gathers what was typed. ``cli/command.py`` adds the group to every
command and to the top level, because users type them before or after the command path.
"""

import math
from dataclasses import dataclass, fields
from enum import StrEnum
from typing import Annotated

import typer

from voucherctl.core.errors import UsageError
from voucherctl.core.text import escape_control
from voucherctl.ui.environment import DEFAULT_MAX_WAIT, DEFAULT_TIMEOUT, CommonOptions

MAX_PROFILE_NAME = 64


class OutputFormat(StrEnum):
    table = "table"
    json = "json"
    jsonl = "jsonl"
    csv = "csv"


def _complete_profile(incomplete: str) -> list[str]:
    """Profiles of config.toml, for completing --profile."""
    from voucherctl.storage import config

    try:
        environ = config.environ_snapshot()
        names = config.ConfigFile(config.config_dir(environ) / "config.toml").profile_names()
    except Exception:  # completion must never print an error into the user's command line
        return []
    return [name for name in names if name.startswith(incomplete)]


def positive_seconds(value: float | None) -> float | None:
    """A Typer callback: a positive, finite number of seconds."""
    if value is not None and (not math.isfinite(value) or value <= 0):
        raise typer.BadParameter("must be a positive number of seconds")
    return value


@dataclass(frozen=True)
class TypedOptions:
    """The common options as typed at one place of the command line (None: not typed there)."""

    profile: str | None = None
    sandbox: bool | None = None
    output: str | None = None
    verbose: bool | None = None
    quiet: bool | None = None
    timeout: float | None = None
    yes: bool | None = None
    max_wait: float | None = None
    query: str | None = None


Profile = Annotated[
    str | None,
    typer.Option(
        "--profile",
        "-p",
        metavar="NAME",
        show_default="default",
        autocompletion=_complete_profile,
        help="Profile of config.toml to use [env: VOUCHERCTL_PROFILE].",
    ),
]
Sandbox = Annotated[
    bool | None,
    typer.Option("--sandbox", help="Use the built-in sandbox of both APIs.", show_default=False),
]
Output = Annotated[
    OutputFormat | None,
    typer.Option(
        "--output",
        "-o",
        case_sensitive=False,
        show_default="table on a terminal, else json",
        help="Output format [env: VOUCHERCTL_OUTPUT].",
    ),
]
Verbose = Annotated[
    bool | None,
    typer.Option(
        "--verbose", "-v", show_default=False, help="Show HTTP exchanges, secrets redacted."
    ),
]
Quiet = Annotated[
    bool | None,
    typer.Option("--quiet", "-q", show_default=False, help="Nothing on stderr but errors."),
]
Timeout = Annotated[
    float | None,
    typer.Option(
        "--timeout",
        metavar="SECONDS",
        callback=positive_seconds,
        show_default=str(DEFAULT_TIMEOUT),
        help="Time limit of each request [env: VOUCHERCTL_TIMEOUT].",
    ),
]
Yes = Annotated[
    bool | None,
    typer.Option("--yes", "-y", show_default=False, help="Confirm changes on a protected profile."),
]
Query = Annotated[
    str | None,
    typer.Option(
        "--query",
        metavar="EXPR",
        help="A JMESPath expression applied to the JSON the command prints, as in the AWS CLI; "
        "a string result prints as plain text.",
    ),
]
MaxWait = Annotated[
    float | None,
    typer.Option(
        "--max-wait",
        metavar="SECONDS",
        callback=positive_seconds,
        show_default=str(DEFAULT_MAX_WAIT),
        help="Longest wait for a rate limit or quota to reset before giving up (exit 6).",
    ),
]


def common_options(
    profile: Profile = None,
    sandbox: Sandbox = None,
    output: Output = None,
    verbose: Verbose = None,
    quiet: Quiet = None,
    timeout: Timeout = None,
    yes: Yes = None,
    max_wait: MaxWait = None,
    query: Query = None,
) -> TypedOptions:
    """The options every command accepts."""
    return TypedOptions(
        profile=profile,
        sandbox=sandbox,
        output=output.value if output else None,
        verbose=verbose,
        quiet=quiet,
        timeout=timeout,
        yes=yes,
        max_wait=max_wait,
        query=query,
    )


# Options a variable sets when the command line does not.
ENVIRONMENT_DEFAULTS = {
    "profile": "VOUCHERCTL_PROFILE",
    "output": "VOUCHERCTL_OUTPUT",
    "timeout": "VOUCHERCTL_TIMEOUT",
}


def merge(after: TypedOptions, before: TypedOptions, environ: dict[str, str]) -> CommonOptions:
    """The common options in force: typed after the command, else before it, else a variable."""
    merged = {}
    for option in fields(TypedOptions):
        name = option.name
        value = getattr(after, name)
        if value is None:
            value = getattr(before, name)
        if value is None and name in ENVIRONMENT_DEFAULTS:
            value = _from_environment(name, environ)
        if value is not None:
            merged[name] = value
    options = CommonOptions(**merged)
    if options.profile is not None:
        check_profile_name(options.profile)
    if options.sandbox and options.profile:
        raise UsageError("--sandbox cannot be combined with --profile (or VOUCHERCTL_PROFILE)")
    if options.query is not None:
        check_query(options.query)
    return options


def check_query(expression: str) -> None:
    """A JMESPath expression that parses; jmespath is imported only when --query is given."""
    import jmespath
    from jmespath.exceptions import JMESPathError

    try:
        parsed = jmespath.compile(expression).parsed
    except JMESPathError as exc:
        reason = str(exc).splitlines()[0]
        raise UsageError(
            f"--query {escape_control(expression)!r} is not a JMESPath expression ({reason}); "
            "e.g. --query 'status' or --query '[].voucherGroupId'"
        ) from None
    unknown = sorted(_unknown_functions(parsed))
    if unknown:
        raise UsageError(
            f"--query {escape_control(expression)!r} calls no JMESPath function "
            f"{', '.join(unknown)}; see jmespath.org for the functions there are"
        )


def _unknown_functions(node: object) -> set[str]:
    """Functions an expression calls that JMESPath does not have: known before sending."""
    from jmespath.functions import Functions

    if not isinstance(node, dict):
        return set()
    found = set()
    if node.get("type") == "function_expression" and not hasattr(
        Functions, f"_func_{node.get('value')}"
    ):
        found.add(str(node.get("value")))
    for child in node.get("children", []):
        found |= _unknown_functions(child)
    return found


def check_profile_name(name: str) -> None:
    """A profile name must be printable text, since it names TOML tables and keyring entries."""
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


def _from_environment(name: str, environ: dict[str, str]) -> str | float | None:
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
