"""``voucherctl codes``: take codes out of a SPiD voucher group, for print, e-mail or partners.

SPiD shows the codes it hands out this once. So they are kept in the data directory before
anything is printed (kept_codes), ``--out`` gets a file made before the request is sent, and
the audit log records the request and where the codes went, never the codes themselves.
"""

import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from voucherctl.api.spid.client import SPID_ZONE, TYPE_NAMES, SpidClient
from voucherctl.api.spid.codes import CODE_FIELDS, HANDOUT_PATH
from voucherctl.changes import params
from voucherctl.changes.operation import Operation
from voucherctl.cli import change, clients
from voucherctl.cli.command import environment
from voucherctl.cli.names import GroupArgument, GroupOption, one_group
from voucherctl.core.errors import UsageError, VoucherctlError
from voucherctl.ui import output
from voucherctl.ui.environment import Environment

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from voucherctl.storage.kept_codes import OutFile

CODE_COLUMNS = [
    # Never shortened, never cut: SPiD shows a code once, support copies it from here.
    output.Column("Code", lambda voucher: voucher.get("voucherCode"), no_wrap=True),
    output.id_field("Voucher", "voucherId"),
    output.id_field("Group", "voucherGroupId", drop=1),
    output.Column("Type", lambda v: TYPE_NAMES.get(str(v.get("type")), v.get("type")), drop=3),
    output.time_field("Created", "created", SPID_ZONE, drop=2),
]
NOT_KEPT = "not kept"


def _operation(env: Environment) -> Operation[SpidClient]:
    """The change, keeping what it takes in this run's data directory before it returns."""
    from voucherctl.api.spid.codes import take_codes
    from voucherctl.storage import kept_codes

    def call(client: SpidClient, request: Any) -> dict[str, Any]:
        group, amount = request["voucherGroupId"], request["amount"]
        vouchers = take_codes(client, group, amount)
        taken = {
            "taken": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
            "host": clients.recorded_host(env, client.base_url),
            "voucherGroupId": group,
            "amount": int(amount),
            "vouchers": vouchers,
        }
        try:
            kept = kept_codes.keep(kept_codes.folder(env.environ), group, taken)
            return {"vouchers": vouchers, "kept": str(kept)}
        except OSError as exc:  # the codes exist nowhere else: show them, whatever it takes
            return {"vouchers": vouchers, "kept": None, "why": exc.strerror or str(exc)}

    return Operation(
        command="codes",
        columns=("voucherGroupId", "amount"),
        params=lambda values, _: params.group_amount(values),
        client_for=clients.spid,
        call=call,
        method="POST",
        path=HANDOUT_PATH.format("{voucherGroupId}"),
        sent_as=lambda r: (HANDOUT_PATH.format(r["voucherGroupId"]), {"amount": r["amount"]}),
        recorded=lambda result: {"codesFile": result["kept"] or NOT_KEPT},
    )


def codes(
    ctx: typer.Context,
    group: GroupArgument = None,
    amount: Annotated[
        str, typer.Option("--amount", metavar="N", help="How many codes to take: 1 or more.")
    ] = "1",
    group_option: GroupOption = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            metavar="FILE",
            help="Also write the codes to FILE, a new file, as CSV (voucherCode, voucherId, "
            "voucherGroupId, type, created). An existing FILE is refused before anything is sent.",
            dir_okay=False,
        ),
    ] = None,
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help="Check the arguments and show the request; send nothing."),
    ] = False,
) -> None:
    """Take N codes out of a voucher group, to print, e-mail or give to partners.

    SPiD marks them handed out and never shows them again, so they are first written to a new
    file in the data directory's codes/ folder (stderr says which), then printed: a table on a
    terminal, a JSON array of the vouchers otherwise, CSV with -o csv. The audit log records
    the request and that file, not the codes.

    More codes than the group has left is refused (exit 5). A timeout or a 5xx exits 7: codes
    may have been taken that nobody can ask for again, so do not simply retry; tell support.

    Examples:

    \b
      voucherctl codes 47 --amount 3 --sandbox
      voucherctl codes 47 --amount 100 --out partner-codes.csv
    """
    env = environment(ctx)
    request = params.group_amount(
        {"voucherGroupId": one_group(group, group_option), "amount": amount}
    )
    if out is not None and str(out) == "-":
        raise UsageError("--out names a file; for stdout use -o csv")
    if dry_run:
        if out is not None and out.exists():
            raise UsageError(f"--out {out} exists already; codes never replace a file")
        change.print_dry_run(env, _operation(env), request)
        return
    _take(env, request, out)


