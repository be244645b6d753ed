"""One strict stub per Spaaza call: exact method, URL, form body or query, and headers."""

from typing import Any

import responses
from responses import matchers

SPAAZA = "https://spaaza.test"
SESSION_USER = "1001"
SESSION_KEY = "canary-session-key-0001"
PRIVILEGED_TOKEN = "canary-privileged-token-0001"
API_VERSION = "1.6.3"


def use_admin_session(monkeypatch: Any, *, chain_id: str | None = "3") -> None:
    monkeypatch.setenv("VOUCHERCTL_SPAAZA_URL", SPAAZA)
    monkeypatch.setenv("VOUCHERCTL_SPAAZA_USER_ID", SESSION_USER)
    monkeypatch.setenv("VOUCHERCTL_SPAAZA_SESSION_KEY", SESSION_KEY)
    if chain_id:
        monkeypatch.setenv("VOUCHERCTL_SPAAZA_CHAIN_ID", chain_id)


def session_headers() -> dict[str, str]:
    return {
        "X-Spaaza-Session-User-Id": SESSION_USER,
        "X-Spaaza-Session-Key": SESSION_KEY,
        "X-Spaaza-API-Version": API_VERSION,
    }


def ok(results: Any, warnings: list[Any] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"result": {"code": 1, "status": "ok"}, "results": results}
    if warnings is not None:
        body["warnings"] = warnings
    return body


def error(code: int, name: str, description: str) -> dict[str, Any]:
    return {
        "result": {"code": 2, "status": "error"},
        "error": {"code": code, "name": name, "description": description},
    }


def _headers(headers: dict[str, str] | None, absent: tuple[str, ...]) -> list[Any]:
    expected = headers if headers is not None else session_headers()
    checks = [matchers.header_matcher(expected)]

    def none_of(request: Any) -> tuple[bool, str]:
        present = [name for name in absent if name in request.headers]
        return (not present, f"headers that must not be sent: {present}")

    return [*checks, none_of]


def change(
    rsps: responses.RequestsMock,
    method: str,
    path: str,
    form: dict[str, str],
    body: Any,
    *,
    status: int = 200,
    headers: dict[str, str] | None = None,
    absent: tuple[str, ...] = ("X-Spaaza-MyPrice-App-Hostname", "Authorization"),
) -> Any:
    """A claim, unclaim, lock or unlock call."""
    payload = body if isinstance(body, str | bytes) else None
    return rsps.add(
        method,
        f"{SPAAZA}{path}",
        json=None if payload is not None else body,
        body=payload,
        status=status,
        match=[matchers.urlencoded_params_matcher(form), *_headers(headers, absent)],
    )


def claim_voucher(rsps: responses.RequestsMock, form: dict[str, str], body: Any, **kw: Any) -> Any:
    return change(rsps, "POST", "/claim-voucher", form, body, **kw)


def unclaim_voucher(
    rsps: responses.RequestsMock, form: dict[str, str], body: Any, **kw: Any
) -> Any:
    return change(rsps, "POST", "/unclaim-voucher", form, body, **kw)


def lock_voucher(rsps: responses.RequestsMock, form: dict[str, str], body: Any, **kw: Any) -> Any:
    return change(rsps, "PUT", "/lock-voucher", form, body, **kw)


def unlock_voucher(rsps: responses.RequestsMock, form: dict[str, str], body: Any, **kw: Any) -> Any:
    return change(rsps, "PUT", "/unlock-voucher", form, body, **kw)


def get_user_vouchers(
    rsps: responses.RequestsMock,
    query: dict[str, str],
    body: Any,
    *,
    status: int = 200,
    headers: dict[str, str] | None = None,
    absent: tuple[str, ...] = ("Authorization",),
) -> Any:
    return rsps.get(
        f"{SPAAZA}/get-user-vouchers",
        json=body,
        status=status,
        match=[matchers.query_param_matcher(query), *_headers(headers, absent)],
    )


def token_headers(token: str = PRIVILEGED_TOKEN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "X-Spaaza-API-Version": API_VERSION}


def auth_login(rsps: responses.RequestsMock, username: str, password: str, info: Any) -> Any:
    return rsps.post(
        f"{SPAAZA}/auth/login",
        json=ok({"session_info": info}),
        match=[
            matchers.urlencoded_params_matcher({"username": username, "password": password}),
            matchers.header_matcher({"X-Spaaza-API-Version": API_VERSION}),
        ],
    )


def auth_session(rsps: responses.RequestsMock, passcode: str, passcode_key: str, info: Any) -> Any:
    return rsps.post(
        f"{SPAAZA}/auth/session",
        json=ok({"session_info": info}),
        match=[
            matchers.urlencoded_params_matcher(
                {"session_passcode": passcode, "session_passcode_key": passcode_key}
            ),
            matchers.header_matcher({"X-Spaaza-API-Version": API_VERSION}),
        ],
    )
