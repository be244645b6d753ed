"""How a voucherctl command runs: its option groups, its Environment, its one error boundary.

A command module declares only its own arguments and options. The command classes here add
the option groups every command shares (``cli/options.py``; bulk commands also
``cli/bulk_options.py``), take their values out before Typer calls the command, and build the
:class:`Environment` the command gets with :func:`environment`. Every exception becomes a
message on stderr and an exit code in :func:`error_boundary`, and nowhere else.
"""

import sys
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from typing import Any, ClassVar, Generic, TypeVar

import typer
from typer import _click as click  # typer vendors click; typer is pinned (pyproject.toml)
from typer.core import TyperCommand, TyperGroup
from typer.main import get_params_convertors_ctx_param_name_from_function

from voucherctl.changes.operation import BulkOptions
from voucherctl.cli.bulk_options import bulk_options
from voucherctl.cli.options import TypedOptions, common_options, merge
from voucherctl.core.errors import ExitCode, VoucherctlError
from voucherctl.storage import config
from voucherctl.ui.environment import Environment

T = TypeVar("T")


@dataclass(frozen=True)
class OptionGroup(Generic[T]):
    """Options declared once, as the parameters of ``declare``, whose body builds their value."""

    title: str
    declare: Callable[..., T]

    @cached_property
    def _declared(self) -> tuple[list[Any], dict[str, Callable[[Any], Any]]]:
        params, convertors, _ = get_params_convertors_ctx_param_name_from_function(self.declare)
        return params, convertors

    def parameters(self) -> list[click.Parameter]:
        """Fresh Click parameters for one more command."""
        return list(get_params_convertors_ctx_param_name_from_function(self.declare)[0])

    def names(self) -> set[str]:
        return {param.name for param in self._declared[0]}

    def take(self, ctx: click.Context) -> T:
        """Remove the group's values from ``ctx.params`` and build the group's value of them."""
        params, convertors = self._declared
        values = {}
        for param in params:
            value = ctx.params.pop(param.name, None)
            convert = convertors.get(param.name)
            values[param.name] = convert(value) if convert and value is not None else value
        return self.declare(**values)


COMMON = OptionGroup("Common options", common_options)
BULK = OptionGroup("Bulk options", bulk_options)

_ENVIRONMENT = "voucherctl.environment"
_BULK = "voucherctl.bulk"
_TYPED_BEFORE = "voucherctl.typed_before"
_ARGV = "voucherctl.argv"


def environment(ctx: typer.Context) -> Environment:
    """The Environment of the command being run."""
    env: Environment = ctx.meta[_ENVIRONMENT]
    return env


def bulk(ctx: typer.Context) -> BulkOptions:
    """The bulk options of the command being run (a ``BulkCommand``)."""
    options: BulkOptions = ctx.meta[_BULK]
    return options


