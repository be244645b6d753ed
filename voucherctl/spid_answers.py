"""What a SPiD container says beside its data and error: the request quota.

Every container reports the quota in ``request``: ``limit`` requests a period, ``remaining``
left, ``reset`` seconds until the period ends (docs/contract.md#wire-facts-spid).
"""

import math
from typing import Any

from voucherctl.pacing import QuotaReport


def quota_report(body: Any) -> QuotaReport | None:
    """The quota a container reports in ``request``, or None when it reports none usable."""
    request = body.get("request") if isinstance(body, dict) else None
    if not isinstance(request, dict):
        return None
    limit, remaining, reset = (
        _number(request.get(name)) for name in ("limit", "remaining", "reset")
    )
    if limit is None or remaining is None or reset is None:
        return None
    return QuotaReport(int(limit), max(int(remaining), 0), max(reset, 0.0))


def _number(value: Any) -> float | None:
    """A finite JSON number, or a string holding one (SPiD sends numbers as strings)."""
    if isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) and abs(number) < 1e15 else None
