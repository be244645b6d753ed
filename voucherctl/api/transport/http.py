"""HTTP done once: one requests.Session per client, timeouts, retries, no redirects, a redacted log.

API clients (``spid``, ``spaaza``) describe each call (``change=True`` for anything that alters
state) and get back a :class:`Response` with the whole body read; everything about the wire's
failure modes is decided here:

- every request waits its turn with the client's :class:`Pacer`, which follows the quota the
  answers report (``quota``) and holds everyone back while the server rate limits;
- reads are retried on 5xx and connection errors, with backoff;
- a change is resent only when it certainly never left this machine (the connection could not
  be opened) or the server refused it for rate limiting; otherwise its outcome is unknown (exit 7);
- redirects are never followed, so credentials never go to another host;
- ``timeout`` bounds the whole exchange (a watchdog shuts the socket down at the deadline, so a
  server dripping its headers or body byte by byte cannot outlast it), and the body is capped.
"""

import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests
import urllib3
import urllib3.connection
from requests.structures import CaseInsensitiveDict

from voucherctl import __version__
from voucherctl.api.transport import failures as http_failures
from voucherctl.api.transport import pacing
from voucherctl.api.transport.pacing import Pacer, QuotaExhausted, QuotaReport, Turn
from voucherctl.api.transport.watchdog import WATCHDOG, WatchedAdapter
from voucherctl.core import redact
from voucherctl.core.errors import (
    ConnectionLostError,
    NotSentError,
    QuotaSpentError,
    RateLimitedError,
    RedirectRefusedError,
    TimedOutError,
    UnreadableAnswerError,
    bad_answer,
)

USER_AGENT = f"voucherctl/{__version__}"
MAX_BODY_BYTES = 16 * 1024 * 1024
READ_ATTEMPTS = 3  # a read is tried at most this often on 5xx or connection errors
RATE_LIMIT_RETRIES = 3
LOG_BODY_CHARS = 4000


RateLimitPolicy = Callable[["Response"], float | None]
"""Given a refused answer, seconds to wait before resending it, or None if not rate limited."""
QuotaReader = Callable[["Response"], QuotaReport | None]
"""What an answer says of the API's quota, or None when it says nothing."""


@dataclass
class Response:
    """A whole HTTP answer."""

    status: int
    body: bytes
    url: str
    headers: Mapping[str, str] = field(default_factory=CaseInsensitiveDict)

    @property
    def content_type(self) -> str:
        return self.headers.get("Content-Type", "")

    def json(self) -> Any:
        """The body parsed as JSON; ``ValueError`` when it is not."""
        import json

        try:
            return json.loads(self.body)
        except RecursionError:  # "[[[[..." nested deeper than the parser goes: not an answer
            raise ValueError("JSON nested too deep") from None

    def describe(self) -> str:
        """A short description of an answer that could not be read, for error messages."""
        kind = self.content_type.split(";")[0] or "no content type"
        return f"HTTP {self.status}, {kind}, {len(self.body)} bytes"


