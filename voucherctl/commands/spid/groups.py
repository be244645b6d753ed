"""``voucherctl groups`` and ``voucherctl group ID``: SPiD voucher groups."""

import shlex
from typing import Annotated, Any

import typer

from voucherctl.api import shapes
from voucherctl.api.spid.client import SPID_ZONE, TYPE_NAMES
from voucherctl.changes import validate
from voucherctl.cli.command import environment
from voucherctl.cli.names import GroupOption, one_group
from voucherctl.core.errors import UsageError
from voucherctl.core.text import escape_control
from voucherctl.ui import output


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
    output.id_field("Voucher group", "voucherGroupId"),
    output.field("Title", "title"),
    output.field("Description", "description"),
    output.Column("Type", _type),
    output.Column("Codes", _unique),
    output.field("Limit", "limit"),
    output.field("Generated", "generatedVouchers"),
    output.field("Available", "availableVouchers"),
    output.id_field("Campaign", "campaignId"),
    output.id_field("Product", "productId"),
    output.id_field("Discount", "discountId"),
    output.identifier("Client", "clientId"),
    output.time_field("Created", "created", SPID_ZONE),
    output.id_field("Created by", "createdBy"),
    output.time_field("Updated", "updated", SPID_ZONE),
]


Title = Annotated[
    str | None,
    typer.Option(
        "--title",
        metavar="TEXT",
        help="Only the groups titled exactly TEXT: SPiD's filter, the whole title, case "
        "and all (for a part of it: --search).",
    ),
]
Search = Annotated[
    str | None,
    typer.Option(
        "--search",
        metavar="TEXT",
        help="Only the groups whose title contains TEXT, in any case (Unicode case folding, "
        "full-width letters as their plain ones): matched by voucherctl over every page.",
    ),
]


def groups(
    ctx: typer.Context,
    title: Title = None,
    search: Search = None,
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

    Every page is read (1000 groups a page). --title, --type, --campaign-id and --product-id
    are SPiD's own filters, sent with the request; --search is matched here, on every page's
    titles. All of them must match; when nothing does, the list is empty and stderr says why.

    Examples:

    \b
      voucherctl groups --sandbox
      voucherctl groups --search summer         # "Summer campaign", "SUMMER 2026"
      voucherctl groups --type campaign --query '[].voucherGroupId'
    """
    env = environment(ctx)
    filters = _spid_filters(title, group_type, campaign_id, product_id)
    from voucherctl.cli import clients

    found = clients.spid(env).groups(filters)
    from_spid = len(found)
    if search is not None:
        part = folded(validate.text(search, "--search"))
        found = [g for g in found if part in folded(str(g.get("title") or ""))]
    declared = shapes.declared("groups", "group")
    output.print_list(env, found, GROUP_COLUMNS, title="Voucher groups", csv_declared=declared)
    if not found:
        env.info(_none_found(filters, search, from_spid))


def folded(text: str) -> str:
    """``text`` as --search compares it: NFKC, then full case folding (full-width
    letters and plain ones alike; "İstanbul" and "istanbul", whose İ folds to i and a dot above)."""
    import unicodedata

    once = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())
    return once.replace("i\u0307", "i")


def _spid_filters(
    title: str | None, group_type: str | None, campaign_id: str | None, product_id: str | None
) -> dict[str, str]:
    """The filters SPiD applies itself, by SPiD's names."""
    filters: dict[str, str] = {}
    if title is not None:
        filters["title"] = validate.text(title, "--title")
    if group_type is not None:
        filters["type"] = _voucher_type(group_type)
    if campaign_id is not None:
        filters["campaignId"] = validate.numeric_id(campaign_id, "--campaign-id")
    if product_id is not None:
        filters["productId"] = validate.numeric_id(product_id, "--product-id")
    return filters


def _none_found(filters: dict[str, str], search: str | None, from_spid: int) -> str:
    """Why a list of groups is empty, and what to try: the filter that left nothing."""
    shown = escape_control
    if search is not None and from_spid:  # SPiD's filters found some; --search left none
        among = f"the {from_spid} groups SPiD's filters found" if filters else "any group"
        return f"no group's title contains {shown(search)!r} (in any case) among {among}"
    if "title" in filters:
        return (
            f"no group titled {shown(filters['title'])!r} (--title is SPiD's exact, "
            f"case-sensitive match; try --search {shlex.quote(shown(filters['title']))})"
        )
    if search is not None:
        return f"no group's title contains {shown(search)!r} (in any case)"
    return "no voucher group matches" if filters else "the client has no voucher groups"


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
    group_id: Annotated[
        str | None, typer.Argument(metavar="ID", help="Voucher group id (or --group ID).")
    ] = None,
    group_option: GroupOption = None,
) -> None:
    """Show one SPiD voucher group: its type, codes (unique or shared), limit, and how many
    vouchers it has (Generated) and has left unused (Available).

    Example:

    \b
      voucherctl group 47 --sandbox
    """
    env = environment(ctx)
    group_id = validate.numeric_id(one_group(group_id, group_option, "ID"), "ID")
    from voucherctl.cli import clients

    found = clients.spid(env).group(group_id)
    output.print_record(env, found, GROUP_VIEW, title=f"Voucher group {group_id}")
