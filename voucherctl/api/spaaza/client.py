"""Spaaza API client: session headers, the result envelope, error mapping.

Success: ``{"result": {"code": 1, "status": "ok"}, "results": {...}, "warnings": [...]?}``.
Failure: HTTP 4xx/5xx with ``{"result": {"code": 2, ...}, "error": {"code", "name",
"description"}}``. This module returns ``results`` or raises a :class:`VoucherctlError` with the
exit code docs/contract.md#wire-facts-spaaza assigns; warnings go to a callback, because
API clients never print.
"""

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from voucherctl.api import shapes
from voucherctl.api.spaaza.fields import USER_FIELDS
from voucherctl.api.spaaza.login_answer import (
    LoginAnswer,
    Session,
    Unreadable,
    login_answer,
    session_answer,
)
from voucherctl.api.transport import failures as http_failures
from voucherctl.core import redact
from voucherctl.core.errors import (
    CredentialsMissingError,
    ExitCode,
    NotSentError,
    OutcomeUnknownError,
    UnexpectedAnswerError,
    UnreadableAnswerError,
    VoucherctlError,
    bad_answer,
    error_class_for,
    exit_code_for_status,
)
from voucherctl.secrets.sets import SPAAZA_RENEW_HINT, SpaazaCredentials

if TYPE_CHECKING:
    from voucherctl.api.transport.http import HttpClient, Response

SESSION_ERRORS = frozenset({"no_valid_session", "permission_denied_or_non_existent"})
CONFIGURATION_ERRORS = frozenset({"no_myprice_app"})  # the app hostname is wrong or missing
# What a login step that went out and got no usable answer may have done; it is not resent.
LOGIN_UNKNOWN = (
    "; the login may or may not have reached Spaaza, so other Spaaza sessions of this user (a "
    "till, say) may have ended; it was not sent again and nothing was stored: log in again"
)
PASSCODE_UNKNOWN = (
    "; the passcode may or may not have reached Spaaza (which takes a passcode once), so other "
    "Spaaza sessions of this user may have ended; it was not sent again and nothing was "
    "stored: log in again for a new passcode"
)
LOGIN_DONE = " (Spaaza took the login, so other Spaaza sessions of this user have ended)"
PASSCODE_DONE = " (Spaaza took the passcode, which serves once: log in again for a new one)"
# The lists of vouchers get-user-vouchers answers (docs/contract.md#wire-facts-spaaza).
VOUCHER_LISTS = ("basket_vouchers", "honour_vouchers", "var_price_vouchers")
# The published schema of what each change prints: Spaaza's results, a voucher.
CHANGE_SCHEMAS = {
    "/claim-voucher": "claim",
    "/unclaim-voucher": "unclaim",
    "/lock-voucher": "lock",
    "/unlock-voucher": "unlock",
    "/auth/redeem-voucher": "redeem",
}


