"""Forgetting bulk runs: their journals removed, so that the same file runs anew."""

import json
import os
from pathlib import Path

from voucherctl.bulk.journal import try_lock


def forget_runs(folder: Path, *, host: str) -> tuple[int, list[Path]]:
    """Remove the journals in ``folder`` of runs against ``host``; a journal in use is kept.

    Returns how many were removed, and the journals kept because a run holds them.
    """
    removed, busy = 0, []
    for path in sorted(folder.glob("*.jsonl")) if folder.is_dir() else []:
        try:
            fd = os.open(path, os.O_RDWR | os.O_NONBLOCK)
        except OSError:
            continue
        try:
            with os.fdopen(os.dup(fd), "rb") as handle:
                first = handle.readline(65536)
            if _host(first) != host:
                continue
            if not try_lock(fd):
                busy.append(path)
                continue
            path.unlink()
            removed += 1
        finally:
            os.close(fd)
    return removed, busy


def _host(header: bytes) -> object:
    try:
        record = json.loads(header)
    except ValueError:
        return None
    return record.get("host") if isinstance(record, dict) else None
