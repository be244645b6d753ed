"""``voucherctl show CODE``: one SPiD voucher."""

from typing import Annotated, Any

import typer

from voucherctl.api.spid.client import SPID_ZONE, STATUS_NAMES, TYPE_NAMES
from voucherctl.changes import validate
from voucherctl.cli.command import environment
from voucherctl.ui import output


def _group(record: dict[str, Any]) -> str:
    group = record.get("group") if isinstance(record.get("group"), dict) else {}
    title = group.get("title") if group else None
    group_id = record.get("voucherGroupId") or (group or {}).get("voucherGroupId") or ""
    return f"{group_id} ({title})" if title else str(group_id)


VOUCHER_VIEW = [
    output.identifier("Code", "voucherCode"),
    output.Column("Status", lambda v: STATUS_NAMES.get(str(v.get("status")), v.get("status"))),
    output.Column("Type", lambda v: TYPE_NAMES.get(str(v.get("type")), v.get("type"))),
    output.Column("Voucher group", _group),
    output.id_field("User", "userId"),
    output.time_field("Handed out", "handoutTime", SPID_ZONE),
    output.id_field("Handed out by", "handoutBy"),
    output.field("Times redeemed", "count"),
    output.time_field("Created", "created", SPID_ZONE),
    output.id_field("Created by", "createdBy"),
    output.time_field("Updated", "updated", SPID_ZONE),
    output.id_field("Voucher id", "voucherId"),
]


def show(
    ctx: typer.Context,
    code: Annotated[
        str, typer.Argument(metavar="CODE", help="The voucher code, e.g. 64-HB2I-OPBL.")
    ],
) -> None:
    """Show a SPiD voucher by its code: its status, group, and who it was handed out to.

    Examples:

    \b
      voucherctl show 64-HB2I-OPBL --sandbox
      voucherctl show 64-HB2I-OPBL --query status      # "1": handed out
    """
    env = environment(ctx)
    code = validate.text(code, "CODE")
    from voucherctl.cli import clients

    voucher = clients.spid(env).voucher(code)
    output.print_record(env, voucher, VOUCHER_VIEW, title=f"Voucher {code}")