def _take(env: Environment, request: dict[str, str], out: Path | None) -> None:
    """Take the codes, keep them, write ``--out``, print them: in that order."""
    from voucherctl.storage import kept_codes

    operation = _operation(env)
    target = kept_codes.OutFile(out) if out is not None else None  # refused: nothing sent
    try:
        api = clients.spid(env)
        change.confirm(env, api.base_url, operation.command)
        audited, log = change.audited(env, operation)
        log.ensure_writable()
        # Codes that cannot be kept are not asked for: the folder and room for them, first.
        kept_codes.ensure_folder(env.environ, int(request.get("amount", "1")))
        result = audited.call(api, request)
    except BaseException:
        if target:
            target.discard()
        raise
    vouchers, kept = result["vouchers"], result["kept"]
    where = f"kept in {kept}" if kept else "NOT kept"
    env.info(
        f"{len(vouchers)} codes taken out of voucher group {request['voucherGroupId']}, {where}"
    )
    if target:
        _write_out(env, target, vouchers, kept)
    printed = _print(env, vouchers, kept)
    if not kept:
        # Kept nowhere: stdout may be on the same full disk and cut them short without a word,
        # so they go to stderr as well.
        on_stderr = _to_stderr(env, vouchers)
        where_now = "on stderr" if on_stderr else ("above" if printed else "nowhere")
        raise VoucherctlError(
            f"the codes were taken, but could not be kept in the data directory ({result['why']}): "
            f"they are printed {where_now} and exist nowhere else: save them now"
            + ("" if printed or on_stderr else "; 'voucherctl audit' shows the request")
        )


def _write_out(
    env: Environment, target: "OutFile", vouchers: list[dict[str, Any]], kept: str | None
) -> None:

    try:
        target.write(as_csv(vouchers))
        env.info(f"codes written to {target.path}")
    except OSError as exc:
        env.warn(
            f"the codes could not be written to {target.path} ({exc.strerror or exc}); "
            + (f"they are kept in {kept}" if kept else "see below")
        )


def _print(env: Environment, vouchers: list[dict[str, Any]], kept: str | None) -> bool:
    """Print the codes; False (with a warning) when stdout cannot take them."""

    try:
        if env.output_format() == "csv" and env.options.query is None:
            env.stdout.write(as_csv(vouchers))
            env.stdout.flush()
        else:
            output.print_list(env, vouchers, CODE_COLUMNS, title="Codes taken out")
        return True
    except VoucherctlError as exc:  # --query that does not fit the codes
        reason = exc.message
    except (OSError, ValueError) as exc:  # stdout closed, its reader gone
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    if kept:
        env.warn(
            f"the codes were taken but could not be printed ({reason}); they are kept in {kept}"
        )
    return False


def _to_stderr(env: Environment, vouchers: list[dict[str, Any]]) -> bool:
    """The codes as JSON on stderr, the last place left; False when it cannot take them."""
    try:
        env.stderr.write(output.to_json(vouchers) + "\n")
        env.stderr.flush()
    except (OSError, ValueError):
        return False
    return True


def as_csv(vouchers: "Sequence[Mapping[str, Any]]") -> str:
    """The codes as CSV (``--out`` and ``-o csv``): a header, then one row a voucher."""
    import csv
    import io

    from voucherctl.api import shapes

    # The codes' own columns first, then every other field the schema declares, then any field
    # SPiD added: nothing -o json shows is left out (docs/contract.md#csv-columns).
    columns = dict.fromkeys([*CODE_FIELDS, *shapes.declared("codes", "voucher")])
    columns.update(dict.fromkeys(key for voucher in vouchers for key in voucher))
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for voucher in vouchers:
        writer.writerow(output.csv_cell(voucher.get(name)) for name in columns)
    return buffer.getvalue()
