"""``voucherctl handout --user ID --group ID``: give a user a voucher from a SPiD voucher group."""

from typing import Annotated

import typer

from voucherctl import output
from voucherctl.cli import validate
from voucherctl.env import Environment

HANDOUT_VIEW = [
    output.Column("Handed out", lambda r: r.get("success")),
    output.field("User", "userId"),
    output.field("Voucher group", "voucherGroupId"),
]


def handout(
    env: Environment,
    user: Annotated[str, typer.Option("--user", metavar="ID", help="SPiD user id.")],
    group: Annotated[
        str, typer.Option("--group", metavar="ID", help="Voucher group to hand out from.")
    ],
) -> None:
    """Give a user one voucher from a voucher group.

    SPiD answers only whether it worked, not which voucher code the user got. The handout is
    never resent once it may have reached the server: a timeout or a 5xx exits 7 (outcome
    unknown), so check with the user before trying again.
    """
    user_id = validate.numeric_id(user, "--user")
    group_id = validate.numeric_id(group, "--group")
    from voucherctl import connect

    result = connect.spid(env).handout(user_id, group_id)
    output.print_record(env, result, HANDOUT_VIEW, title="Voucher handed out")
