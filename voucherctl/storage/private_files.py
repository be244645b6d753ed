"""Files voucherctl writes hold personal data (user ids, voucher codes, who did what): they are
their owner's alone, 0600 in 0700 folders, whatever the umask
(docs/contract.md#files-and-audit-log).

voucherctl makes private only what it creates. A folder or file that already exists (one the user
named or made, or a system folder such as /dev or /tmp) keeps its mode: changing it would change
the machine for everyone else who uses it.
"""

import errno
import os
import secrets
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

FILE_MODE = 0o600
FOLDER_MODE = 0o700


def private_folder(path: Path) -> Path:
    """``path`` as a folder, made (with its parents) when missing. What it makes only its owner can
    enter, whatever the umask; a folder that already exists is left as it is."""
    missing = []
    for folder in [path, *path.parents]:
        if folder.exists():
            break
        missing.append(folder)
    for folder in reversed(missing):
        folder.mkdir(mode=FOLDER_MODE, exist_ok=True)
        folder.chmod(FOLDER_MODE)  # mkdir's mode is masked by the umask
    if not path.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, "not a folder", str(path))
    return path


def open_private(path: Path, flags: int) -> int:
    """``os.open`` of a regular file, created 0600 (and its missing folders 0700) when it does not
    exist; an existing file keeps its mode. Raises ``OSError``; ``NotRegularFileError`` for a
    FIFO, a device or a folder, opened without blocking so that a FIFO cannot hang us."""
    private_folder(path.parent)
    fd = os.open(path, flags | os.O_CREAT | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0), FILE_MODE)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise NotRegularFileError(f"{path} is not a regular file")
        os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd


def write_private_text(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` atomically (a temporary file, then a rename), 0600."""
    # A name of its own per write: two writers sharing one temporary name truncate and rename
    # each other's file (the loser's rename finds nothing). Removed when the write fails.
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = open_private(temporary, os.O_WRONLY | os.O_EXCL)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        temporary.replace(path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


@contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold an exclusive OS lock on the file ``path`` (created 0600 when missing) until the
    block ends, waiting for another process that holds it: a read-modify-write of a file
    beside it is then one at a time across processes."""
    fd = open_private(path, os.O_RDWR)
    try:
        try:
            import fcntl
        except ImportError:  # Windows
            import msvcrt

            msvcrt.locking(fd, msvcrt.LK_LOCK, 1)  # type: ignore[attr-defined,unused-ignore]
        else:
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


class NotRegularFileError(OSError):
    """A path that must be a plain file is a FIFO, a device, a socket or a folder."""
