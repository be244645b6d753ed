"""One strict stub per SPiD call: exact method, URL, form body and headers."""

import base64
from typing import Any

import responses
from responses import matchers

from tests.conftest import spid_container

SPID = "https://spid.test"
CLIENT_ID = "client-123"
CLIENT_SECRET = "canary-client-secret-0001"
TOKEN = "canary-access-token-0001"


def use_client_credentials(monkeypatch: Any) -> None:
    """Credentials from the environment, as cron and CI set them."""
    monkeypatch.setenv("VOUCHERCTL_SPID_URL", SPID)
    monkeypatch.setenv("VOUCHERCTL_SPID_CLIENT_ID", CLIENT_ID)
    monkeypatch.setenv("VOUCHERCTL_SPID_CLIENT_SECRET", CLIENT_SECRET)


def _bearer(token: str) -> Any:
    return matchers.header_matcher({"Authorization": f"Bearer {token}"})


def oauth_token(
    rsps: responses.RequestsMock,
    *,
    token: str = TOKEN,
    secret: str = CLIENT_SECRET,
    status: int = 200,
    body: Any = None,
) -> Any:
    basic = base64.b64encode(f"{CLIENT_ID}:{secret}".encode()).decode()
    answer = (
        body
        if body is not None
        else {
            "access_token": token,
            "expires_in": 604800,
            "scope": None,
            "user_id": False,
            "is_admin": False,
            "token_type": "Bearer",
            "server_time": 1700000000,
        }
    )
    return rsps.post(
        f"{SPID}/oauth/token",
        json=answer,
        status=status,
        match=[
            matchers.urlencoded_params_matcher({"grant_type": "client_credentials"}),
            matchers.header_matcher({"Authorization": f"Basic {basic}"}),
        ],
    )


def get_voucher(
    rsps: responses.RequestsMock,
    path_code: str,
    data: Any,
    *,
    status: int = 200,
    error: str | None = None,
    token: str = TOKEN,
    body: Any = None,
    content_type: str = "application/json",
) -> Any:
    if body is None:
        body = spid_container(data, code=status, error=error)
    payload = body if isinstance(body, str | bytes) else None
    return rsps.get(
        f"{SPID}/api/2/voucher/{path_code}",
        json=None if payload is not None else body,
        body=payload,
        status=status,
        content_type=content_type,
        match=[_bearer(token), matchers.query_param_matcher({})],
    )


def voucher_handout(
    rsps: responses.RequestsMock,
    user_id: str,
    group_id: str,
    *,
    success: bool = True,
    status: int = 200,
    error: str | None = None,
    token: str = TOKEN,
    body: Any = None,
) -> Any:
    if body is None:
        body = spid_container({"success": success}, code=status, error=error, obj="Success")
    payload = body if isinstance(body, str | bytes) else None
    return rsps.post(
        f"{SPID}/api/2/voucher_handout",
        json=None if payload is not None else body,
        body=payload,
        status=status,
        match=[
            _bearer(token),
            matchers.urlencoded_params_matcher({"userId": user_id, "voucherGroupId": group_id}),
        ],
    )


def voucher_groups(
    rsps: responses.RequestsMock,
    groups: Any,
    *,
    offset: int = 0,
    filters: dict[str, str] | None = None,
    status: int = 200,
    error: str | None = None,
    body: Any = None,
) -> Any:
    """One page of ``GET /api/2/vouchers/groups``: 1000 at most, from ``offset``."""
    if body is None:
        body = spid_container(
            groups, code=status, error=error, kind="collection", obj="VoucherGroup"
        )
    query = {**(filters or {}), "limit": "1000", "offset": str(offset)}
    return rsps.get(
        f"{SPID}/api/2/vouchers/groups",
        json=body,
        status=status,
        match=[_bearer(TOKEN), matchers.query_param_matcher(query)],
    )


def voucher_group(
    rsps: responses.RequestsMock,
    group_id: str,
    group: Any,
    *,
    status: int = 200,
    error: str | None = None,
) -> Any:
    return rsps.get(
        f"{SPID}/api/2/vouchers/group/{group_id}",
        json=spid_container(group, code=status, error=error, obj="VoucherGroup"),
        status=status,
        match=[_bearer(TOKEN)],
    )


def vouchers_generate(
    rsps: responses.RequestsMock,
    group_id: str,
    amount: str,
    *,
    status: int = 200,
    error: str | None = None,
    body: Any = None,
) -> Any:
    """``POST /api/2/vouchers/generate/{id}``: SPiD answers only a success flag."""
    if body is None:
        body = spid_container({"success": True} if not error else None, code=status, error=error)
    return rsps.post(
        f"{SPID}/api/2/vouchers/generate/{group_id}",
        json=body,
        status=status,
        match=[_bearer(TOKEN), matchers.urlencoded_params_matcher({"amount": amount})],
    )


def vouchers_handout(
    rsps: responses.RequestsMock,
    group_id: str,
    amount: str,
    vouchers: Any = None,
    *,
    status: int = 200,
    error: str | None = None,
    body: Any = None,
) -> Any:
    """``POST /api/2/vouchers/handout/{id}``: the vouchers taken out, codes included."""
    if body is None:
        body = spid_container(vouchers, code=status, error=error, kind="collection")
    payload = body if isinstance(body, str | bytes) else None
    return rsps.post(
        f"{SPID}/api/2/vouchers/handout/{group_id}",
        json=None if payload is not None else body,
        body=payload,
        status=status,
        match=[_bearer(TOKEN), matchers.urlencoded_params_matcher({"amount": amount})],
    )
