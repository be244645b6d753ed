"""``voucherctl groups`` and ``voucherctl group ID``: SPiD voucher groups."""

from typing import Annotated, Any

import typer

from voucherctl import output
from voucherctl.cli import validate
from voucherctl.cli.command import environment
from voucherctl.errors import UsageError
from voucherctl.spid import SPID_ZONE, TYPE_NAMES


def _type(group: dict[str, Any]) -> Any:
    return TYPE_NAMES.get(str(group.get("type")), group.get("type"))


def _unique(group: dict[str, Any]) -> str:
    return {"1": "unique", "0": "shared"}.get(str(group.get("unique")), str(group.get("unique")))


GROUP_COLUMNS = [  # a narrow terminal leaves out Created, then Codes, then Type
    output.id_field("Id", "voucherGroupId"),
    output.field("Title", "title"),
    output.Column("Type", _type, drop=1),
    output.Column("Codes", _unique, drop=2),
    output.time_field("Created", "created", SPID_ZONE, drop=3),
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
    output.time_field("Created", "created", SPID_ZONE),
    output.field("Created by", "createdBy"),
    output.time_field("Updated", "updated", SPID_ZONE),
]


def groups(
    ctx: typer.Context,
    title: Annotated[
        str | None,
        typer.Option(
            "--title",
            metavar="TEXT",
            help="Only the groups titled exactly TEXT (SPiD matches the whole title, not a "
            "part of it).",
        ),
    ] = None,
    group_type: Annotated[
        str | None,
        typer.Option(
            "--type",
            metavar="TYPE",
            help="Only groups of this voucher type: 5 or campaign, 8 or 'payment method', "
            "3 or giveaway, 6 or 'free with order'.",
        ),
    ] = None,
    campaign_id: Annotated[
        str | None,
        typer.Option("--campaign-id", metavar="ID", help="Only the groups of this campaign."),
    ] = None,
    product_id: Annotated[
        str | None,
        typer.Option("--product-id", metavar="ID", help="Only the groups of this product."),
    ] = None,
) -> None:
    """List the SPiD voucher groups of the client.

    Every page is read (1000 groups a page). The filters are SPiD's own, sent with the request,
    and all of them must match; a search that finds nothing prints an empty list.

    Examples:

    \b
      voucherctl groups --sandbox
      voucherctl groups --type campaign --query '[].voucherGroupId'
    """
    env = environment(ctx)
    filters: dict[str, str] = {}  # SPiD's names
    if title is not None:
        filters["title"] = validate.text(title, "--title")
    if group_type is not None:
        filters["type"] = _voucher_type(group_type)
    if campaign_id is not None:
        filters["campaignId"] = validate.numeric_id(campaign_id, "--campaign-id")
    if product_id is not None:
        filters["productId"] = validate.numeric_id(product_id, "--product-id")
    from voucherctl import clients

    found = clients.spid(env).groups(filters)
    output.print_list(env, found, GROUP_COLUMNS, title="Voucher groups")


def _voucher_type(value: str) -> str:
    """A voucher type by its code or its name ("5", "campaign")."""
    wanted = value.strip().casefold()
    by_name = {name.casefold(): code for code, name in TYPE_NAMES.items()}
    if wanted in TYPE_NAMES:
        return wanted
    if wanted in by_name:
        return by_name[wanted]
    known = ", ".join(f"{code} ({name})" for code, name in sorted(TYPE_NAMES.items()))
    raise UsageError(f"--type must be a voucher type: {known}; not {value!r}")


def group(
    ctx: typer.Context,
    group_id: Annotated[str, typer.Argument(metavar="ID", help="Voucher group id.")],
) -> None:
    """Show one SPiD voucher group: its type, codes (unique or shared) and limit.

    Example:

    \b
      voucherctl group 47 --sandbox
    """
    env = environment(ctx)
    group_id = validate.numeric_id(group_id, "ID")
    from voucherctl import clients

    found = clients.spid(env).group(group_id)
    output.print_record(env, found, GROUP_VIEW, title=f"Voucher group {group_id}")
