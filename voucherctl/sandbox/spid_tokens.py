"""SPiD's server tokens: the client_credentials exchange and the check of every API call.

Tokens live in the state file, so every server over it accepts them. An expired token stays
there for EXPIRED_TOKEN_MEMORY seconds more, so that it is refused as expired (401, as SPiD
refuses a JWT past its `exp`) rather than as unknown (403 "Access token rejected"). A token
that `reset_state` dropped may stay accepted for up to a second by a server that saw it just
before.
"""

from __future__ import annotations

import base64
import binascii
import enum
import secrets
from urllib.parse import unquote_plus

import voucherctl.sandbox.clock as clock
from voucherctl.sandbox.constants import SANDBOX
from voucherctl.sandbox.store import Store
from voucherctl.sandbox.wire import Reply, Request

TOKEN_RECHECK_SECONDS = 1.0
MAX_CACHED_TOKENS = 1000
EXPIRED_TOKEN_MEMORY = 7 * 86_400


class TokenState(enum.Enum):
    """What an API call's token is worth."""

    VALID = "valid"
    EXPIRED = "expired"
    UNKNOWN = "unknown"


def oauth_error(status: int, error: str, description: str) -> Reply:
    """A flat OAuth error, as SPiD answers at /oauth/token and for a token it does not take."""
    return Reply(
        status,
        {
            "error": error,
            "error_code": status,
            "type": "OAuthException",
            "error_description": description,
        },
    )


def _client_credentials(req: Request) -> tuple[str, str]:
    scheme, _, encoded = req.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return "", ""
        client_id, _, secret = decoded.partition(":")
        # RFC 6749 2.3.1: both halves are form-urlencoded before they are joined.
        return unquote_plus(client_id), unquote_plus(secret)
    return req.params.get("client_id", ""), req.params.get("client_secret", "")


def presented_token(req: Request) -> str:
    """The token an API call carries: `Authorization: Bearer`, else the `oauth_token` param."""
    scheme, _, token = req.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        token = req.params.get("oauth_token", "")
    return token.strip()


class SpidTokens:
    """Issues tokens that live `ttl` seconds, and says what a presented token is worth."""

    def __init__(self, store: Store, ttl: int) -> None:
        self._store = store
        self._ttl = ttl
        self._seen: dict[str, tuple[float, float]] = {}  # token: (expires_at, checked_at)

    def check(self, token: str) -> TokenState:
        """Whether an API call's token is valid, expired, or unknown (or missing)."""
        now = clock.wall()
        # A token seen in the file within the last second is taken on trust: the lookup is a
        # sixth of a handout's cost. The price: a token dropped by a reset in another process
        # stays good here for up to TOKEN_RECHECK_SECONDS.
        expires_at, checked_at = self._seen.get(token, (0.0, 0.0))
        if now < expires_at and now - checked_at < TOKEN_RECHECK_SECONDS:
            return TokenState.VALID
        with self._store.read() as conn:
            row = conn.execute("SELECT expires_at FROM spid_token WHERE token = ?", (token,))
            found = row.fetchone()
        if found is None or found[0] <= now:
            self._seen.pop(token, None)
            return TokenState.UNKNOWN if found is None else TokenState.EXPIRED
        if len(self._seen) >= MAX_CACHED_TOKENS:
            self._seen.clear()
        self._seen[token] = (found[0], now)
        return TokenState.VALID

    def exchange(self, req: Request) -> Reply:
        """POST /oauth/token with the client_credentials grant; errors come flat, as OAuth's."""
        client_id, secret = _client_credentials(req)
        if (client_id, secret) != (SANDBOX.spid_client_id, SANDBOX.spid_client_secret):
            return oauth_error(401, "invalid_client_id", "Unknown client or wrong client secret")
        grant = req.params.get("grant_type", "")
        if not grant:
            return oauth_error(400, "invalid_request", "Missing grant_type")
        if grant != "client_credentials":
            return oauth_error(
                400,
                "unsupported_grant_type",
                f"Unsupported grant_type {grant!r}; use client_credentials",
            )
        token, now = secrets.token_hex(20), clock.wall()
        with self._store.write() as conn:
            conn.execute(
                "DELETE FROM spid_token WHERE expires_at < ?", (now - EXPIRED_TOKEN_MEMORY,)
            )
            conn.execute(
                "INSERT INTO spid_token (token, client_id, expires_at) VALUES (?, ?, ?)",
                (token, client_id, now + self._ttl),
            )
        return Reply(
            200,
            {
                "access_token": token,
                "expires_in": self._ttl,
                "token_type": "Bearer",
                "scope": None,
                "server_time": int(now),
                "user_id": False,
                "is_admin": False,
            },
        )
