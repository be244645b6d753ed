"""The environment a command runs in: streams, terminal flags, variables and common options.

One :class:`Environment` is built per command invocation and handed to everything that needs
to print, read configuration or make requests. Tests build their own, so nothing reaches for
``sys.stdout`` or ``os.environ`` behind their back.
"""

import errno
import io
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, TextIO, cast

from voucherctl.core.redact import ScrubbedStream, scrub
from voucherctl.core.text import escape_control
from voucherctl.storage import config

if TYPE_CHECKING:
    from voucherctl.api.transport.http import HttpClient
    from voucherctl.api.transport.pacing import Pacer

DEFAULT_TIMEOUT = 30.0
DEFAULT_MAX_WAIT = 60.0


@dataclass(frozen=True)
class CommonOptions:
    """The options every command accepts (docs/contract.md#common-options)."""

    profile: str | None = None
    sandbox: bool = False
    output: str | None = None  # None: table on a terminal, else json
    verbose: bool = False
    quiet: bool = False
    timeout: float = DEFAULT_TIMEOUT
    max_wait: float = DEFAULT_MAX_WAIT
    yes: bool = False  # changes on a protected profile are confirmed up front
    query: str | None = None  # a JMESPath expression applied to what the command prints


class ClosedStream(io.TextIOBase):
    """Stands in for a standard stream the process was started without (``>&-``): writing or
    reading it fails with a clear OSError, where ``None`` would fail with an AttributeError."""

    def __init__(self, name: str) -> None:
        self.stream_name = name

    def write(self, text: str) -> int:
        raise OSError(errno.EBADF, f"{self.stream_name} is closed")

    def read(self, size: int | None = -1) -> str:
        raise OSError(errno.EBADF, f"{self.stream_name} is closed")

    def readline(self, size: int | None = -1) -> str:  # type: ignore[override]
        raise OSError(errno.EBADF, f"{self.stream_name} is closed")

    def isatty(self) -> bool:
        return False


def _standard(name: str) -> TextIO:
    """``sys.stdout`` (or stderr, stdin), or a ClosedStream when the process has none."""
    stream: TextIO | None = getattr(sys, name)
    return stream if stream is not None else cast(TextIO, ClosedStream(name))


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


@dataclass
class Environment:
    """Streams, variables and options of one invocation."""

    options: CommonOptions = field(default_factory=CommonOptions)
    environ: Mapping[str, str] = field(default_factory=config.environ_snapshot)
    stdout: TextIO = field(default_factory=lambda: _standard("stdout"))
    stderr: TextIO = field(default_factory=lambda: _standard("stderr"))
    stdin: TextIO = field(default_factory=lambda: _standard("stdin"))

    def __post_init__(self) -> None:
        # Everything printed passes the secret scrub, whoever prints it.
        if not isinstance(self.stdout, ScrubbedStream):
            self.stdout = cast(TextIO, ScrubbedStream(self.stdout))
        if not isinstance(self.stderr, ScrubbedStream):
            self.stderr = cast(TextIO, ScrubbedStream(self.stderr))

    @cached_property
    def stdout_isatty(self) -> bool:
        return _isatty(self.stdout)

    @cached_property
    def stderr_isatty(self) -> bool:
        return _isatty(self.stderr)

    @cached_property
    def stdin_isatty(self) -> bool:
        return _isatty(self.stdin)

    def output_format(self, *, bulk: bool = False) -> str:
        """The format asked for, else ``table`` on a terminal, else json (jsonl for bulk runs)."""
        if self.options.output:
            return self.options.output
        if self.stdout_isatty:
            return "table"
        return "jsonl" if bulk else "json"

    @cached_property
    def profile(self) -> config.Profile:
        """The active profile; asking for one the config file lacks is a usage error.

        With ``--sandbox`` config.toml is not read at all: an empty profile stands in.
        """
        if self.options.sandbox:
            return config.Profile(name="sandbox")
        return config.load_profile(self.environ, self.options.profile, must_exist=True)

    def var(self, name: str) -> str | None:
        """An environment variable, empty counting as unset."""
        return config.env_value(self.environ, name)

    def error(self, message: str) -> None:
        """One line on stderr, always shown (``--quiet`` included)."""
        self._write_stderr(f"voucherctl: error: {message}")

    def warn(self, message: str) -> None:
        """A warning on stderr, unless ``--quiet``."""
        if not self.options.quiet:
            self._write_stderr(f"voucherctl: warning: {message}")

    def info(self, message: str) -> None:
        """A progress or status message on stderr, unless ``--quiet``."""
        if not self.options.quiet:
            self._write_stderr(message)

    def debug(self, message: str) -> None:
        """A ``--verbose`` block on stderr (secrets scrubbed like everything else)."""
        if self.options.verbose:
            self._write_stderr(message, keep_newlines=True)

    def _write_stderr(self, message: str, *, keep_newlines: bool = False) -> None:
        # One message, one line: a server's newline in it cannot forge a line of its own.
        try:
            self.stderr.write(escape_control(scrub(message), keep_newlines=keep_newlines) + "\n")
            self.stderr.flush()
        except (OSError, ValueError):
            pass  # no stderr to tell: the exit code still says how it went

    def http(self, pacer: "Pacer | None" = None) -> "HttpClient":
        """A fresh HTTP client honouring ``--timeout`` and ``--verbose``."""
        from voucherctl.api.transport.http import HttpClient

        return HttpClient(
            timeout=self.options.timeout,
            max_wait=self.options.max_wait,
            log=self.debug if self.options.verbose else None,
            pacer=pacer,
        )
