"""SPiD (Schibsted account API v2) client: server token, SPP containers, error mapping.

Every API answer is an "SPP Container" whose ``data`` is the payload (signed, where SPiD signs:
see spid_answers) and whose ``error`` explains a failure; OAuth answers are flat. This module
turns both into Python values or :class:`VoucherctlError` with the exit code
docs/contract.md#exit-codes assigns, and never prints. Every call is paced by the quota the
containers report (docs/contract.md#wire-facts-spid).
"""

import base64
import re
import threading
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeGuard
from urllib.parse import quote

from voucherctl.api import shapes
from voucherctl.api.spid.answers import UNVERIFIED, BadSignature, open_data, quota_report
from voucherctl.api.spid.errors import (
    CLIENT_404_TEXTS,
    error_for,
    error_name,
    failure_text,
    json_or_none,
)
from voucherctl.api.transport.pacing import QuotaReport
from voucherctl.core import redact
from voucherctl.core.errors import (
    AuthError,
    OutcomeUnknownError,
    RejectedError,
    ServerError,
    SignatureInvalidError,
    UnexpectedAnswerError,
    bad_answer,
)
from voucherctl.secrets.sets import CachedToken, SpidCredentials

if TYPE_CHECKING:
    from voucherctl.api.transport.http import HttpClient, Response

RATE_LIMITED = 420
DEFAULT_TOKEN_LIFETIME = 900.0  # SPiD's server tokens are JWTs that live 15 minutes
PAGE_LIMIT = 1000  # SPiD's largest page
MAX_PAGES = 1000  # a million groups; past that, a server that never ends its pages

SPID_ZONE = "no zone given"  # SPiD's times ("2014-08-06 11:47:25") do not say their zone
STATUS_NAMES = {"-1": "expired", "0": "unused", "1": "handed out", "2": "redeemed"}
TYPE_NAMES = {"3": "giveaway", "5": "campaign", "6": "free with order", "8": "payment method"}

# How an answer was vouched for, beside answers.VERIFIED, UNVERIFIED and UNSIGNED: its
# signature did not match the sign secret (the data was not used).
SIGNATURE_FAILED = "failed"


