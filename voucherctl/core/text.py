"""Untrusted text made safe to show: a server or an argument can smuggle terminal escapes.

Every layer that quotes text it did not write (errors, warnings, CSV cells, table cells) escapes
it here, so this module sits below all of them and imports nothing of voucherctl.
"""

import re

# C0 controls, DEL and C1 controls; the bidirectional overrides that make text read in
# another order than it is (U+202E); lone surrogates too: bytes of an argument that are not
# UTF-8 arrive as those, and writing one to a UTF-8 stream fails.
_BIDI = "\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069"  # and line/paragraph seps
_CONTROL = re.compile(f"[\x00-\x1f\x7f-\x9f{_BIDI}\ud800-\udfff]")
_CONTROL_BUT_NEWLINE = re.compile(f"[\x00-\x09\x0b-\x1f\x7f-\x9f{_BIDI}\ud800-\udfff]")


def escape_control(text: str, *, keep_newlines: bool = False) -> str:
    """``text`` with control characters shown as escapes (``\\x1b``), safe for a terminal."""
    pattern = _CONTROL_BUT_NEWLINE if keep_newlines else _CONTROL
    return pattern.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)
