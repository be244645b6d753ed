"""HTTP/1.1 on the wire: reading one request from a connection and encoding one answer.

The standard library's BaseHTTPRequestHandler parses headers with the email package and writes
the status line, headers and body in separate writes; both cost more than a whole handout does.
This module reads requests with plain readline() and builds each answer as one bytes object.
"""

from __future__ import annotations

import io
import json
import time
from dataclasses import dataclass
from email.utils import formatdate
from http import HTTPStatus
from urllib.parse import parse_qsl

MAX_BODY = 1024 * 1024
MAX_LINE = 65536
MAX_HEADERS = 100

_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
_REASONS = {status.value: status.phrase for status in HTTPStatus}
_REASONS[420] = "Request Ratelimit Exceeded"


@dataclass
class Request:
    """One parsed request. Header names are lower-case; params merge query and form body."""

    method: str
    target: str
    path: str
    headers: dict[str, str]
    params: dict[str, str]
    keep_alive: bool


@dataclass(frozen=True)
class Reply:
    """An answer: status, a JSON-ready body and any extra headers."""

    status: int
    body: object
    headers: tuple[tuple[str, str], ...] = ()


class BadRequest(Exception):
    """The bytes on the connection are not a request we can answer and then keep reading."""

    def __init__(self, status: int, message: str, path: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.path = path


def _read_line(rfile: io.BufferedIOBase, path: str) -> bytes:
    line = rfile.readline(MAX_LINE + 1)
    if len(line) > MAX_LINE:
        raise BadRequest(431, "Request header line too long", path)
    return line


def _read_headers(rfile: io.BufferedIOBase, path: str) -> dict[str, str]:
    headers: dict[str, str] = {}
    for _ in range(MAX_HEADERS):
        line = _read_line(rfile, path)
        if line in (b"\r\n", b"\n"):
            return headers
        if not line:
            raise BadRequest(400, "Connection closed inside the headers", path)
        name, colon, value = line.decode("latin-1").partition(":")
        if not colon or not name or name != name.strip():
            raise BadRequest(400, "Malformed header line", path)
        headers[name.lower()] = value.strip()
    raise BadRequest(431, "Too many headers", path)


def _content_length(headers: dict[str, str], path: str) -> int:
    if "chunked" in headers.get("transfer-encoding", "").lower():
        raise BadRequest(411, "Chunked request bodies are not supported; send Content-Length", path)
    length = parse_int(headers.get("content-length", "0") or "0")
    if length is None:
        raise BadRequest(400, "Invalid Content-Length", path)
    if length > MAX_BODY:
        raise BadRequest(413, f"Request body over {MAX_BODY} bytes", path)
    return length


def read_request(rfile: io.BufferedIOBase, wfile: io.BufferedIOBase) -> Request | None:
    """Read one request, or None when the client closed the connection between requests.

    Raises BadRequest when the bytes cannot be answered and the connection must close.
    """
    line = _read_line(rfile, "")
    if not line:
        return None
    parts = line.decode("latin-1").split()
    if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
        raise BadRequest(400, "Malformed request line")
    method, target, version = parts
    path, _, query = target.partition("?")
    headers = _read_headers(rfile, path)
    length = _content_length(headers, path)
    if length and headers.get("expect", "").lower() == "100-continue":
        wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
    body = rfile.read(length) if length else b""
    if len(body) < length:
        raise BadRequest(400, "Connection closed inside the body", path)
    connection = headers.get("connection", "").lower()
    keep_alive = connection != "close" if version == "HTTP/1.1" else connection == "keep-alive"
    params = dict(parse_qsl(query, keep_blank_values=True)) if query else {}
    if body:
        params.update(parse_body(headers.get("content-type", ""), body, path))
    return Request(method, target, path, headers, params, keep_alive)


def parse_body(content_type: str, body: bytes, path: str) -> dict[str, str]:
    """Form fields of a urlencoded or multipart body; a JSON or other body gives none."""
    kind = content_type.split(";", 1)[0].strip().lower()
    try:
        if kind == "multipart/form-data":
            return _parse_multipart(content_type, body)
        if kind in ("application/x-www-form-urlencoded", ""):
            return dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
    except (UnicodeDecodeError, ValueError) as exc:
        raise BadRequest(400, f"Unreadable form body: {exc}", path) from exc
    return {}


def _parse_multipart(content_type: str, body: bytes) -> dict[str, str]:
    boundary = ""
    for option in content_type.split(";")[1:]:
        name, _, value = option.strip().partition("=")
        if name.lower() == "boundary":
            boundary = value.strip('"')
    if not boundary:
        raise ValueError("multipart body without a boundary")
    fields: dict[str, str] = {}
    for part in body.split(b"--" + boundary.encode("latin-1"))[1:]:
        head, _, content = part.partition(b"\r\n\r\n")
        for line in head.decode("utf-8").split("\r\n"):
            if line.lower().startswith("content-disposition:") and 'name="' in line:
                name = line.split('name="', 1)[1].split('"', 1)[0]
                fields[name] = content.removesuffix(b"\r\n").decode("utf-8")
    return fields


def parse_int(raw: str | None) -> int | None:
    """A non-negative decimal integer parameter, or None when it is anything else."""
    if raw and raw.isascii() and raw.isdigit() and len(raw) < 19:
        return int(raw)
    return None


def utc_text(epoch: float) -> str:
    """A UTC time as both APIs write it: "2018-10-16 15:54:01"."""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(epoch))


class _DateCache:
    """The Date header, formatted once per second rather than once per answer."""

    def __init__(self) -> None:
        self._second = -1
        self._value = ""

    def get(self) -> str:
        now = int(time.time())
        if now != self._second:
            self._value, self._second = formatdate(now, usegmt=True), now
        return self._value


_DATE = _DateCache()


def encode_reply(reply: Reply, keep_alive: bool) -> bytes:
    """Status line, headers and body as one bytes object, to be sent in one write."""
    payload = _ENCODER.encode(reply.body).encode("utf-8")
    extra = "".join(f"{name}: {value}\r\n" for name, value in reply.headers)
    head = (
        f"HTTP/1.1 {reply.status} {_REASONS.get(reply.status, 'Unknown')}\r\n"
        f"Date: {_DATE.get()}\r\n"
        "Server: voucherctl-sandbox\r\n"
        "Content-Type: application/json; charset=utf-8\r\n"
        f"Content-Length: {len(payload)}\r\n"
        f"Connection: {'keep-alive' if keep_alive else 'close'}\r\n"
        f"{extra}\r\n"
    )
    return head.encode("latin-1") + payload