class SpidClient:
    """Calls of the SPiD API v2 that voucherctl uses, with the server token handled inside."""

    def __init__(self, http: "HttpClient", base_url: str, credentials: SpidCredentials) -> None:
        self.http = http
        self.base_url = base_url
        self.credentials = credentials
        self._token_lock = threading.Lock()  # bulk workers share one token
        # How the answers' data was vouched for: spid_answers.VERIFIED, UNVERIFIED, UNSIGNED.
        self.signatures_seen: set[str] = set()  # and SIGNATURE_FAILED when one failed

    # -- voucher calls ---------------------------------------------------------------------

    def voucher(self, code: str) -> dict[str, Any]:
        """The voucher with this code (``GET /api/2/voucher/{code}``)."""
        path = f"/api/2/voucher/{quote(code, safe='')}"
        what = f"show voucher {code}"
        data, response = self._call_with_response("GET", path, what=what, change=False)
        return _as_object(data, what, ("show", "voucher"), response.status)

    def handout(self, user_id: str, group_id: str) -> dict[str, Any]:
        """Give a user a voucher from a group (``POST /api/2/voucher_handout``).

        The API answers only whether it worked, never which voucher the user got.
        """
        what = f"handout from voucher group {group_id} to user {user_id}"
        form = {"userId": user_id, "voucherGroupId": group_id}
        data, response = self._call_with_response(
            "POST", "/api/2/voucher_handout", what=what, change=True, data=form
        )
        success = data.get("success") if isinstance(data, dict) else None
        if success is True:
            return {"success": True, "userId": user_id, "voucherGroupId": group_id}
        text = failure_text(response)
        if success is False or text:
            raise RejectedError(f"{what}: {text or 'no voucher given'}")
        # Neither yes nor no, nor why: whether the user got a voucher is unknown.
        raise OutcomeUnknownError(
            f"{what}: SPiD's answer does not say whether it worked ({response.describe()}); "
            "the change may or may not have been made"
        )

    def groups(
        self, filters: Mapping[str, str] | None = None, *, pages: int = MAX_PAGES
    ) -> list[dict[str, Any]]:
        """Every voucher group of the client that matches ``filters`` (SPiD's: ``title``,
        ``type``, ``campaignId``, ``productId``, each matched exactly), page after page
        (``GET /api/2/vouchers/groups``); ``pages`` (1: a check that the groups can be read)
        stops short of the end."""
        what = "list voucher groups"
        found: list[dict[str, Any]] = []
        previous: list[dict[str, Any]] | None = None
        for _ in range(pages):
            params = {**(filters or {}), "limit": str(PAGE_LIMIT), "offset": str(len(found))}
            response = self._exchange("GET", "/api/2/vouchers/groups", what, False, params=params)
            if _nothing_found(response):
                return found  # on the first page: nothing matches; on a later one: the end
            page = _collection(self._unwrap(response, what, False), what, response.status)
            if page and page == previous:
                raise ServerError(
                    f"{what}: SPiD answered offset {len(found)} with the page before it again; "
                    "stopping rather than listing the same groups forever"
                )
            found += page
            if len(page) < PAGE_LIMIT:
                return found
            previous = page
        if pages < MAX_PAGES:
            return found
        raise ServerError(f"{what}: SPiD's pages did not end after {len(found)} groups")

    def group(self, group_id: str) -> dict[str, Any]:
        """One voucher group (``GET /api/2/vouchers/group/{id}``)."""
        path = f"/api/2/vouchers/group/{quote(group_id, safe='')}"
        what = f"show voucher group {group_id}"
        data, response = self._call_with_response("GET", path, what=what, change=False)
        return _as_object(data, what, ("group", "group"), response.status)

    def post(self, path: str, form: dict[str, str], *, what: str) -> tuple[Any, "Response"]:
        """A change sent as a form (spid_codes): its data and the answer. A 404 whose text does
        not say "not found" is a refusal, exit 5, as for a voucher group's limit."""
        return self._call_with_response(
            "POST", path, what=what, change=True, data=form, refuse=True
        )

    def authenticate(self) -> None:
        """Get a token now, so that refused credentials show before a bulk run starts."""
        self._token()

    # -- token -----------------------------------------------------------------------------

    def fetch_token(self) -> CachedToken:
        """A new server token from ``POST /oauth/token`` with the client credentials."""
        creds = self.credentials
        if not (creds.client_id and creds.client_secret):
            raise AuthError("the SPiD token was rejected and no client credentials can renew it")
        # Sent as HTTP Basic: a server that quotes the header back must not reveal the secret.
        basic = f"{creds.client_id}:{creds.client_secret}".encode("latin-1", "replace")
        redact.register(base64.b64encode(basic).decode())
        response = self.http.request(
            "POST",
            f"{self.base_url}/oauth/token",
            what="fetch a SPiD server token",
            change=False,
            data={"grant_type": "client_credentials"},
            auth=(creds.client_id, creds.client_secret),
            rate_limit=_rate_limit_wait,
        )
        body = json_or_none(response)
        token = body.get("access_token") if isinstance(body, dict) else None
        if response.status == 200 and _usable_token(token):
            redact.register(token)
            try:
                lifetime = float(body.get("expires_in", DEFAULT_TOKEN_LIFETIME))
            except (TypeError, ValueError):
                lifetime = DEFAULT_TOKEN_LIFETIME
            if not lifetime > 0:  # NaN, zero or negative: not a lifetime any token has
                lifetime = DEFAULT_TOKEN_LIFETIME
            return CachedToken(token, time.time() + lifetime, lifetime)
        text = failure_text(response) or response.describe()
        if response.status in (400, 401, 403):
            raise AuthError(
                f"SPiD refused the client credentials of {creds.client_id} "
                f"(HTTP {response.status}: {text})",
                http_status=response.status,
                api_error=error_name(response),
            )
        raise error_for(response, "fetch a SPiD server token", change=False)

    def _token(self) -> tuple[str, bool]:
        """A token to send, and whether it came from the cache (it may then be stale)."""
        creds = self.credentials
        if creds.access_token:
            return creds.access_token, False
        assert creds.cache is not None
        with self._token_lock:
            cached = creds.cache.load()
            if cached and cached.fresh:
                return cached.access_token, True
            token = self.fetch_token()
            creds.cache.store(token)
            return token.access_token, False

    def _renew(self, rejected: str) -> str:
        """A new token in place of ``rejected``, unless another worker renewed it already."""
        assert self.credentials.cache is not None
        with self._token_lock:
            cached = self.credentials.cache.load()
            if cached and cached.fresh and cached.access_token != rejected:
                return cached.access_token
            self.credentials.cache.clear()
            token = self.fetch_token()
            self.credentials.cache.store(token)
            return token.access_token

    # -- plumbing --------------------------------------------------------------------------

    def _call(
        self, method: str, path: str, *, what: str, change: bool = False, **kwargs: Any
    ) -> Any:
        return self._call_with_response(method, path, what=what, change=change, **kwargs)[0]

    def _call_with_response(
        self,
        method: str,
        path: str,
        *,
        what: str,
        change: bool,
        data: dict[str, str] | None = None,
        refuse: bool = False,
    ) -> tuple[Any, "Response"]:
        response = self._exchange(method, path, what, change, data=data)
        return self._unwrap(response, what, change, refuse), response

    def _exchange(
        self,
        method: str,
        path: str,
        what: str,
        change: bool,
        *,
        data: dict[str, str] | None = None,
        params: dict[str, str] | None = None,
    ) -> "Response":
        """The answer to a call, sent with the server token as it is when the call goes out."""
        sent: list[tuple[str, bool]] = []  # the token of each attempt, and if it was cached

        def authorization() -> dict[str, str]:
            token, from_cache = self._token()
            sent.append((token, from_cache))
            return {"Authorization": f"Bearer {token}"}

        response = self._request(method, path, what, change, data, params, authorization)
        token, from_cache = sent[-1]
        if response.status in (401, 403) and from_cache:
            # A cached token the server no longer takes: renew it once. The server refused
            # the request, so resending it (a handout too) cannot make a second change.
            self._renew(token)
            response = self._request(method, path, what, change, data, params, authorization)
        return response

    def _request(
        self,
        method: str,
        path: str,
        what: str,
        change: bool,
        data: dict[str, str] | None,
        params: dict[str, str] | None,
        authorization: Callable[[], dict[str, str]],
    ) -> "Response":
        return self.http.request(
            method,
            self.base_url + path,
            what=what,
            change=change,
            data=data,
            params=params,
            headers={"Accept": "application/json"},
            auth_headers=authorization,
            rate_limit=_rate_limit_wait,
            quota=_quota,
        )

    def _unwrap(self, response: "Response", what: str, change: bool, refuse: bool = False) -> Any:
        """The container's ``data``, decoded and verified, or the error it reports."""
        body = json_or_none(response)
        if not _is_container(body):
            raise error_for(response, what, change, refuse)
        assert isinstance(body, dict)
        if response.status >= 400 or _int(body.get("code"), 200) >= 400:
            raise error_for(response, what, change, refuse)
        try:
            data, signature = open_data(body, self.credentials.sign_secret)
        except BadSignature as bad:
            self.signatures_seen.add(SIGNATURE_FAILED)
            message = (
                f"{what}: SPiD's answer failed its signature check ({bad}), so its data is not "
                "trusted; check the sign secret (VOUCHERCTL_SPID_SIGN_SECRET)"
            )
            if change:
                message += "; the change may or may not have been made"
            raise bad_answer(SignatureInvalidError, message, change=change) from None
        if signature == UNVERIFIED and UNVERIFIED not in self.signatures_seen:
            self.http.note(
                "SPiD's answers are signed, but nothing is verified: no sign secret is known "
                "(VOUCHERCTL_SPID_SIGN_SECRET, or 'voucherctl auth login spid --sign-secret')"
            )
        self.signatures_seen.add(signature)
        return data