class SpaazaClient:
    """The Spaaza calls voucherctl makes, authenticated by a session or a privileged token."""

    def __init__(
        self,
        http: "HttpClient",
        base_url: str,
        credentials: SpaazaCredentials | None,
        *,
        api_version: str,
        app_hostname: str | None = None,
        on_warning: Callable[[str], None] | None = None,
    ) -> None:
        self.http = http
        self.base_url = base_url
        self.credentials = credentials
        self.api_version = api_version
        self.app_hostname = app_hostname
        self._on_warning = on_warning

    def authenticate(self) -> None:
        """Fail now when there are no credentials (Spaaza has no call that only checks them)."""
        self._headers(authenticated=True)

    def check_session(self, chain_id: str | None) -> None:
        """Raise when Spaaza refuses the session or token, or cannot be reached.

        Spaaza has no call that only checks a session, so this reads the session user's
        vouchers: any answer but a session error means the session was accepted.
        """
        credentials = self.credentials
        probe = {"user_id": credentials.user_id} if credentials and credentials.user_id else {}
        if chain_id:
            probe["chain_id"] = chain_id
        try:
            self.user_vouchers(probe)
        except VoucherctlError as exc:
            if exc.exit_code in (ExitCode.AUTH, ExitCode.OUTCOME_UNKNOWN, ExitCode.ERROR):
                raise

    def claim(self, params: Mapping[str, str]) -> dict[str, Any]:
        """Claim a voucher offered to a user (``POST /claim-voucher``)."""
        return self._change("POST", "/claim-voucher", params, f"claim {describe(params)}")

    def unclaim(self, params: Mapping[str, str]) -> dict[str, Any]:
        """Undo a claim: the voucher is ``generated`` again (``POST /unclaim-voucher``)."""
        return self._change("POST", "/unclaim-voucher", params, f"unclaim {describe(params)}")

    def lock(self, params: Mapping[str, str]) -> dict[str, Any]:
        """Lock a voucher for a basket transaction (``PUT /lock-voucher``)."""
        return self._change("PUT", "/lock-voucher", params, f"lock {describe(params)}")

    def unlock(self, params: Mapping[str, str]) -> dict[str, Any]:
        """Drop a voucher's lock (``PUT /unlock-voucher``; admin or privileged auth only)."""
        return self._change("PUT", "/unlock-voucher", params, f"unlock {describe(params)}")

    def redeem(self, params: Mapping[str, str]) -> dict[str, Any]:
        """Redeem a claimed voucher, wholly or for ``amount`` (``POST /auth/redeem-voucher``;
        admin or privileged auth). A partial redemption leaves a ``regenerated_voucher``."""
        amount = f" for {params['amount']}" if params.get("amount") else ""
        what = f"redeem {describe(params)}{amount}"
        return self._change("POST", "/auth/redeem-voucher", params, what)

    def user_vouchers(self, params: Mapping[str, str]) -> Any:
        """A user's vouchers (``GET /get-user-vouchers``), ``results`` as returned."""
        what = f"list the vouchers of {describe_user(params)}"
        return self._call(
            "GET",
            "/get-user-vouchers",
            what,
            params=params,
            change=False,
            shape=_user_vouchers_problem,
        )

    def login(self, username: str, password: str) -> LoginAnswer:
        """``POST /auth/login``: a session, or under two-factor login the key of the passcode
        Spaaza emails (:func:`login_answer`). Sent once, never again by itself: a login ends the
        user's other sessions, emails a passcode and counts toward a lockout."""
        redact.register(password)
        data = {"username": username, "password": password}
        results = self._login_call("/auth/login", "log in to Spaaza", data, LOGIN_UNKNOWN)
        try:
            return login_answer(results)
        except Unreadable as exc:
            raise Unreadable(f"log in to Spaaza: {_unreadable_login(exc)}{LOGIN_DONE}") from None

    def confirm_passcode(self, passcode: str, passcode_key: str) -> Session:
        """``POST /auth/session``: trade the emailed two-factor passcode for a session. Sent
        once: a passcode serves once, so sent again it would be refused as wrong."""
        redact.register(passcode, passcode_key)
        data = {"session_passcode": passcode, "session_passcode_key": passcode_key}
        what = "confirm the Spaaza passcode"
        results = self._login_call("/auth/session", what, data, PASSCODE_UNKNOWN)
        try:
            return session_answer(results)
        except Unreadable as exc:
            raise Unreadable(f"{what}: {_unreadable_login(exc)}{PASSCODE_DONE}") from None

    def _login_call(self, path: str, what: str, data: Mapping[str, str], unknown: str) -> Any:
        """A login step, sent as a change is (never resent unless it certainly did not leave,
        or was refused for rate limiting); a refusal is exit 4, an unknown outcome says so."""
        try:
            with _refusal_is_auth():
                return self._call("POST", path, what, data=data, change=True, authenticated=False)
        except NotSentError:
            raise
        except VoucherctlError as exc:
            if exc.exit_code != ExitCode.OUTCOME_UNKNOWN:
                raise
            cause = exc.message.partition("; the change may or may not")[0]
            raise OutcomeUnknownError(
                cause + unknown, http_status=exc.http_status, api_error=exc.api_error
            ) from None

    def _change(
        self, method: str, path: str, params: Mapping[str, str], what: str
    ) -> dict[str, Any]:
        def voucher(results: Any) -> str | None:
            if not isinstance(results, dict):
                return "without a voucher"
            return shapes.problem(results, CHANGE_SCHEMAS[path], "voucher")

        results: dict[str, Any] = self._call(
            method, path, what, data=params, change=True, shape=voucher
        )
        return results

    def _call(
        self,
        method: str,
        path: str,
        what: str,
        *,
        change: bool,
        params: Mapping[str, str] | None = None,
        data: Mapping[str, str] | None = None,
        authenticated: bool = True,
        shape: Callable[[Any], str | None] | None = None,
    ) -> Any:
        """The answer's ``results``, once ``shape`` (what is wrong with them, or None) passed
        them: a read of the wrong shape is exit 1, a change exit 7 (``unexpected_answer``)."""
        response = self.http.request(
            method,
            self.base_url + path,
            what=what,
            change=change,
            params=params,
            data=data,
            headers=self._headers(authenticated, what),
            rate_limit=_rate_limit_wait,
        )
        body = _json_or_none(response)
        if not _is_envelope(body):
            raise _unreadable(response, what, change)
        assert isinstance(body, dict)
        if response.status >= 400 or body.get("error") or body["result"].get("code") != 1:
            raise _error(response, body, what, change)
        warnings = body.get("warnings") or []
        for warning in warnings if isinstance(warnings, list) else [warnings]:
            if self._on_warning:
                self._on_warning(f"{what}: Spaaza warns: {_warning_text(warning)}")
        wrong = shape(body.get("results")) if shape else None
        if wrong:
            message = f"{what}: Spaaza answered an unexpected shape ({wrong})"
            if change:
                message += "; the change may or may not have been made"
            raise bad_answer(
                UnexpectedAnswerError, message, change=change, http_status=response.status
            )
        return body.get("results")

    def _headers(self, authenticated: bool, what: str = "use Spaaza") -> dict[str, str]:
        headers = {"X-Spaaza-API-Version": self.api_version, "Accept": "application/json"}
        if authenticated:
            if self.credentials is None:
                raise CredentialsMissingError(f"no Spaaza credentials: {SPAAZA_RENEW_HINT}")
            credentials = self.credentials.headers()
            unsendable = http_failures.unsendable_header(credentials)
            if unsendable:  # refused here, before requests would: nothing is sent
                raise error_class_for(ExitCode.AUTH)(
                    f"{what}: the Spaaza credentials ({self.credentials.source}) cannot be "
                    f"sent: their {unsendable} header would hold a line break or another "
                    f"character no HTTP header carries; nothing was sent; {SPAAZA_RENEW_HINT}"
                )
            headers.update(credentials)
        if self.app_hostname:
            # Only with user or privileged auth: admins must leave the app hostname unset.
            headers["X-Spaaza-MyPrice-App-Hostname"] = self.app_hostname
        return headers


