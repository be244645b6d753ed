"""Every run of voucherctl in the suite checks what it printed against the published schemas.

``check_run`` is called by the ``cli`` fixture (tests/conftest.py) and by ``run_cli``
(tests/sandbox_process.py), stubbed HTTP and the real sandbox alike: JSON on stdout is
validated by the command's name (docs/contract.md#schemas), a bulk run's rows as ``row``, a dry
run as ``dry-run`` or ``dry-run-row``, and each JSON error line on stderr as ``error``. A shape
cannot change without its schema.
"""

import json
from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any

from jsonschema import Draft202012Validator

from voucherctl import schemas
from voucherctl.commands import GROUPS, SPECS

_VALUE_OPTIONS = frozenset(
    {"-p", "--profile", "-o", "--output", "--timeout", "--max-wait", "--query", "--from"}
)
# Commands that print no JSON document on stdout, whatever the format.
NOT_JSON = frozenset(
    {
        "completion",
        "schema",
        "sandbox-serve",
        "sandbox-reset",
        "help",
        "config-set",
        "config-unset",
        "runs-import",
    }
)
# Commands whose first argument may be a verb with output of its own: "runs show NAME".
_VERBS = {"runs": {"show", "import"}}
# Plain text unless JSON is asked for (-o json|jsonl, VOUCHERCTL_OUTPUT): a value for $(...).
_PLAIN_UNLESS_ASKED = frozenset({"config-get"})
CHECKED: set[str] = set()  # the schemas some output was checked against, for coverage tests


@cache
def validator(name: str) -> Draft202012Validator:
    text = schemas.text(name)
    assert text is not None, f"no published schema {name!r}"
    schema = json.loads(text)
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def check(name: str, document: Any, where: str) -> None:
    """Fail with every way ``document`` breaks the schema ``name``."""
    CHECKED.add(name)
    problems = [
        f"{'/'.join(map(str, e.absolute_path)) or '(top)'}: {e.message}"
        for e in validator(name).iter_errors(document)
    ]
    assert not problems, f"{where} breaks schema {name!r}:\n  " + "\n  ".join(problems[:10])


def command_name(args: Sequence[str]) -> str | None:
    """``auth-status`` for ``auth status -o json``: the schema name of the command run."""
    words = []
    skip = False
    for word in args:
        if skip:
            skip = False
        elif word in _VALUE_OPTIONS:
            skip = True
        elif not word.startswith("-"):
            words.append(word)
            if (words[0] not in GROUPS and words[0] not in _VERBS) or len(words) == 2:
                break
            if words[0] in _VERBS and len(words) == 2 and word not in _VERBS[words[0]]:
                words.pop()  # an argument, not a verb
                break
    if not words or all(spec.path[0] != words[0] for spec in SPECS):
        return None
    return "-".join(words)


def output_format(args: Sequence[str], environ: Mapping[str, str], *, tty: bool) -> str:
    asked = environ.get("VOUCHERCTL_OUTPUT", "")
    for index, word in enumerate(args):
        if word in ("-o", "--output") and index + 1 < len(args):
            asked = args[index + 1]
        elif word.startswith("--output="):
            asked = word.partition("=")[2]
        elif word.startswith("-o") and not word.startswith("--") and len(word) > 2:
            asked = word[2:]
    return asked.strip().lower() or ("table" if tty else "json")


def check_run(
    args: Sequence[str], stdout: str, stderr: str, environ: Mapping[str, str], *, tty: bool
) -> None:
    """Validate one run's JSON output and JSON errors against the published schemas."""
    for line in stderr.splitlines():
        if line.startswith('{"error"'):
            check("error", json.loads(line), f"stderr of voucherctl {' '.join(args)}")
    name = command_name(args)
    if {"--help", "-h"} & set(args):
        return  # help is text for people, whatever the format
    if name is None or name in NOT_JSON or "--query" in args or not stdout.strip():
        return
    if name in _PLAIN_UNLESS_ASKED and not _asked(args, environ):
        return
    fmt = output_format(args, environ, tty=tty)
    bulk = any(spec.bulk and spec.name == name for spec in SPECS) and "--from" in args
    if bulk:
        name = "dry-run-row" if "--dry-run" in args else "row"
        if not tty and not _asked(args, environ):
            fmt = "jsonl"  # a bulk run's default when piped
    elif "--dry-run" in args:
        name = "dry-run"
    where = f"stdout of voucherctl {' '.join(args)}"
    if fmt == "json":
        document = _parsed(stdout, where)
        if bulk:
            for item in document:
                check(name, item, where)
        else:
            check(name, document, where)
    elif fmt == "jsonl":
        schema = json.loads(schemas.text(name) or "{}")
        per_line = name if bulk or schema.get("type") != "array" else None
        for line in stdout.splitlines():
            document = _parsed(line, where)
            if per_line:
                check(per_line, document, where)
            else:
                check(name, [document], where)


def _asked(args: Sequence[str], environ: Mapping[str, str]) -> bool:
    return bool(environ.get("VOUCHERCTL_OUTPUT")) or any(
        a in ("-o", "--output") or a.startswith(("-o", "--output=")) for a in args
    )


def _parsed(text: str, where: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        raise AssertionError(f"{where} is not JSON: {text[:200]!r}") from None
