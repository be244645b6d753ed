"""Spaaza's error envelope and every error the sandbox answers with.

name                                       HTTP  code  when
no_valid_session                            401     6  no, unknown or expired session / token
permission_denied_or_non_existent           403    68  chain not the caller's; unlock or redeem
                                                       with user auth; user auth naming another
                                                       user
voucher_not_found                           404   183  no such voucher in the chain, or not the
                                                       named user's
no_myprice_app                              403   269  user or privileged auth without a known
                                                       X-Spaaza-MyPrice-App-Hostname
api_version_required                        400   901  no X-Spaaza-API-Version header
app_hostname_not_allowed_with_admin_auth    400   902  X-Spaaza-MyPrice-App-Hostname with admin auth
missing_parameter                           400   903  a required parameter is absent or empty
conflicting_parameters                      400   904  more than one voucher or user identifier
invalid_parameter                           400   905  a number that is not one
chain_id_required                           400   906  admin auth without chain_id; redeem without
                                                       chain_id
invalid_lock_period                         400   907  voucher_lock_period not an integer 120..3600
user_not_found                              404   908  no such user in the chain
voucher_already_claimed                     409   909  claim of a claimed voucher
voucher_not_claimed                         409   910  unclaim or redeem of a voucher that is not
                                                       claimed
voucher_already_redeemed                    409   911  claim, unclaim, lock or redeem of a
                                                       redeemed voucher
voucher_locked                              409   912  lock under another locking code; unclaim of
                                                       a locked voucher
invalid_login                               401   913  unknown username or wrong password
invalid_session_passcode                    401   914  wrong passcode, or unknown or expired
                                                       session_passcode_key
rate_limited                                429   915  over the sandbox's rate_limit
unknown_endpoint                            404   916  no such path
method_not_allowed                          405   917  path known, method not
bad_request                                 4xx   918  unreadable request (400, 411, 413, 431)
internal_error                              500   919  injected failure (fail_rate)
service_unavailable                         503   920  injected failure (fail_rate)
invalid_amount                              400   921  redeem amount not a positive number of at
                                                       most two decimals
redeem_amount_exceeds_voucher_amount        409   922  redeem amount over the voucher_amount

Codes 901 and up are the sandbox's own: Spaaza documents only the first four.
"""

from __future__ import annotations

from voucherctl.sandbox.wire import Reply

ERRORS: dict[str, tuple[int, int]] = {
    "no_valid_session": (401, 6),
    "permission_denied_or_non_existent": (403, 68),
    "voucher_not_found": (404, 183),
    "no_myprice_app": (403, 269),
    "api_version_required": (400, 901),
    "app_hostname_not_allowed_with_admin_auth": (400, 902),
    "missing_parameter": (400, 903),
    "conflicting_parameters": (400, 904),
    "invalid_parameter": (400, 905),
    "chain_id_required": (400, 906),
    "invalid_lock_period": (400, 907),
    "user_not_found": (404, 908),
    "voucher_already_claimed": (409, 909),
    "voucher_not_claimed": (409, 910),
    "voucher_already_redeemed": (409, 911),
    "voucher_locked": (409, 912),
    "invalid_login": (401, 913),
    "invalid_session_passcode": (401, 914),
    "rate_limited": (429, 915),
    "unknown_endpoint": (404, 916),
    "method_not_allowed": (405, 917),
    "bad_request": (400, 918),
    "internal_error": (500, 919),
    "service_unavailable": (503, 920),
    "invalid_amount": (400, 921),
    "redeem_amount_exceeds_voucher_amount": (409, 922),
}


class SpaazaError(Exception):
    """Raised anywhere below a Spaaza handler; answered as the error envelope."""

    def __init__(self, name: str, description: str) -> None:
        super().__init__(description)
        self.name = name
        self.description = description

    def reply(self) -> Reply:
        """The error envelope with the error's HTTP status."""
        return error_reply(self.name, self.description)


def error_reply(
    name: str,
    description: str,
    status: int | None = None,
    headers: tuple[tuple[str, str], ...] = (),
) -> Reply:
    """Spaaza's error envelope; status defaults to the error's own."""
    default_status, code = ERRORS[name]
    return Reply(
        status or default_status,
        {
            "result": {"code": 2, "status": "error"},
            "error": {"code": code, "name": name, "description": description},
        },
        headers,
    )


def ok_reply(results: dict[str, object]) -> Reply:
    """Spaaza's success envelope."""
    return Reply(200, {"result": {"code": 1, "status": "ok"}, "results": results})
