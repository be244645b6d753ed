"""Codes taken out of a SPiD voucher group, kept on disk before anything else is done with them.

SPiD shows taken codes once (docs/contract.md#commands), so ``voucherctl codes`` writes them to
a new file in the data directory's ``codes/`` folder before it prints them: a closed stdout, a
reader gone or a full terminal scrollback then loses nothing. Each run gets a file of its own,
named by time, group and a random part, and never replaces another; it is written under a
temporary name, flushed to disk, and only then given its name. Only its owner may read it
(docs/contract.md#files-and-audit-log).
"""

import errno
import json
import os
import secrets
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from voucherctl.core.errors import UsageError
from voucherctl.core.redact import scrub
from voucherctl.core.text import escape_control
from voucherctl.storage import config
from voucherctl.storage.private_files import open_private, private_folder

FOLDER = "codes"


def folder(environ: Mapping[str, str]) -> Path:
    """Where kept codes go: ``codes/`` in the data directory."""
    return config.data_dir(environ) / FOLDER


BYTES_PER_CODE = 512  # more than a kept voucher takes: room checked before asking for codes


def ensure_folder(environ: Mapping[str, str], amount: int = 1) -> Path:
    """The folder, made private now, with room for ``amount`` codes: codes that could not be
    kept are never asked for.

    Raises UsageError (nothing was sent yet) when it cannot be made, or a file the size the
    codes will take cannot be written there (a full disk, a file-size limit).
    """
    path = folder(environ)
    try:
        private_folder(path)
        if not os.access(path, os.W_OK | os.X_OK):
            raise PermissionError(errno.EACCES, "not writable")
        _try_room(path, amount * BYTES_PER_CODE + 4096)
    except OSError as exc:
        raise UsageError(
            f"cannot keep codes in {escape_control(str(path))} ({exc.strerror or exc}); "
            "nothing was sent. Make the data directory writable, or point VOUCHERCTL_DATA_DIR "
            "at one that is"
        ) from None
    return path


def _try_room(where: Path, size: int) -> None:
    """Write ``size`` bytes to a scratch file in ``where``, then remove it; raises OSError."""
    scratch = where / f".room-{secrets.token_hex(6)}"
    fd = os.open(scratch, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        block = b"\0" * 65536
        left = size
        while left > 0:
            left -= os.write(fd, block[: min(left, len(block))])
        os.fsync(fd)
    finally:
        os.close(fd)
        scratch.unlink(missing_ok=True)


def keep(where: Path, group_id: str, taken: Mapping[str, Any]) -> Path:
    """Write ``taken`` (the request and the vouchers) to a new file in ``where``; its path.

    Raises OSError when it cannot be written (the caller must then show the codes some other
    way: they exist nowhere else).
    """
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    name = f"{stamp}-group{group_id}-{secrets.token_hex(4)}.json"
    path = where / name
    temporary = where / f".{name}.tmp"
    fd = open_private(temporary, os.O_WRONLY | os.O_EXCL)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(scrub(json.dumps(taken, ensure_ascii=False, indent=2)) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        # A hard link never replaces a file that has the name already; rename would.
        os.link(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    _sync_folder(where)
    return path


def _sync_folder(where: Path) -> None:
    """Flush the folder's entry for the new file, so a crash now does not lose its name."""
    fd = os.open(where, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class OutFile:
    """``--out FILE``: made (empty, 0600) before anything is sent, so that the codes never
    replace a file nor find no place to go; removed again if no codes come."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self._fd: int | None = os.open(
                path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o600
            )
        except FileExistsError:
            raise UsageError(
                f"--out {escape_control(str(path))} exists already; codes never replace a file, "
                "so name a new one. Nothing was sent"
            ) from None
        except OSError as exc:
            raise UsageError(
                f"--out {escape_control(str(path))}: {exc.strerror or exc}; nothing was sent"
            ) from None

    def write(self, text: str) -> None:
        """Fill the file; raises OSError."""
        assert self._fd is not None
        fd, self._fd = self._fd, None
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(scrub(text))
            handle.flush()
            os.fsync(handle.fileno())

    def discard(self) -> None:
        """Remove the file made for codes that did not come (unless it was replaced since)."""
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        try:
            made = os.fstat(fd)
            now = os.stat(self.path, follow_symlinks=False)
            if (made.st_dev, made.st_ino) == (now.st_dev, now.st_ino) and now.st_size == 0:
                self.path.unlink()
        except OSError:
            pass
        finally:
            os.close(fd)
