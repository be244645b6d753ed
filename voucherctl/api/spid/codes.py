"""SPiD's calls on a voucher group's codes: generate new ones, take some out (batch handout).

Both are changes (docs/contract.md#wire-facts-spid). Generate answers only whether it worked. A
batch handout answers with the vouchers taken out, which SPiD marks handed out and never shows
again. Either refuses with a 404 whose text says why: a group not found is exit 3, anything
else (a shared group, the group's limit, too few vouchers left) a refusal, exit 5.
"""

from typing import Any
from urllib.parse import quote

from voucherctl.api.spid.client import SpidClient
from voucherctl.api.spid.errors import failure_text
from voucherctl.core.errors import NotSentError, OutcomeUnknownError, RejectedError

GENERATE_PATH = "/api/2/vouchers/generate/{}"
HANDOUT_PATH = "/api/2/vouchers/handout/{}"
# What a voucher taken out carries (SPiD's sample answer), in the order a CSV lists them.
CODE_FIELDS = ("voucherCode", "voucherId", "voucherGroupId", "type", "created")


def generate(client: SpidClient, group_id: str, amount: str) -> dict[str, Any]:
    """Make ``amount`` new unused vouchers in a group (``POST /api/2/vouchers/generate/{id}``)."""
    what = f"generate {amount} vouchers in voucher group {group_id}"
    path = GENERATE_PATH.format(quote(group_id, safe=""))
    data, response = client.post(path, {"amount": amount}, what=what)
    success = data.get("success") if isinstance(data, dict) else data
    if success is True:
        return {"success": True, "voucherGroupId": group_id, "amount": int(amount)}
    text = failure_text(response)
    if success is False or text:
        raise RejectedError(f"{what}: {text or 'SPiD generated none'}")
    raise OutcomeUnknownError(
        f"{what}: SPiD's answer does not say whether it worked ({response.describe()}); "
        "the vouchers may or may not have been generated"
    )


def take_codes(client: SpidClient, group_id: str, amount: str) -> list[dict[str, Any]]:
    """Take ``amount`` codes out of a group (``POST /api/2/vouchers/handout/{id}``).

    SPiD shows them this once: a caller keeps them before doing anything else with them.
    """
    what = f"take {amount} codes out of voucher group {group_id}"
    path = HANDOUT_PATH.format(quote(group_id, safe=""))
    try:
        data, response = client.post(path, {"amount": amount}, what=what)
    except NotSentError:
        raise  # nothing left this machine: no code was taken
    except OutcomeUnknownError as exc:
        raise OutcomeUnknownError(f"{exc.message}. {_reconcile(group_id, amount)}") from None
    vouchers = list(data.values()) if isinstance(data, dict) else data
    if not isinstance(vouchers, list) or not all(
        isinstance(voucher, dict) and voucher.get("voucherCode") for voucher in vouchers
    ):
        raise OutcomeUnknownError(
            f"{what}: SPiD's answer holds no list of vouchers ({response.describe()}). "
            + _reconcile(group_id, amount)
        )
    return vouchers


def _reconcile(group_id: str, amount: str) -> str:
    """What to tell support when codes may have been taken but never reached us."""
    return (
        f"Up to {amount} codes may have been taken out of voucher group {group_id}, and SPiD "
        "never shows taken codes again, so they cannot be asked for again: do not simply retry; "
        "give support the group, the amount and the time ('voucherctl audit --command codes') "
        "so they can reconcile the group"
    )