class HttpClient:
    """Sends requests for one command; safe to share between threads of a bulk run.

    Each thread gets its own keep-alive session; ``pacer`` (shared by the workers of a bulk
    run; a client of its own otherwise) makes all threads follow the quota and wait together
    when the server rate limits.
    """

    def __init__(
        self,
        *,
        timeout: float,
        max_wait: float,
        log: Callable[[str], None] | None = None,
        pacer: Pacer | None = None,
    ) -> None:
        # --timeout takes any positive number; sockets and timers wait at most TIMEOUT_MAX.
        self.timeout = min(timeout, threading.TIMEOUT_MAX)
        self.max_wait = max_wait
        self.pacer = pacer if pacer is not None else Pacer()
        self.last_server_date: str | None = None  # the Date header of the latest answer
        self._log = log
        self._local = threading.local()
        self._sessions: list[requests.Session] = []
        self._sessions_lock = threading.Lock()

    @property
    def _session(self) -> requests.Session:
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            session.headers["User-Agent"] = USER_AGENT
            session.trust_env = False  # no proxy or netrc credentials picked up by surprise
            session.mount("http://", WatchedAdapter())
            session.mount("https://", WatchedAdapter())
            self._local.session = session
            with self._sessions_lock:
                self._sessions.append(session)
        return session

    def close(self) -> None:
        with self._sessions_lock:
            for session in self._sessions:
                session.close()
            self._sessions.clear()

    def request(
        self,
        method: str,
        url: str,
        *,
        what: str,
        change: bool,
        params: Mapping[str, str] | None = None,
        data: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        rate_limit: RateLimitPolicy | None = None,
        quota: QuotaReader | None = None,
        auth_headers: Callable[[], Mapping[str, str]] | None = None,
    ) -> Response:
        """Send a request and return the whole answer, whatever its status.

        ``what`` names the action in the user's words ("show voucher X") for error messages.
        ``quota``: the API's quota counts this request, and its answers say how much is left.
        ``auth_headers`` are made just before each attempt, after any wait for the quota, so
        that a token renewed meanwhile goes out. Raises only :class:`VoucherctlError`
        subclasses; :class:`QuotaSpentError` when the quota is spent for longer than
        ``max_wait`` (then the request was not carried out).
        """
        host = urlsplit(url).netloc
        outgoing = requests.Request(
            method, url, params=params, data=data, headers=dict(headers or {}), auth=auth
        )
        attempt = rate_limited = 0
        waited = 0.0  # monotonic time this request has already waited until
        while True:
            attempt += 1
            response = self._paced_attempt(
                outgoing, what, change, attempt, waited, quota, auth_headers
            )
            if response is None:
                continue  # nothing usable came back, and trying again is safe: it was retried
            if 300 <= response.status < 400:
                location = http_failures.without_query(response.headers.get("Location", "?"))
                raise RedirectRefusedError(
                    f"{what}: {host} answered HTTP {response.status}, a redirect to {location}; "
                    "voucherctl never follows redirects, check the base URL",
                    http_status=response.status,
                )
            wait = rate_limit(response) if rate_limit else None
            if wait is not None:
                rate_limited += 1
                waited = self._wait_out_rate_limit(what, host, response.status, wait, rate_limited)
                continue
            if response.status >= 500 and not change and attempt < READ_ATTEMPTS:
                self._backoff(attempt, f"{host} answered HTTP {response.status}")
                continue
            return response

    def _paced_attempt(
        self,
        outgoing: requests.Request,
        what: str,
        change: bool,
        attempt: int,
        waited: float,
        quota: QuotaReader | None,
        auth_headers: Callable[[], Mapping[str, str]] | None,
    ) -> "Response | None":
        """One attempt, in its turn; what the answer says of the quota goes to the pacer."""
        host = urlsplit(outgoing.url).netloc
        turn = self._turn(what, host, counted=quota is not None, waited=waited)
        report = None
        try:
            if auth_headers:
                outgoing.headers.update(auth_headers())
            response = self._attempt(outgoing, what, change, attempt)
            if response is not None and quota is not None:
                report = quota(response)
        finally:
            self.pacer.finished(turn, report)
        return response

    def _turn(self, what: str, host: str, *, counted: bool, waited: float) -> Turn:
        """This request's turn to be sent; exit 6 when the quota is spent beyond --max-wait."""
        try:
            return self.pacer.wait_turn(counted=counted, max_wait=self.max_wait, waited=waited)
        except QuotaExhausted as spent:
            allowance = f"its quota of {spent.limit} requests" if spent.limit else "its quota"
            raise QuotaSpentError(
                f"{what}: rate limited by {host}: {allowance} is spent and "
                f"{_resets(spent.seconds).removeprefix('the quota ')}, later than --max-wait "
                f"({self.max_wait:g} s) allows; not sent",
                resets_at=time.time() + spent.seconds,
                sent=False,
            ) from None

    def _attempt(
        self, outgoing: requests.Request, what: str, change: bool, attempt: int
    ) -> "Response | None":
        """One exchange; None when it failed in a way that was safe to retry (after a pause)."""
        host = urlsplit(outgoing.url).netloc
        http_failures.check_headers(outgoing.headers, what)  # exit 2, never "outcome unknown"
        try:
            return self._exchange_once(outgoing)
        except _AnswerTooLarge:
            message = (
                f"{what}: the answer from {host} is larger than {_size(MAX_BODY_BYTES)}; "
                "refusing to read it"
            )
            if change:
                message += "; the change may or may not have been made"
            raise bad_answer(UnreadableAnswerError, message, change=change) from None
        except requests.RequestException as exc:
            reason = http_failures.reason(exc)
            never_sent = http_failures.never_sent(exc)
            if (never_sent or not change) and attempt < READ_ATTEMPTS:
                self._backoff(attempt, f"{host}: {reason}")
                return None
            lost = TimedOutError if isinstance(exc, requests.Timeout) else ConnectionLostError
            if change and not never_sent:
                raise lost(
                    f"{what}: {reason} talking to {host}; the change may or may not have "
                    "been made, check before trying again"
                ) from None
            message = f"{what}: cannot reach {host}: {reason}"
            if never_sent:  # nothing left this machine: a change was certainly not made
                raise NotSentError(message + ("; nothing was sent" if change else "")) from None
            raise lost(message) from None

    def _wait_out_rate_limit(
        self, what: str, host: str, status: int, wait: float, times: int
    ) -> float:
        """Wait until the server takes requests again, or give up (exit 6); the monotonic
        time waited until."""
        # "not <=": a reset a server gave as NaN or infinity means giving up too.
        if not wait <= self.max_wait:
            raise QuotaSpentError(
                f"{what}: rate limited by {host} (HTTP {status}); {_resets(wait)}, later than "
                f"--max-wait ({self.max_wait:g} s) allows",
                resets_at=time.time() + wait,
                sent=True,
                http_status=status,
            )
        if times > RATE_LIMIT_RETRIES:
            raise RateLimitedError(
                f"{what}: rate limited by {host} (HTTP {status}); {_resets(wait)}",
                http_status=status,
            )
        self._note(f"rate limited by {host}; waiting {wait:.0f} s before resending")
        until = self.pacer.hold_all(wait)  # everyone waits, this one here
        pacing.pause(wait)
        return until

    def _exchange_once(self, outgoing: requests.Request) -> Response:
        request = self._session.prepare_request(outgoing)
        if self._log:
            self._log_request(request)
        started = time.monotonic()
        raw, body = self._exchange(request, deadline=started + self.timeout)
        response = Response(raw.status_code, body, outgoing.url, raw.headers)
        self.last_server_date = raw.headers.get("Date")
        if self._log:
            self._log_response(response, time.monotonic() - started)
        return response

    def _exchange(
        self, request: requests.PreparedRequest, *, deadline: float
    ) -> tuple[requests.Response, bytes]:
        """Send ``request`` and read its whole answer, all of it before ``deadline``."""
        with WATCHDOG.watch(deadline - time.monotonic()) as watchdog:
            try:
                raw = self._session.send(
                    request,
                    timeout=(self.timeout, self.timeout),
                    allow_redirects=False,
                    stream=True,
                )
                try:
                    body = _read_body(raw, deadline)
                finally:
                    raw.close()
            except requests.RequestException as exc:
                if watchdog.expired:
                    raise http_failures.timed_out(exc) from None
                raise
            if watchdog.expired:  # a body that ends with the connection looked complete
                raise requests.exceptions.ReadTimeout("the exchange outlasted the timeout")
        return raw, body

    def _backoff(self, attempt: int, why: str) -> None:
        delay = min(0.5 * 2 ** (attempt - 1), 4.0) * random.uniform(0.8, 1.2)
        self._note(f"{why}; retrying in {delay:.1f} s")
        pacing.pause(delay)

    def note(self, message: str) -> None:
        """A ``--verbose`` line about the exchange (API clients never print)."""
        self._note(message)

    def _note(self, message: str) -> None:
        if self._log:
            self._log(f"* {message}")

    def _log_request(self, request: requests.PreparedRequest) -> None:
        assert self._log is not None
        lines = [f"> {request.method} {redact.scrub(request.url or '')}"]
        lines += [f"> {k}: {v}" for k, v in redact.headers(request.headers).items()]
        if request.body:
            text = request.body if isinstance(request.body, str) else request.body.decode()
            lines.append(">")
            lines.append(f"> {redact.body(text, request.headers.get('Content-Type', ''))}")
        self._log("\n".join(lines))

    def _log_response(self, response: Response, seconds: float) -> None:
        assert self._log is not None
        lines = [f"< HTTP {response.status} ({seconds * 1000:.0f} ms)"]
        lines += [f"< {k}: {v}" for k, v in redact.headers(response.headers).items()]
        text = response.body.decode("utf-8", "replace")
        try:
            shown = redact.body(text, response.content_type)
        except RecursionError:  # it parses JSON to mask secrets; nested this deep it cannot
            shown = "(JSON nested too deep to show)"
        if len(shown) > LOG_BODY_CHARS:
            shown = shown[:LOG_BODY_CHARS] + f"... ({len(response.body)} bytes in all)"
        lines += ["<", f"< {shown}"]
        self._log("\n".join(lines))


