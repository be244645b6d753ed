"""Servers that echo the credentials back through an encoder: every common encoding, into every
place voucherctl prints or writes (the plain error line, --verbose, audit.jsonl, doctor, auth
status). Found by an outside review: partial percent-encoding, base64 of a larger text at any
offset, JSON and HTML escapes and an HTML body mistaken for a form all got secrets out.

The secrets hold "/", "+", "=" (and "&"), the characters encoders treat differently. Whether a
secret got out is decided by tests.encoders.revealed, which undoes the encodings itself and
knows nothing of the scrub.
"""

import base64
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import spid_container
from tests.encoders import ENCODINGS, revealed
from tests.hostile_server import Fault, HostileServer, Request, reply

SPID_TOKEN = "tokA/b+c=Zq9"
SESSION_KEY = "sK/ey+9=abcQ"
CLIENT_ID = "echo-client"
CLIENT_SECRET = "cl&Sec/r+t=99"
BASIC = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
SECRETS = (SPID_TOKEN, SESSION_KEY, CLIENT_SECRET, BASIC)


def echoed(request: Request) -> str:
    """What a careless server quotes: every header it received, and the body."""
    heard = "; ".join(f"{name}: {value}" for name, value in request.headers.items())
    return f"{heard}; body {request.body.decode('latin-1')}"


def echo(encode: Callable[[str], str], as_text: str | None) -> Callable[[Request], Fault]:
    """Every request answered with an error quoting it, encoded: in the API's error envelope,
    or (``as_text``: a content type) as the whole body."""

    def route(request: Request) -> Fault:
        text = f"cannot serve ({encode(echoed(request))})"
        if as_text:
            return reply(500, text, content_type=as_text)
        if request.path == "/oauth/token":
            body: Any = {"error": "invalid_client", "error_description": text}
            return reply(401, body)
        if request.path.startswith("/api/2/"):
            return reply(500, spid_container(None, code=500, error=text))
        error = {"code": 999, "name": "internal_error", "description": text}
        return reply(500, {"result": {"code": 2, "status": "error"}, "error": error})

    return route


@pytest.fixture
def serve() -> Iterator[Callable[..., HostileServer]]:
    servers: list[HostileServer] = []

    def start(route: Callable[[Request], Fault]) -> HostileServer:
        servers.append(HostileServer(route))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


def point_at(monkeypatch: pytest.MonkeyPatch, url: str, *, spid: str) -> None:
    """Both APIs at ``url``; SPiD by a token, or (``spid="client"``) by client credentials."""
    monkeypatch.setenv("VOUCHERCTL_SPID_URL", url)
    monkeypatch.setenv("VOUCHERCTL_SPAAZA_URL", url)
    monkeypatch.setenv("VOUCHERCTL_SPAAZA_USER_ID", "1107604")
    monkeypatch.setenv("VOUCHERCTL_SPAAZA_SESSION_KEY", SESSION_KEY)
    monkeypatch.setenv("VOUCHERCTL_SPAAZA_CHAIN_ID", "3")
    if spid == "client":
        monkeypatch.delenv("VOUCHERCTL_SPID_TOKEN", raising=False)
        monkeypatch.setenv("VOUCHERCTL_SPID_CLIENT_ID", CLIENT_ID)
        monkeypatch.setenv("VOUCHERCTL_SPID_CLIENT_SECRET", CLIENT_SECRET)
    else:
        monkeypatch.delenv("VOUCHERCTL_SPID_CLIENT_ID", raising=False)
        monkeypatch.delenv("VOUCHERCTL_SPID_CLIENT_SECRET", raising=False)
        monkeypatch.setenv("VOUCHERCTL_SPID_TOKEN", SPID_TOKEN)


CLAIM = ("claim", "--voucher-id", "35735", "--user-id", "5")
# Each place, and how to make voucherctl print there: (SPiD login, body as text, command).
CHANNELS: dict[str, tuple[str, str | None, tuple[str, ...]]] = {
    "error line (SPiD read)": ("token", None, ("show", "X")),
    "error line and audit (SPiD change)": (
        "token",
        None,
        ("handout", "--user", "4", "--group", "7"),
    ),
    "error line and audit (Spaaza change)": ("token", None, CLAIM),
    "error line, json": ("token", None, ("show", "X", "-o", "json")),
    "-v, a text body": ("token", "text/plain", ("show", "X", "-v")),
    "-v, an html body": ("token", "text/html", (*CLAIM, "-v")),
    "-v, a form body": ("token", "application/x-www-form-urlencoded", ("show", "X", "-v")),
    "-v, the token endpoint": ("client", None, ("show", "X", "-v")),
    "doctor, json": ("token", None, ("doctor", "-o", "json")),
    "doctor, table": ("token", None, ("doctor", "-o", "table")),
    "auth status (client credentials), json": ("client", None, ("auth", "status", "-o", "json")),
    "auth status, table": ("token", None, ("auth", "status", "-o", "table")),
}


def leaks(cli: Any, monkeypatch: Any, serve: Any, home: Path, encoding: str) -> list[str]:
    """Every (place, secret) where the secret could be read back out."""
    found = []
    audit = home / "data" / "audit.jsonl"
    for channel, (spid, as_text, args) in CHANNELS.items():
        server = serve(echo(ENCODINGS[encoding], as_text))
        point_at(monkeypatch, server.url, spid=spid)
        audited = audit.stat().st_size if audit.exists() else 0
        result = cli(*args)
        assert result.exit_code != 0, (channel, result.stdout)
        assert "Traceback" not in result.stderr
        written = audit.read_bytes()[audited:].decode() if audit.exists() else ""
        for secret in SECRETS:
            for where, text in (("out", result.stdout + result.stderr), ("audit", written)):
                if revealed(text, secret):
                    found.append(f"{channel} ({where}): {secret}")
    return found


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_no_encoding_of_an_echoed_secret_gets_out(
    cli, monkeypatch, serve, isolated_environment, encoding
) -> None:
    found = leaks(cli, monkeypatch, serve, isolated_environment, encoding)

    assert not found, f"{len(found)} leaks: {found}"
