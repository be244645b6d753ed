"""Checks of command-line values, made before anything is sent (failures exit 2)."""

import re

from voucherctl.core.errors import UsageError

MAX_TEXT_LENGTH = 1000
MAX_ID = 2**63 - 1  # the APIs' ids are signed 64-bit integers
# Control characters: no identifier of either API holds one, so in a value they are a paste
# gone wrong, or an attack on whoever reads the API's logs and answers on a terminal. Messages
# quote values with repr() alone, which escapes them and undecodable bytes; escape_control()
# under it would show every backslash twice.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def text(value: str, name: str) -> str:
    """A non-blank value without surrounding white space, control characters or bad bytes."""
    stripped = value.strip()
    if not stripped:
        raise UsageError(f"{name} must not be empty")
    if len(stripped) > MAX_TEXT_LENGTH:
        raise UsageError(f"{name} is longer than {MAX_TEXT_LENGTH} characters")
    if _CONTROL.search(stripped):
        raise UsageError(f"{name} must not contain control characters, not {value!r}")
    try:
        stripped.encode("utf-8")
    except UnicodeEncodeError:
        # Bytes that are not UTF-8 reach argv as lone surrogates, which no request can carry.
        raise UsageError(
            f"{name} is not UTF-8 text ({value!r}); check the encoding of the terminal or file"
        ) from None
    return stripped


def numeric_id(value: str, name: str) -> str:
    """An id that the APIs take as a positive integer, kept as the digits the user typed."""
    stripped = value.strip()
    # Digits only (no sign, no "1_000"), checked for length before int() reads them.
    if not (stripped.isascii() and stripped.isdigit()) or not stripped.strip("0"):
        raise UsageError(f"{name} must be a positive whole number, not {value!r}")
    if len(stripped.lstrip("0")) > len(str(MAX_ID)) or int(stripped) > MAX_ID:
        raise UsageError(f"{name} is larger than any id can be ({MAX_ID}), not {value!r}")
    return str(int(stripped))


def token(value: str, name: str) -> str:
    """A single word such as a voucher key: no white space inside."""
    stripped = text(value, name)
    if any(c.isspace() for c in stripped):
        raise UsageError(f"{name} must not contain white space")
    return stripped


def email(value: str, name: str) -> str:
    """An email address, checked only as far as a typo is likely."""
    stripped = token(value, name)
    local, _, domain = stripped.rpartition("@")
    if not local or "." not in domain.strip("."):
        raise UsageError(f"{name} must be an email address, not {value!r}")
    return stripped
