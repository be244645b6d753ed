"""``voucherctl config list|get|set|unset``: a profile's settings without editing config.toml.

Keys are dotted as the file nests them (``spaaza.chain_id`` is ``chain_id`` in
``[profiles.NAME.spaaza]``). A value is checked as the commands check it when they load the
profile, so a setting that would break every later command is refused (exit 2) and the file
is left as it was. Secrets never go into config.toml (docs/contract.md#configuration).
"""

from collections.abc import Callable
from typing import Annotated, Any

import typer

from voucherctl.cli.command import environment
from voucherctl.core.errors import NotFoundError, ProfileUnknownError, UsageError
from voucherctl.core.text import escape_control
from voucherctl.storage import config
from voucherctl.ui import output
from voucherctl.ui.environment import Environment


def _url(value: str, key: str) -> str:
    return config.validate_base_url(value, what=key)


def _number(value: str, key: str) -> str:
    from voucherctl.changes import validate

    return validate.numeric_id(value, key)


def _client_id(value: str, key: str) -> str:
    from voucherctl.secrets.resolve import check_client_id

    return check_client_id(value, key)


def _hostname(value: str, key: str) -> str:
    from voucherctl.cli.clients import _app_hostname

    checked = _app_hostname(value.strip())
    assert checked is not None
    return checked


def _version(value: str, key: str) -> str:
    parts = value.strip().split(".")
    if not all(part.isdigit() for part in parts):
        raise UsageError(f"{key} {escape_control(value)!r} is not an API version like 1.6.3")
    return value.strip()


def _boolean(value: str, key: str) -> bool:
    words = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}
    try:
        return words[value.strip().lower()]
    except KeyError:
        raise UsageError(f"{key} {escape_control(value)!r} is not true or false") from None


# Every setting a profile has, by its dotted key, with the check its value must pass.
KEYS: dict[str, Callable[[str, str], Any]] = {
    "protected": _boolean,
    "spid.base_url": _url,
    "spid.client_id": _client_id,
    "spaaza.base_url": _url,
    "spaaza.user_id": _number,
    "spaaza.chain_id": _number,
    "spaaza.app_hostname": _hostname,
    "spaaza.api_version": _version,
}
# Secrets live in the keyring, put there by 'auth login', which checks them first.
SECRETS = {
    "spid.client_secret": "auth login spid",
    "spid.sign_secret": "auth login spid --sign-secret",
    "spid.token": "auth login spid (or VOUCHERCTL_SPID_TOKEN)",
    "spaaza.session_key": "auth login spaaza --session",
    "spaaza.token": "auth login spaaza --token",
    "spaaza.password": "auth login spaaza",
}

Key = Annotated[str, typer.Argument(metavar="KEY", help="A dotted key, e.g. spaaza.chain_id.")]


def _known(key: str) -> str:
    """``key`` when a profile has it; a secret or an unknown key is a usage error."""
    wanted = key.strip().lower()
    if wanted in SECRETS or wanted.rsplit(".", 1)[-1] in {"secret", "password", "session_key"}:
        how = SECRETS.get(wanted, "auth login")
        raise UsageError(
            f"{escape_control(key)!r} is a secret: secrets never go into config.toml; "
            f"store it with 'voucherctl {how}'"
        )
    if wanted not in KEYS:
        raise UsageError(f"no setting {escape_control(key)!r}; the settings: {', '.join(KEYS)}")
    return wanted


def _profile(env: Environment) -> tuple[config.ConfigFile, config.Profile]:
    """The file and the profile chosen; one named (--profile, VOUCHERCTL_PROFILE) that the
    file does not define is exit 2, profile_unknown (docs/contract.md#configuration)."""
    if env.options.sandbox:
        raise UsageError("the sandbox has no settings: it needs none")
    path = config.config_dir(env.environ) / "config.toml"
    file = config.ConfigFile(path)
    chosen = env.options.profile or config.env_value(env.environ, "VOUCHERCTL_PROFILE")
    profile = file.profile(chosen or config.DEFAULT_PROFILE)
    if chosen and not profile.defined:
        raise ProfileUnknownError(
            f"profile {chosen!r} is not defined in {path}; "
            f"'voucherctl config set KEY VALUE --profile {chosen}' creates it"
        )
    return file, profile


