"""HTTP done once: one requests.Session per client, timeouts, retries, no redirects, a redacted log.

API clients (``spid``, ``spaaza``) describe each call (``change=True`` for anything that alters
state) and get back a :class:`Response` with the whole body read; everything about the wire's
failure modes is decided here:

- reads are retried on 5xx and connection errors, with backoff;
- a change is resent only when it certainly never left this machine (the connection could not
  be opened) or the server refused it for rate limiting; otherwise its outcome is unknown (exit 7);
- redirects are never followed, so credentials never go to another host;
- ``timeout`` bounds the exchange, and the body is capped.
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
from requests.structures import CaseInsensitiveDict

from voucherctl import __version__, redact
from voucherctl.errors import (
    OutcomeUnknownError,
    RateLimitedError,
    ServerError,
    VoucherctlError,
)

USER_AGENT = f"voucherctl/{__version__}"
MAX_BODY_BYTES = 16 * 1024 * 1024
READ_ATTEMPTS = 3  # a read is tried at most this often on 5xx or connection errors
RATE_LIMIT_RETRIES = 3
LOG_BODY_CHARS = 4000


def pause(seconds: float) -> None:
    """Wait before a retry (a seam for tests, which record waits instead of sleeping)."""
    time.sleep(seconds)


RateLimitPolicy = Callable[["Response"], float | None]
"""Given a refused answer, seconds to wait before resending it, or None if not rate limited."""


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

        return json.loads(self.body)

    def describe(self) -> str:
        """A short description of an answer that could not be read, for error messages."""
        kind = self.content_type.split(";")[0] or "no content type"
        return f"HTTP {self.status}, {kind}, {len(self.body)} bytes"


class Pacer:
    """Paces the requests of all workers of a bulk run together.

    A rate limit is the server's word about the whole client, not one thread: when any request
    is refused, every worker waits until the quota resets. ``max_rate`` (requests per second)
    keeps a run under a known quota in the first place.
    """

    def __init__(self, max_rate: float | None = None) -> None:
        self._interval = 1.0 / max_rate if max_rate else 0.0
        self._lock = threading.Lock()
        self._next_send = 0.0  # monotonic time before which nobody sends

    def wait_turn(self) -> None:
        """Block until this caller may send."""
        with self._lock:
            now = time.monotonic()
            start = max(now, self._next_send)
            self._next_send = start + self._interval
        if start > now:
            pause(start - now)

    def hold_all(self, seconds: float) -> None:
        """Nobody sends for ``seconds`` from now."""
        with self._lock:
            self._next_send = max(self._next_send, time.monotonic() + seconds)


class HttpClient:
    """Sends requests for one command; safe to share between threads of a bulk run.

    Each thread gets its own keep-alive session; ``pacer`` (bulk runs) makes all threads wait
    together when the server rate limits.
    """

    def __init__(
        self,
        *,
        timeout: float,
        max_wait: float,
        log: Callable[[str], None] | None = None,
        pacer: Pacer | None = None,
    ) -> None:
        self.timeout = timeout
        self.max_wait = max_wait
        self.pacer = pacer
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
    ) -> Response:
        """Send a request and return the whole answer, whatever its status.

        ``what`` names the action in the user's words ("show voucher X") for error messages.
        Raises only :class:`VoucherctlError` subclasses.
        """
        host = urlsplit(url).netloc
        attempt = 0
        rate_limited = 0
        while True:
            attempt += 1
            if self.pacer:
                self.pacer.wait_turn()
            try:
                response = self._send(method, url, params, data, headers, auth)
            except requests.RequestException as exc:
                reason = _reason(exc)
                never_sent = _never_sent(exc)
                if (never_sent or not change) and attempt < READ_ATTEMPTS:
                    self._backoff(attempt, f"{host}: {reason}")
                    continue
                if change and not never_sent:
                    raise OutcomeUnknownError(
                        f"{what}: {reason} talking to {host}; the change may or may not have "
                        "been made, check before trying again"
                    ) from None
                raise OutcomeUnknownError(f"{what}: cannot reach {host}: {reason}") from None

            if 300 <= response.status < 400:
                location = response.headers.get("Location", "?")
                raise VoucherctlError(
                    f"{what}: {host} answered HTTP {response.status}, a redirect to {location}; "
                    "voucherctl never follows redirects, check the base URL"
                )
            wait = rate_limit(response) if rate_limit else None
            if wait is not None:
                rate_limited += 1
                if wait > self.max_wait or rate_limited > RATE_LIMIT_RETRIES:
                    raise RateLimitedError(
                        f"{what}: rate limited by {host} (HTTP {response.status}); the quota "
                        f"resets in {wait:.0f} s, at {_clock(wait)}"
                    )
                self._note(f"rate limited by {host}; waiting {wait:.0f} s before resending")
                if self.pacer:
                    self.pacer.hold_all(wait)  # everyone waits; wait_turn() blocks this one too
                else:
                    pause(wait)
                continue
            if response.status >= 500 and not change and attempt < READ_ATTEMPTS:
                self._backoff(attempt, f"{host} answered HTTP {response.status}")
                continue
            return response

    def _send(
        self,
        method: str,
        url: str,
        params: Mapping[str, str] | None,
        data: Mapping[str, str] | None,
        headers: Mapping[str, str] | None,
        auth: tuple[str, str] | None,
    ) -> Response:
        request = self._session.prepare_request(
            requests.Request(method, url, params=params, data=data, headers=headers, auth=auth)
        )
        if self._log:
            self._log_request(request)
        started = time.monotonic()
        deadline = started + self.timeout
        raw = self._session.send(
            request, timeout=(self.timeout, self.timeout), allow_redirects=False, stream=True
        )
        try:
            body = _read_body(raw, deadline)
        finally:
            raw.close()
        response = Response(raw.status_code, body, url, raw.headers)
        self.last_server_date = raw.headers.get("Date")
        if self._log:
            self._log_response(response, time.monotonic() - started)
        return response

    def _backoff(self, attempt: int, why: str) -> None:
        delay = min(0.5 * 2 ** (attempt - 1), 4.0) * random.uniform(0.8, 1.2)
        self._note(f"{why}; retrying in {delay:.1f} s")
        pause(delay)

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
        shown = redact.body(text, response.content_type)
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
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise requests.exceptions.ReadTimeout("the answer took longer than the timeout")
        _limit_socket_wait(stream, remaining)
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
            raise ServerError(
                f"the answer from {urlsplit(raw.url).netloc} is larger than "
                f"{MAX_BODY_BYTES // (1024 * 1024)} MiB; refusing to read it"
            )
        chunks.append(chunk)


def _limit_socket_wait(stream: Any, seconds: float) -> None:
    # A dripping server must not outlast the deadline one byte at a time: each blocking read
    # may wait only for what is left of the exchange's time.
    sock = getattr(
        getattr(stream, "_connection", None) or getattr(stream, "connection", None), "sock", None
    )
    if sock is not None:
        sock.settimeout(max(seconds, 0.001))


def _never_sent(exc: requests.RequestException) -> bool:
    """True when the connection could not even be opened, so nothing reached the server."""
    if isinstance(exc, requests.exceptions.ConnectTimeout | requests.exceptions.SSLError):
        return True
    if isinstance(exc, requests.exceptions.ConnectionError):
        text = str(exc)
        return "NewConnectionError" in text or "NameResolutionError" in text
    return False


def _reason(exc: requests.RequestException) -> str:
    """What went wrong, in a few words and with no request details (URLs can carry secrets)."""
    text = str(exc)
    if isinstance(exc, requests.exceptions.SSLError):
        if "CERTIFICATE_VERIFY_FAILED" in text:
            return "its TLS certificate could not be verified"
        return "the TLS handshake failed"
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return "connecting timed out"
    if isinstance(exc, requests.exceptions.Timeout):
        return "no complete answer within the timeout"
    if "NameResolutionError" in text or "Name or service not known" in text:
        return "the host name could not be resolved"
    if "Connection refused" in text:
        return "connection refused"
    if isinstance(exc, requests.exceptions.ConnectionError):
        return "the connection failed or was dropped"
    return redact.scrub(type(exc).__name__)


def _clock(seconds_from_now: float) -> str:
    return time.strftime("%H:%M:%S", time.localtime(time.time() + seconds_from_now))
