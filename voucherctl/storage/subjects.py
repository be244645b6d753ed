"""Who and what a change names (a user, a voucher, a voucher group), kept beside it so that
``audit --user/--voucher/--group`` finds it by index over millions of records."""

from collections.abc import Mapping
from typing import Any

from voucherctl.storage.engines import Transaction

USER_KEYS = (
    "userId",
    "user_id",
    "member_number",
    "username",
    "authentication_point_identifier",
    "auxiliary_identifier",
)
VOUCHER_KEYS = ("voucher_key", "voucher_id", "third_party_id", "voucherCode", "voucherId")
GROUP_KEYS = ("voucherGroupId", "group")
_SUBJECTS = (("user", USER_KEYS), ("voucher", VOUCHER_KEYS), ("group", GROUP_KEYS))


def add_subjects(tx: Transaction, change: int, identifiers: Mapping[str, Any]) -> None:
    """Who and what ``identifiers`` name, for audit's filters."""
    for kind, keys in _SUBJECTS:
        for key in keys:
            value = identifiers.get(key)
            if value not in (None, ""):
                tx.run(
                    "INSERT INTO subjects (change_id, kind, value) VALUES (?, ?, ?)",
                    (change, kind, str(value)),
                )
