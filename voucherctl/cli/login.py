"""What logging in to either API shares: the profile written to, the host chosen, the record shown.

``login_spid`` and ``login_spaaza`` do each API's part of ``voucherctl auth``; ``auth`` is the
commands.
"""

from voucherctl import config, output
from voucherctl.cli import prompt
from voucherctl.env import Environment
from voucherctl.errors import UsageError

LOGIN_VIEW = [
    output.field("Profile", "profile"),
    output.field("API", "api"),
    output.field("Host", "host"),
]


def login_profile(env: Environment) -> config.Profile:
    """The profile a login writes to: it may not exist yet."""
    if env.options.sandbox:
        raise UsageError("the sandbox needs no login: add --sandbox to any command instead")
    return config.load_profile(env.environ, env.options.profile, must_exist=False)


def host_url(
    env: Environment, given: str | None, current: str | None, hosts: dict[str, str]
) -> str:
    """A base URL from a host's name (production, ...) or a URL; asked for on a terminal."""
    choice = given
    if not choice and env.stdin_isatty:
        names = ", ".join(hosts)
        choice = prompt.ask(env, f"Host ({names}, or a URL)", default=current or "production")
    choice = choice or current
    if not choice:
        raise UsageError(f"--host is required: one of {', '.join(hosts)}, or a base URL")
    return config.validate_base_url(hosts.get(choice, choice), what="--host")


def save(env: Environment, profile: config.Profile) -> None:
    """Write the profile into config.toml, keeping every other profile as it was."""
    config.ConfigFile(config.config_dir(env.environ) / "config.toml").save_profile(profile)


def show_login(env: Environment, profile: config.Profile, api: str, host: str | None) -> None:
    """For scripts: what was logged in to (a terminal got the sentence on stderr)."""
    if env.output_format() != "table":
        record = {"profile": profile.name, "api": api, "host": host}
        output.print_record(env, record, LOGIN_VIEW)