class Command(TyperCommand):
    """A command with the common options after its own, in a help section of their own."""

    groups: ClassVar[tuple[OptionGroup[Any], ...]] = (COMMON,)

    def __init__(self, *args: Any, params: list[click.Parameter] | None = None, **kw: Any):
        added = [param for group in self.groups for param in group.parameters()]
        super().__init__(*args, params=[*(params or []), *added], **kw)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if not ctx.resilient_parsing:
            refuse_repeated(self.make_parser(ctx), ctx, list(args))
        return super().parse_args(ctx, args)

    def invoke(self, ctx: click.Context) -> Any:
        typed: TypedOptions = COMMON.take(ctx)
        before = ctx.meta.get(_TYPED_BEFORE) or TypedOptions()
        environ = config.environ_snapshot()
        asked = typed.output or before.output or environ.get("VOUCHERCTL_OUTPUT", "")
        with error_boundary(
            verbose=bool(typed.verbose or before.verbose),
            structured=asked.strip().lower() in ("json", "jsonl"),
        ):
            ctx.meta[_ENVIRONMENT] = Environment(
                options=merge(typed, before, environ), environ=environ
            )
            if BULK in self.groups:
                ctx.meta[_BULK] = BULK.take(ctx)
            return super().invoke(ctx)

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        grouped = {name for group in self.groups for name in group.names()}
        sections: dict[str, list[tuple[str, str]]] = {"Arguments": [], "Options": []}
        for group in self.groups:
            sections[group.title] = []
        for param in self.get_params(ctx):
            if param.param_type_name == "argument":
                if not getattr(param, "hidden", False):
                    sections["Arguments"].append(_argument_help(param))
                continue
            record = param.get_help_record(ctx)
            if record is None:
                continue
            if param.name not in grouped:
                sections["Options"].append(record)
            else:
                title = next(g.title for g in self.groups if param.name in g.names())
                sections[title].append(record)
        for title, records in sections.items():
            if records:
                with formatter.section(title):
                    formatter.write_dl(records)

    def collect_usage_pieces(self, ctx: click.Context) -> list[str]:
        """``[OPTIONS] CODE``: arguments by their names, not Typer's ``{CODE}``."""
        pieces = [self.options_metavar] if self.options_metavar else []
        for param in self.get_params(ctx):
            if param.param_type_name == "argument" and not getattr(param, "hidden", False):
                name = _argument_name(param)  # `[show NAME | import LEDGER]` is bracketed once
                pieces.append(name if param.required or name.startswith("[") else f"[{name}]")
        return pieces


def refuse_repeated(parser: Any, ctx: click.Context, args: list[str]) -> None:
    """A single-value option given twice with different values, by either of its names
    (``--user 1 --user-id 2``), is a usage error naming both: taking the last one silently
    would hide a mistake (docs/contract.md#common-options). The same value twice is one."""
    options = {id(o): o for o in [*parser._long_opt.values(), *parser._short_opt.values()]}
    for option in options.values():
        if option.action == "store":
            option.action = "append"  # this parser is ours alone: it keeps every value given
    try:
        values, _, order = parser.parse_args(args=args)
    except click.exceptions.UsageError:
        return  # the parse proper reports it
    for param in dict.fromkeys(order):
        single = not any(getattr(param, name, False) for name in ("multiple", "count", "is_flag"))
        if param.param_type_name != "option" or not single:
            continue
        given = list(dict.fromkeys(str(value) for value in values.get(param.name) or []))
        if len(given) > 1:
            from voucherctl.core.text import escape_control

            names = "/".join(param.opts)
            shown = " and ".join(repr(escape_control(value)) for value in given)
            message = (
                f"{names} was given more than once, with different values {shown}: give it once"
            )
            raise click.exceptions.UsageError(message, ctx=ctx)


def _argument_name(param: click.Parameter) -> str:
    return param.metavar or (param.name or "").upper()  # a metavar as written


def _argument_help(param: click.Parameter) -> tuple[str, str]:
    """An argument's line in --help: its name, its text, and its choices if it has some."""
    text = getattr(param, "help", None) or ""
    choices = getattr(param.type, "choices", None)  # typer's TyperChoice, for an Enum
    if choices:
        names = (getattr(choice, "value", choice) for choice in choices)
        text = f"{text} One of: {', '.join(map(str, names))}.".strip()
    return _argument_name(param), text


class BulkCommand(Command):
    """A change command that also runs every row of a file (``--from``)."""

    groups = (BULK, COMMON)


class RootGroup(TyperGroup):
    """The top level: the common options may also come before the command path."""

    def __init__(self, *args: Any, params: list[click.Parameter] | None = None, **kw: Any):
        super().__init__(*args, params=[*(params or []), *COMMON.parameters()], **kw)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if not ctx.resilient_parsing:  # `voucherctl -o json -o csv handout ...`
            refuse_repeated(self.make_parser(ctx), ctx, list(args))
        return super().parse_args(ctx, args)

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        argv = list(args)
        with parser_errors(argv):
            ctx = super().make_context(info_name, args, parent=parent, **extra)
        ctx.meta[_ARGV] = argv
        return ctx

    def invoke(self, ctx: click.Context) -> Any:
        ctx.meta[_TYPED_BEFORE] = COMMON.take(ctx)
        with parser_errors(ctx.meta.get(_ARGV, [])):  # the subcommands' own options
            return super().invoke(ctx)


