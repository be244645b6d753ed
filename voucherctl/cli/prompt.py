"""Asking the user: prompts on stderr (stdout is for data), secrets never echoed or in argv."""

import getpass

from voucherctl.core import redact
from voucherctl.core.errors import UsageError
from voucherctl.ui.environment import Environment


def ask(env: Environment, question: str, *, default: str | None = None) -> str:
    """A visible answer typed at the terminal."""
    suffix = f" [{default}]" if default else ""
    env.stderr.write(f"{question}{suffix}: ")
    env.stderr.flush()
    try:
        answer = env.stdin.readline()
    except EOFError:
        answer = ""
    except OSError:  # started with stdin closed (<&-)
        raise UsageError(f"no answer to {question!r}: stdin is closed") from None
    if not answer:
        raise UsageError(f"no answer to {question!r}")
    return answer.strip() or (default or "")


def secret(env: Environment, question: str, *, what: str) -> str:
    """A secret: typed hidden on a terminal, else the first line of stdin."""
    if env.stdin_isatty:
        try:
            value = getpass.getpass(f"{question}: ", stream=env.stderr)
        except EOFError:
            value = ""
    else:
        try:
            value = env.stdin.readline().rstrip("\r\n")
        except OSError:  # started with stdin closed (<&-): nothing to read it from
            raise UsageError(
                f"no {what} given: stdin is closed; pipe it on stdin or run on a terminal"
            ) from None
    value = value.strip()
    if not value:
        how = "type it at the prompt" if env.stdin_isatty else "pipe it on stdin"
        raise UsageError(f"no {what} given; {how}")
    redact.register(value)
    return value
