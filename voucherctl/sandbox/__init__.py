"""A local, stateful emulator of the SPiD and Spaaza voucher APIs on one port.

Standard library only, so that importing it costs the CLI next to nothing.
"""

from voucherctl.sandbox.constants import DEFAULT_PORT, SANDBOX, SandboxCredentials
from voucherctl.sandbox.options import (
    DEFAULT_QUOTA_WINDOW,
    EMBEDDED_OPTIONS,
    SERVE_TOKEN_TTL,
    SandboxOptions,
)
from voucherctl.sandbox.server import RunningSandbox, serve_forever, start_background
from voucherctl.sandbox.state_file import NotAStateFile
from voucherctl.sandbox.store import ensure_state, reset_state

__all__ = [
    "DEFAULT_PORT",
    "DEFAULT_QUOTA_WINDOW",
    "EMBEDDED_OPTIONS",
    "SANDBOX",
    "SERVE_TOKEN_TTL",
    "NotAStateFile",
    "RunningSandbox",
    "SandboxCredentials",
    "SandboxOptions",
    "ensure_state",
    "reset_state",
    "serve_forever",
    "start_background",
]
