"""``voucherctl groups`` and ``voucherctl group ID``: SPiD voucher groups."""

from typing import Annotated, Any

import typer

from voucherctl import output
from voucherctl.cli import validate
from voucherctl.cli.command import environment
from voucherctl.spid import TYPE_NAMES


def _type(group: dict[str, Any]) -> Any:
    return TYPE_NAMES.get(str(group.get("type")), group.get("type"))


def _unique(group: dict[str, Any]) -> str:
    return {"1": "unique", "0": "shared"}.get(str(group.get("unique")), str(group.get("unique")))


GROUP_COLUMNS = [
    output.field("Id", "voucherGroupId"),
    output.field("Title", "title"),
    output.Column("Type", _type),
    output.Column("Codes", _unique),
    output.field("Created", "created"),
]

GROUP_VIEW = [
    output.field("Voucher group", "voucherGroupId"),
    output.field("Title", "title"),
    output.field("Description", "description"),
    output.Column("Type", _type),
    output.Column("Codes", _unique),
    output.field("Limit", "limit"),
    output.field("Campaign", "campaignId"),
    output.field("Product", "productId"),
    output.field("Discount", "discountId"),
    output.field("Client", "clientId"),
    output.field("Created", "created"),
    output.field("Created by", "createdBy"),
    output.field("Updated", "updated"),
]


def groups(
    ctx: typer.Context,
    title: Annotated[
        str | None,
        typer.Option("--title", metavar="TEXT", help="Only groups whose title contains TEXT."),
    ] = None,
) -> None:
    """List the SPiD voucher groups of the client."""
    env = environment(ctx)
    from voucherctl import clients

    found = clients.spid(env).groups()
    if title:
        wanted = title.casefold()
        found = [g for g in found if wanted in str(g.get("title", "")).casefold()]
    output.print_list(env, found, GROUP_COLUMNS, title="Voucher groups")


def group(
    ctx: typer.Context,
    group_id: Annotated[str, typer.Argument(metavar="ID", help="Voucher group id.")],
) -> None:
    """Show one SPiD voucher group."""
    env = environment(ctx)
    group_id = validate.numeric_id(group_id, "ID")
    from voucherctl import clients

    found = clients.spid(env).group(group_id)
    output.print_record(env, found, GROUP_VIEW, title=f"Voucher group {group_id}")
