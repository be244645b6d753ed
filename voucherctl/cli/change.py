"""How every change command runs: one item from options, or many rows with ``--from``.

The command module describes its change as an :class:`Operation`; this module validates the
options, sends one request or hands the rows to the bulk runner, and prints the outcome.
"""

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import typer

from voucherctl.changes import params
from voucherctl.changes.operation import BulkOptions, Client, Fills, Operation
from voucherctl.cli import clients, prompt
from voucherctl.core.errors import ProductionGuardError
from voucherctl.ui import output
from voucherctl.ui.environment import Environment

if TYPE_CHECKING:
    from voucherctl.api.transport.pacing import Pacer
    from voucherctl.bulk.runner import Target
    from voucherctl.changes.recording import AuditLog


def perform(
    env: Environment,
    operation: Operation[Client],
    values: Mapping[str, str | None],
    bulk: BulkOptions,
    *,
    view: Sequence[output.Column],
    title: str,
    defaults: Mapping[str, str | None] | None = None,
) -> None:
    """Run ``operation`` on the values of the options, or on every row of ``--from``.

    ``defaults`` (from variables or the profile) stand in for options not given, and for columns
    a bulk file lacks.
    """
    fallbacks = {k: v for k, v in (defaults or {}).items() if v is not None}
    if bulk.source is not None:
        _perform_bulk(env, operation, values, bulk, fallbacks)
        return
    request = operation.params(
        {**fallbacks, **{k: v for k, v in values.items() if v is not None}}, params.OPTION_NAMES
    )
    if bulk.dry_run:
        print_dry_run(env, operation, request)
        return
    api = operation.client_for(env, None)
    if operation.check:
        operation.check(api, request)
    confirm(env, api.base_url, operation.command)
    change, log = audited(env, operation)
    try:
        log.ensure_writable()
        result = change.call(api, request)
    finally:
        log.close()
    output.print_result(env, result, view, title=title)


def print_dry_run(env: Environment, operation: Operation[Client], request: dict[str, str]) -> None:
    """What ``request`` would send: method, path and form."""
    path, form = operation.sent_as(request) if operation.sent_as else (operation.path, request)
    record = {"method": operation.method, "path": path, "form": form}
    output.print_record(env, record, DRY_RUN_VIEW, title="Dry run: nothing was sent")


DRY_RUN_VIEW = [
    output.Column("Would send", lambda r: f"{r['method']} {r['path']}"),
    output.Column("Form", lambda r: " ".join(f"{k}={v}" for k, v in r["form"].items()), words=True),
]


def _perform_bulk(
    env: Environment,
    operation: Operation[Client],
    values: Mapping[str, str | None],
    bulk: BulkOptions,
    defaults: Mapping[str, str],
) -> None:
    from voucherctl.bulk.runner import Target, run

    # Options given with --from fill the columns the file lacks, checked as options.
    given = {name: params.field(name, value) for name, value in values.items() if value is not None}
    fills = Fills(given, {name: params.field(name, value) for name, value in defaults.items()})

    from voucherctl.changes.recording import AuditLog

    log = AuditLog(env, command=operation.command)

    def start(pacer: "Pacer") -> "Target[Client]":
        api = operation.client_for(env, pacer)
        confirm(env, api.base_url, operation.command)  # after every row was validated
        log.ensure_writable()  # the ledger: a run it cannot record sends nothing (exit 2)
        return Target(api, clients.recorded_host(env, api.base_url), log.ledger)

    try:
        code = run(env, operation, fills, bulk, start)
    finally:
        log.close()
    if code:
        raise typer.Exit(int(code))


def confirm(env: Environment, host: str, command: str) -> None:
    """On a protected profile, say where the change goes and have the user confirm it."""
    profile = env.profile
    if not profile.protected:
        return
    banner = f"Profile {profile.name!r} is protected: {command} changes vouchers on {host}."
    if env.options.yes:
        env.info(banner)
        return
    env.stderr.write(banner + "\n")
    if not env.stdin_isatty:
        raise ProductionGuardError(
            f"profile {profile.name!r} is protected: add --yes to confirm changes when not on "
            "a terminal; nothing was sent"
        )
    answer = prompt.ask(env, f"Type the profile name ({profile.name}) to go on")
    if answer != profile.name:
        raise ProductionGuardError("not confirmed; nothing was sent")


def audited(env: Environment, operation: Operation[Client]) -> "tuple[Operation[Client], AuditLog]":
    """``operation`` with every call recorded in the ledger (docs/contract.md#the-ledger), and
    the log (check it with ``ensure_writable`` before the first call)."""
    from voucherctl.changes.recording import AuditLog, audit_calls

    log = AuditLog(env, command=operation.command)

    def host(api: Client) -> str:
        return clients.recorded_host(env, api.base_url)

    return audit_calls(operation, log, host, env.warn), log