@contextmanager
def _refusal_is_auth() -> Iterator[None]:
    """A login or passcode Spaaza refuses (``bad_password``, ``user_not_found``, ...) is
    refused credentials, exit 4, whatever the error's name says otherwise."""
    try:
        yield
    except VoucherctlError as exc:
        if exc.exit_code in (ExitCode.REJECTED, ExitCode.NOT_FOUND):
            raise error_class_for(ExitCode.AUTH)(
                exc.message, http_status=exc.http_status, api_error=exc.api_error
            ) from None
        raise


def describe(params: Mapping[str, str]) -> str:
    """The voucher a request is about, in words: "voucher 35735", "voucher key 13918dc1..."."""
    if params.get("voucher_id"):
        return f"voucher {params['voucher_id']}"
    if params.get("voucher_key"):
        key = params["voucher_key"]
        return f"voucher key {key[:12]}..." if len(key) > 16 else f"voucher key {key}"
    if params.get("third_party_id"):
        return f"third-party voucher {params['third_party_id']}"
    return "voucher"


def describe_user(params: Mapping[str, str]) -> str:
    for name in USER_FIELDS:
        if params.get(name):
            return f"user {params[name]}" if name == "user_id" else f"{name} {params[name]}"
    return "the session's user"


def _rate_limit_wait(response: "Response") -> float | None:
    if response.status not in (420, 429):
        return None
    try:
        return max(float(response.headers.get("Retry-After", "1")), 1.0)
    except ValueError:
        return 1.0


