"""The names Spaaza gives a voucher's and a user's identifiers, as requests send them
(docs/contract.md#voucher-and-user-options). Kept apart from the client, so that checking
parameters (changes/params.py) does not load it."""

VOUCHER_FIELDS = ("voucher_key", "voucher_id", "third_party_id")
USER_FIELDS = (
    "user_id",
    "member_number",
    "username",
    "authentication_point_identifier",
    "auxiliary_identifier",
)


def voucher_named(result: object) -> dict[str, str]:
    """The voucher a change's answer names, by key and id both (the request may have named it
    by one): recorded with the change, so that audit finds it either way."""
    if not isinstance(result, dict):
        return {}
    return {name: str(result[name]) for name in ("voucher_key", "voucher_id") if result.get(name)}