def _rate_limit_wait(response: "Response") -> float | None:
    """Seconds until SPiD's quota resets (``request.reset``, at least 1) for a 420 answer."""
    if response.status != RATE_LIMITED:
        return None
    body = json_or_none(response)
    try:
        reset = float(body["request"]["reset"])
    except (TypeError, KeyError, ValueError):
        reset = 1.0
    return max(reset, 1.0)


def _quota(response: "Response") -> QuotaReport | None:
    """The quota a SPiD answer reports (every container does)."""
    return quota_report(json_or_none(response))


def _nothing_found(response: "Response") -> bool:
    """SPiD's 404 for a search that finds nothing (a container, and not about the client)."""
    if response.status != 404 or not _is_container(json_or_none(response)):
        return False
    return not any(text in failure_text(response).lower() for text in CLIENT_404_TEXTS)


def _collection(data: Any, what: str, status: int) -> list[dict[str, Any]]:
    """A collection's items: SPiD sends them as a list, or as an object keyed by id."""
    if data is None:
        return []
    items = list(data.values()) if isinstance(data, dict) else data
    if not isinstance(items, list):
        message = f"{what}: SPiD answered an unexpected shape (no list)"
        raise UnexpectedAnswerError(message, http_status=status)
    return [_as_object(item, what, ("groups", "group"), status) for item in items]


def _usable_token(token: Any) -> TypeGuard[str]:
    """A token that can go in a header as it is: visible ASCII, no spaces or line breaks."""
    return isinstance(token, str) and re.fullmatch(r"[\x21-\x7e]+", token) is not None


def _is_container(body: Any) -> bool:
    return isinstance(body, dict) and "code" in body and ("data" in body or "error" in body)


def _as_object(data: Any, what: str, shape: tuple[str, str], status: int) -> dict[str, Any]:
    """``data`` when it has the shape ``shape`` (a published schema and its definition) gives
    it, else exit 1: a read whose answer voucherctl cannot print as its schema says."""
    wrong = shapes.problem(data, *shape)
    if wrong or not isinstance(data, dict):
        message = f"{what}: SPiD answered an unexpected shape ({wrong or 'not an object'})"
        raise UnexpectedAnswerError(message, http_status=status)
    return data


def _int(value: Any, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default