@contextmanager
def parser_errors(argv: list[str]) -> Iterator[None]:
    """The parser's usage errors (a mistyped option, a missing argument, a bad value) as the
    error object when JSON was asked for (docs/contract.md#errors); else Typer's own text."""
    try:
        yield
    except click.exceptions.NoArgsIsHelpError:
        raise  # help was asked for, in effect: it is printed as help
    except click.exceptions.UsageError as exc:
        if not asked_json(argv, config.environ_snapshot()):
            raise
        message = exc.format_message()
        where = exc.ctx.command_path if exc.ctx is not None else "voucherctl"
        message += f"; see '{where} --help'"
        write_error(message, ExitCode.USAGE, structured=True)
        raise typer.Exit(int(ExitCode.USAGE)) from None


def asked_json(argv: list[str], environ: dict[str, str]) -> bool:
    """Whether ``-o json|jsonl`` (or VOUCHERCTL_OUTPUT) was asked for: the last valid one given
    wins; a bad or missing value (``-o xml``, a last ``-o``), the error itself, changes nothing."""
    asked = environ.get("VOUCHERCTL_OUTPUT", "")
    for index, word in enumerate(argv):
        if word == "--":
            break
        if word in ("-o", "--output"):
            value = argv[index + 1] if index + 1 < len(argv) else ""
        elif word.startswith("--output="):
            value = word.partition("=")[2]
        elif word.startswith("-o") and not word.startswith("--"):
            value = word[2:]
        else:
            continue
        if value.strip().lower() in ("table", "json", "jsonl", "csv"):
            asked = value
    return asked.strip().lower() in ("json", "jsonl")


def write_error(
    message: str, code: ExitCode, error: VoucherctlError | None = None, *, structured: bool
) -> None:
    """The error line on stderr: the error object, or ``voucherctl: error: ...``."""
    from voucherctl.core.errors import error_object
    from voucherctl.core.redact import scrub
    from voucherctl.core.text import escape_control

    if sys.stderr is None:  # started with stderr closed: the exit code tells alone
        return
    if structured:
        from voucherctl.ui.output import to_json

        details = error_object(
            scrub(message),
            code,
            http_status=error.http_status if error else None,
            api_error=scrub(error.api_error) if error and error.api_error else None,
        )
        sys.stderr.write(to_json({"error": details}) + "\n")
    else:
        sys.stderr.write(f"voucherctl: error: {escape_control(scrub(message))}\n")


@contextmanager
def error_boundary(*, verbose: bool, structured: bool = False) -> Iterator[None]:
    """The one place an exception becomes a message on stderr and an exit code.

    ``structured`` (``-o json``/``jsonl`` asked for): the line is a JSON object a script can
    parse (docs/contract.md#errors).
    """
    from voucherctl.core.redact import scrub

    def fail(message: str, code: ExitCode, error: VoucherctlError | None = None) -> typer.Exit:
        write_error(message, code, error, structured=structured)
        return typer.Exit(int(code))

    try:
        yield
    except VoucherctlError as exc:
        raise fail(exc.message, exc.exit_code, exc) from None
    except KeyboardInterrupt:
        raise fail("interrupted", ExitCode.INTERRUPTED) from None
    except BrokenPipeError:
        raise typer.Exit(int(ExitCode.OK)) from None  # the reader (head, grep -q) had enough
    except (typer.Exit, typer.Abort):
        raise
    except Exception as exc:
        if verbose and sys.stderr is not None:
            sys.stderr.write(scrub("".join(traceback.format_exc())))
        hint = "" if verbose else " (run with --verbose for details)"
        raise fail(f"unexpected error: {type(exc).__name__}: {exc}{hint}", ExitCode.ERROR) from None