def _name(env: Environment) -> str:
    if env.options.sandbox:
        raise UsageError("the sandbox has no settings: it needs none")
    chosen = env.options.profile or config.env_value(env.environ, "VOUCHERCTL_PROFILE")
    return chosen or config.DEFAULT_PROFILE


def _value(profile: config.Profile, key: str) -> Any:
    if key == "protected":
        return profile.protected
    api, name = key.split(".")
    return getattr(getattr(profile, api), name)


def _getter(key: str) -> Callable[[dict[str, Any]], Any]:
    return lambda record: record[key]


def list_settings(ctx: typer.Context) -> None:
    """List the profile's settings (--profile; else VOUCHERCTL_PROFILE, else default).

    Every setting is listed; one the profile does not set shows blank (null in -o json), and
    the commands then take it from a variable or their default. Secrets are in the keyring:
    'voucherctl auth status' shows them.

    Examples:

    \b
      voucherctl config list
      voucherctl config list --profile prod -o json
    """
    env = environment(ctx)
    _, profile = _profile(env)
    record = {key: _value(profile, key) for key in KEYS}
    title = f"Profile {profile.name!r}" + ("" if profile.defined else " (not in config.toml)")
    rows = [output.Column(key, _getter(key), no_wrap=True) for key in KEYS]
    output.print_record(env, record, rows, title=title)


def get(ctx: typer.Context, key: Key) -> None:
    """Print one setting of the profile; exit 3 when the profile does not set it.

    Examples:

    \b
      voucherctl config get spaaza.chain_id
      voucherctl config get spid.base_url --profile prod
    """
    env = environment(ctx)
    wanted = _known(key)
    _, profile = _profile(env)
    value = _value(profile, wanted)
    if value is None:
        raise NotFoundError(
            f"profile {profile.name!r} does not set {wanted}; "
            f"'voucherctl config set {wanted} VALUE' sets it"
        )
    if env.options.output in ("json", "jsonl"):  # asked for: plain text is what $(...) wants
        env.stdout.write(output.to_json(value) + "\n")
    else:
        env.stdout.write(escape_control(str(value).lower() if value in (True, False) else value))
        env.stdout.write("\n")


def set_setting(
    ctx: typer.Context,
    key: Key,
    value: Annotated[str, typer.Argument(metavar="VALUE", help="The new value.")],
) -> None:
    """Set one setting of the profile, creating the profile when config.toml does not define it
    (the only command that accepts an unknown --profile).

    The value is checked as the commands check it (a base URL must be https:// unless the host
    is loopback, a chain id a number, ...): a bad one is exit 2 and config.toml is left as it
    was. The file is rewritten whole and atomically, readable by you only, every other
    profile kept. A secret is refused: 'voucherctl auth login' stores those in the keyring.

    Examples:

    \b
      voucherctl config set spaaza.chain_id 1000
      voucherctl config set spid.base_url https://login.schibsted.com --profile prod
      voucherctl config set protected true --profile prod
    """
    env = environment(ctx)
    wanted = _known(key)
    checked = KEYS[wanted](value, wanted)
    path = config.config_dir(env.environ) / "config.toml"
    name = _name(env)
    config.edit_profile(path, name, {wanted: checked}, must_exist=False)
    shown = str(checked).lower() if isinstance(checked, bool) else checked
    env.info(f"profile {name!r}: {wanted} = {escape_control(str(shown))} ({path})")


def unset(ctx: typer.Context, key: Key) -> None:
    """Remove one setting from the profile: the commands then take it from a variable or their
    default. Removing one the profile does not set changes nothing.

    Examples:

    \b
      voucherctl config unset spaaza.app_hostname
      voucherctl config unset protected --profile staging
    """
    env = environment(ctx)
    wanted = _known(key)
    path = config.config_dir(env.environ) / "config.toml"
    name = _name(env)
    config.edit_profile(path, name, {wanted: None}, must_exist=True)
    env.info(f"profile {name!r}: {wanted} unset ({path})")
