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