def _error(response: "Response", body: dict[str, Any], what: str, change: bool) -> VoucherctlError:
    error = body["error"] if isinstance(body.get("error"), dict) else {}
    name = str(error.get("name") or "")
    text = str(error.get("description") or name or "no error text")
    code = _exit_code_for(name, response.status, change)
    message = f"{what}: HTTP {response.status}: {text}" + (f" ({name})" if name else "")
    if name == "no_valid_session":
        message += f"; the session may have expired: {SPAAZA_RENEW_HINT}"
    elif code == ExitCode.OUTCOME_UNKNOWN:
        message += "; the change may or may not have been made"
    return error_class_for(code)(message, http_status=response.status, api_error=name or None)


def _exit_code_for(name: str, status: int, change: bool) -> ExitCode:
    """The documented mapping: ``*_not_found`` 3, session errors 4, other voucher errors 5."""
    if name.endswith("_not_found"):
        return ExitCode.NOT_FOUND
    if name in SESSION_ERRORS or name in CONFIGURATION_ERRORS or "session" in name:
        return ExitCode.AUTH
    if name.startswith("voucher_"):
        return ExitCode.REJECTED
    if status < 400:
        return ExitCode.REJECTED
    return exit_code_for_status(status, change=change)


def _unreadable(response: "Response", what: str, change: bool) -> VoucherctlError:
    status = response.status
    if change and (status < 300 or status >= 500):
        return bad_answer(
            UnreadableAnswerError,
            f"{what}: Spaaza's answer was unreadable ({response.describe()}); the change may "
            "or may not have been made",
            change=True,
            http_status=status,
        )
    message = f"{what}: unreadable answer ({response.describe()})"
    if status < 400:
        return bad_answer(UnreadableAnswerError, message, change=change, http_status=status)
    code = exit_code_for_status(status, change=change)
    return error_class_for(code)(message, http_status=status)


def _user_vouchers_problem(results: Any) -> str | None:
    """What is wrong with a get-user-vouchers answer's ``results``: an object whose lists of
    vouchers (when there) are lists of vouchers of the published shape, or such a list."""
    if isinstance(results, list):
        return shapes.list_problem(results, "vouchers", "voucher", "results")
    if not isinstance(results, dict):
        return f"results is {shapes.describe(results)}, not object"
    for name in VOUCHER_LISTS:
        if name in results:
            wrong = shapes.list_problem(results[name], "vouchers", "voucher", name)
            if wrong:
                return wrong
    for voucher in vouchers_in(results):  # wherever else a voucher is, it has its shape too
        wrong = shapes.problem(voucher, "vouchers", "voucher")
        if wrong:
            return wrong
    return None


def _unreadable_login(exc: Unreadable) -> str:
    return f"Spaaza's answer is unreadable: {exc.message}; nothing was stored"


def _warning_text(warning: Any) -> str:
    if isinstance(warning, dict):
        return str(warning.get("description") or warning.get("message") or warning)
    return str(warning)


def _is_envelope(body: Any) -> bool:
    return isinstance(body, dict) and isinstance(body.get("result"), dict)


def _json_or_none(response: "Response") -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def same_voucher(voucher: Mapping[str, Any], request: Mapping[str, str]) -> bool:
    """True when ``voucher`` (as Spaaza lists it) is the one ``request`` names."""
    listed_as = {
        "voucher_key": "voucher_key",
        "voucher_id": "voucher_id",
        "third_party_id": "voucher_third_party_id",
    }
    return any(
        request.get(field) and str(voucher.get(listed)) == request[field]
        for field, listed in listed_as.items()
    )


def vouchers_in(results: Any) -> list[dict[str, Any]]:
    """The voucher objects inside a get-user-vouchers answer, wherever the API nests them."""
    if isinstance(results, dict):
        if "voucher_key" in results or "voucher_id" in results:
            return [results]
        results = list(results.values())
    if isinstance(results, list):
        return [voucher for item in results for voucher in vouchers_in(item)]
    return []
