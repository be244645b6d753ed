"""What Spaaza answers a login or a passcode, checked before any of it is stored or sent again.

A session's user id and key go into the headers of every later request and into the keyring,
its expiry into the message that says when a stored session ran out; a two-factor login's
passcode key goes back to ``/auth/session``. A field that a header cannot carry, or a date no
clock can read, makes the whole answer unreadable (exit 1) before anything is kept
(docs/contract.md#wire-facts-spaaza).
"""

import re
import time
from dataclasses import dataclass
from typing import Any

from voucherctl.core import redact
from voucherctl.core.errors import ServerError

SPAAZA_DATE = "%Y-%m-%d %H:%M:%S"  # UTC, as Spaaza writes its dates
MAX_USER_ID = 2**63 - 1  # Spaaza's ids are signed 64-bit integers
MAX_TOKEN_CHARS = 4096  # far beyond any key Spaaza hands out; a header has to carry it


@dataclass(frozen=True)
class Session:
    """A session to store: its user id (digits), key, and expiry (``SPAAZA_DATE``) if given."""

    user_id: str
    key: str
    expires: str | None


@dataclass(frozen=True)
class LoginAnswer:
    """A login's outcome: a session, or under two-factor login the key of an emailed passcode."""

    session: Session | None
    passcode_key: str | None = None
    passcode_expires: str | None = None  # only shown to the user, so dropped when unreadable


def is_token(value: Any) -> bool:
    """True for text an HTTP header carries as it is: printable ASCII, no spaces."""
    return (
        isinstance(value, str)
        and 0 < len(value) <= MAX_TOKEN_CHARS
        and all("!" <= c <= "~" for c in value)
    )


def login_answer(results: Any) -> LoginAnswer:
    """A login's ``session_info``; under two-factor login (API 1.5.8 and later) the passcode key
    and its expiry, at the top of ``results`` as Spaaza's own Postman collection reads them, or
    inside ``session_info``. Raises :class:`Unreadable`."""
    top = results if isinstance(results, dict) else {}
    info = top.get("session_info")
    info = dict(info) if isinstance(info, dict) else {}
    for key in ("session_passcode_key", "session_passcode_expiry_date"):
        if not info.get(key) and top.get(key):
            info[key] = top[key]
    _register(info)
    if not info:
        raise Unreadable("it has neither session_info nor a session_passcode_key")
    if info.get("session_key") or not info.get("session_passcode_key"):
        return LoginAnswer(_session(info))
    if not is_token(info["session_passcode_key"]):
        raise Unreadable("its session_passcode_key is not a single word of printable ASCII")
    expires = info.get("session_passcode_expiry_date")
    return LoginAnswer(None, info["session_passcode_key"], expires if _is_date(expires) else None)


def session_answer(results: Any) -> Session:
    """The session ``/auth/session`` hands out for a passcode. Raises :class:`Unreadable`."""
    info = results.get("session_info") if isinstance(results, dict) else None
    if not isinstance(info, dict):
        raise Unreadable("it has no session_info")
    _register(info)
    return _session(info)


class Unreadable(ServerError):
    """A login answer with a field missing or unusable; the message says which, never its value."""


def _session(info: dict[str, Any]) -> Session:
    key = info.get("session_key")
    if not key:
        raise Unreadable("it has no session_key")
    if not is_token(key):
        raise Unreadable("its session_key is not a single word of printable ASCII")
    user_id = _user_id(info.get("session_user_id"))
    expires = info.get("session_expires_date")
    if expires in (None, ""):
        return Session(user_id, key, None)
    if not _is_date(expires):
        raise Unreadable("its session_expires_date is not a date (YYYY-MM-DD HH:MM:SS)")
    return Session(user_id, key, expires)


def _user_id(value: Any) -> str:
    """The session's user id as digits: Spaaza sends a number, or the number as text."""
    if value in (None, ""):
        raise Unreadable("it has no session_user_id")
    digits = str(value) if isinstance(value, int) and not isinstance(value, bool) else value
    if not (isinstance(digits, str) and digits.isascii() and digits.isdigit()):
        raise Unreadable("its session_user_id is not a number")
    significant = digits.lstrip("0")
    if not significant or len(significant) > 19 or int(significant) > MAX_USER_ID:
        raise Unreadable("its session_user_id is not a user id (a positive 64-bit number)")
    return significant


def _is_date(value: Any) -> bool:
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", value):
        return False
    try:
        time.strptime(value, SPAAZA_DATE)
    except ValueError:  # the 31st of February, hour 25, ...
        return False
    return True


def _register(info: dict[str, Any]) -> None:
    """The secrets of an answer are scrubbed from everything written, checked or not."""
    for name in ("session_key", "session_passcode_key"):
        if isinstance(info.get(name), str | int):
            redact.register(str(info[name]))