def _read_body(raw: requests.Response, deadline: float) -> bytes:
    """The whole body, bounded in size and in time however slowly the server sends it."""
    chunks: list[bytes] = []
    size = 0
    stream = raw.raw
    while True:
        if time.monotonic() >= deadline:
            raise requests.exceptions.ReadTimeout("the answer took longer than the timeout")
        try:
            chunk = stream.read1(65536, decode_content=True)
        except (urllib3.exceptions.ReadTimeoutError, TimeoutError) as exc:
            raise requests.exceptions.ReadTimeout(str(exc)) from None
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise requests.exceptions.ConnectionError(str(exc)) from None
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise _AnswerTooLarge
        chunks.append(chunk)


class _AnswerTooLarge(Exception):
    """The body went past ``MAX_BODY_BYTES``; :meth:`HttpClient.request` says what that means."""


def _size(count: int) -> str:
    mib = 1024 * 1024
    return f"{count // mib} MiB" if count % mib == 0 else f"{count} bytes"


def _resets(seconds: float) -> str:
    """When a rate limit's quota resets, in words; a reset no clock can show, said so."""
    try:
        return f"the quota resets in {seconds:.0f} s, at {_clock(seconds)}"
    except (OverflowError, ValueError, OSError):  # NaN, infinity, or past the year 9999
        return f"it gave no usable reset time ({seconds})"


def _clock(seconds_from_now: float) -> str:
    return time.strftime("%H:%M:%S", time.localtime(time.time() + seconds_from_now))
