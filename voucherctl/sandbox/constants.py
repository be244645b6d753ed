"""The sandbox's fixed, obviously fake credentials and the ids of its seed data.

Everything here is public on purpose: the sandbox never holds a real secret, and a user or a test
needs these values to talk to it. SPiD ids are strings because SPiD sends numbers as strings;
Spaaza ids are integers because Spaaza sends them as JSON numbers.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

DEFAULT_PORT = 8765
"""The port `voucherctl sandbox serve` listens on, and where `--sandbox` looks first."""


@dataclass(frozen=True)
class SandboxCredentials:
    """Credentials the sandbox accepts and the ids of the records it seeds."""

    spid_client_id: str = "sandbox-spid-client"
    spid_client_secret: str = "sandbox-spid-secret"
    spid_voucher_code: str = "64-HB2I-OPBL"
    spid_voucher_id: str = "557916"
    spid_group_id: str = "47"
    spid_handout_group_id: str = "324673248"
    spid_user_id: str = "42"
    spid_empty_group_id: str = "48"
    spid_disabled_group_id: str = "49"
    spid_bulk_user_ids: tuple[int, int] = (100000, 109999)

    spaaza_admin_username: str = "admin@sandbox.test"
    spaaza_admin_password: str = "sandbox-admin-password"
    spaaza_admin_passcode: str = "123456"
    spaaza_session_user_id: int = 900001
    spaaza_session_key: str = "sandbox-admin-session-key"
    spaaza_privileged_token: str = "sandbox-privileged-token"
    spaaza_app_hostname: str = "sandbox.spaaza.test"
    spaaza_chain_id: int = 1000
    spaaza_user_id: int = 1107604
    spaaza_user_username: str = "user1107604@sandbox.test"
    spaaza_user_password: str = "sandbox-user-password"
    spaaza_voucher_key: str = "13918dc12e44bc183cb168fa10684d0714115ff37132d4c265f4a8ab6678a741"
    spaaza_voucher_id: int = 35735
    spaaza_voucher_third_party_id: int = 3914599659
    spaaza_lock_voucher_key: str = (
        "0df3e1934e277240bd44072f302c75165dab108b6705d48695b38101634274ab"
    )
    spaaza_lock_voucher_id: int = 44974
    spaaza_lock_voucher_user_id: int = 1
    spaaza_redeemed_voucher_id: int = 44975
    spaaza_redeemed_voucher_key: str = (
        "fce2192b7b6cf17e20cc8032ed00c542e009c0b8f9e7728f3a99dacca220f965"
    )
    spaaza_bulk_user_ids: tuple[int, int] = (100000, 109999)

    def as_dict(self) -> dict[str, object]:
        """All fields as a plain JSON-ready dict, for `voucherctl sandbox info`."""
        return {
            name: list(value) if isinstance(value, tuple) else value
            for name, value in dataclasses.asdict(self).items()
        }


SANDBOX = SandboxCredentials()
