"""The commands: one module per verb, grouped by what they act on (``spid/``, ``spaaza/``,
``auth/``), each a few lines that validate, build, call and render.

Every command is declared once, in :data:`SPECS`; the app, ``audit --command``'s choices,
completion and the generated reference all derive their lists from it. A spec names its module
and function as text, so that a run imports only the command it runs: adding a command is one
module and one line here (docs/architecture.md).
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Spec:
    """One command: where it lives and what kind of command it is."""

    path: tuple[str, ...]  # ("auth", "login") for ``voucherctl auth login``
    target: str  # "module:function" under voucherctl.commands
    changes: bool = False  # changes something on an API: recorded, and ``audit --command`` takes it
    bulk: bool = False  # also runs every row of a file (--from)

    @property
    def name(self) -> str:
        return " ".join(self.path)


# Command groups: name -> their --help.
GROUPS = {
    "auth": (
        "Store, check and remove credentials (OS keyring).\n\nExamples:\n\n\b\n"
        "  voucherctl auth login spid --host production --client-id 5e2a0c\n"
        "  voucherctl auth status\n  voucherctl auth logout spaaza"
    ),
    "sandbox": (
        "The built-in sandbox: a stateful emulator of SPiD and Spaaza.\n\nExamples:\n\n\b\n"
        "  voucherctl sandbox serve --port 8765\n  voucherctl sandbox info\n"
        "  voucherctl sandbox reset"
    ),
    "config": (
        "Read and change a profile's settings (config.toml).\n\nExamples:\n\n"
        "\b\n  voucherctl config list\n  voucherctl config set spaaza.chain_id 1000\n"
        "  voucherctl config unset protected --profile staging"
    ),
}

# In the order --help lists them.
SPECS = (
    Spec(("show",), "spid.show:show"),
    Spec(("handout",), "spid.handout:handout", changes=True, bulk=True),
    Spec(("groups",), "spid.groups:groups"),
    Spec(("group",), "spid.groups:group"),
    Spec(("generate",), "spid.generate:generate", changes=True),
    Spec(("codes",), "spid.codes:codes", changes=True),
    Spec(("claim",), "spaaza.claim:claim", changes=True, bulk=True),
    Spec(("unclaim",), "spaaza.claim:unclaim", changes=True, bulk=True),
    Spec(("lock",), "spaaza.lock:lock", changes=True, bulk=True),
    Spec(("unlock",), "spaaza.lock:unlock", changes=True, bulk=True),
    Spec(("redeem",), "spaaza.redeem:redeem", changes=True, bulk=True),
    Spec(("vouchers",), "spaaza.vouchers:vouchers"),
    Spec(("doctor",), "doctor:doctor"),
    Spec(("audit",), "audit:audit"),
    Spec(("runs",), "runs:runs"),
    Spec(("completion",), "completion:completion"),
    Spec(("schema",), "schema:schema"),
    Spec(("help",), "help:help_command"),
    Spec(("auth", "login"), "auth.auth:login"),
    Spec(("auth", "status"), "auth.auth:status"),
    Spec(("auth", "logout"), "auth.auth:logout"),
    Spec(("sandbox", "serve"), "sandbox:serve"),
    Spec(("sandbox", "reset"), "sandbox:reset"),
    Spec(("sandbox", "info"), "sandbox:info"),
    Spec(("config", "list"), "config:list_settings"),
    Spec(("config", "get"), "config:get"),
    Spec(("config", "set"), "config:set_setting"),
    Spec(("config", "unset"), "config:unset"),
)

# Commands that change something, by name: what the ledger records and ``audit`` filters by.
CHANGE_COMMANDS = tuple(spec.name for spec in SPECS if spec.changes)
