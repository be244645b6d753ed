"""Where the ledger is, and opening it (docs/contract.md#the-ledger).

``VOUCHERCTL_LEDGER``, else ``ledger`` at the top of config.toml, else ``ledger.sqlite3`` in the
data directory. A ``postgresql://`` URL puts it on PostgreSQL; anything else is a file path.
"""

import getpass
import re
import socket
from collections.abc import Mapping
from pathlib import Path

from voucherctl.core.redact import register
from voucherctl.storage import config
from voucherctl.storage.engines import Engine, LedgerError, PostgresEngine, SqliteEngine
from voucherctl.storage.ledger import Ledger, Who

FILE_NAME = "ledger.sqlite3"
_POSTGRES = ("postgresql://", "postgres://")
_LIBPQ_WORDS = re.compile(r"^\s*(host|dbname|user|password|port)\s*=", re.IGNORECASE)


def location(environ: Mapping[str, str]) -> str:
    """The ledger's location as configured: a PostgreSQL URL or a file path."""
    chosen = config.env_value(environ, "VOUCHERCTL_LEDGER")
    if chosen is None:
        chosen = config.ConfigFile(config.config_dir(environ) / "config.toml").setting("ledger")
    return chosen or str(config.data_dir(environ) / FILE_NAME)


def is_postgres(where: str) -> bool:
    return where.lower().startswith(_POSTGRES)


def open_engine(where: str) -> Engine:
    if ("://" in where and not is_postgres(where)) or _LIBPQ_WORDS.match(where):
        # Never a file of that name: it may hold a password, and a team's guard would be off.
        raise LedgerError(
            "the ledger is neither a postgresql:// URL nor a file path; set VOUCHERCTL_LEDGER "
            "(or config.toml's ledger) to postgresql://USER@HOST/DB or to a file"
        )
    if is_postgres(where):
        from urllib.parse import urlsplit

        scheme, _, rest = where.partition("://")
        where = f"{scheme.lower()}://{rest}"  # libpq knows the scheme in lower case only

        register(urlsplit(where).password)  # never printed, whatever the driver says
        return PostgresEngine(where)
    try:
        path = Path(where).expanduser()
    except RuntimeError:
        raise LedgerError(f"the ledger {where}: no such user") from None
    return SqliteEngine(path)


def who(profile: str) -> Who:
    """Who makes the changes: this OS user on this machine, under ``profile``."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no name for this uid, e.g. in a bare container
        user = "unknown"
    return Who(os_user=user, machine=socket.gethostname(), profile=profile)


def open_ledger(environ: Mapping[str, str], profile: str, *, changes: bool = True) -> Ledger:
    """The ledger, migrated, with what earlier versions wrote imported; changes are recorded
    under ``profile`` (the sandbox's name with --sandbox). ``changes``: opened to make changes,
    so a failure says that nothing was sent. Raises LedgerError."""
    import atexit

    from voucherctl.storage.imports import import_data_folder

    try:
        ledger = Ledger(open_engine(location(environ)), who(profile))
        atexit.register(ledger.close)  # the session's lock file goes with it
        import_data_folder(ledger, config.data_dir(environ))
    except LedgerError as exc:
        if changes:
            exc.message = (
                f"{exc.message}; nothing was sent. Make it writable, or point VOUCHERCTL_LEDGER "
                "at a ledger that is"
            )
            exc.args = (exc.message,)
        raise
    return ledger
