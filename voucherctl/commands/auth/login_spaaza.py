"""Spaaza's part of ``voucherctl auth``: a session or privileged token into the keyring.

Only the session key (with its user id and expiry) or the token is stored; a password is
used once, for ``/auth/login``, and forgotten.
"""

import json
from dataclasses import dataclass
from typing import Any

from voucherctl.api.spaaza.client import SpaazaClient
from voucherctl.api.spaaza.login_answer import LoginAnswer, Session, is_token
from voucherctl.changes import validate
from voucherctl.cli import clients, prompt
from voucherctl.commands.auth.login import (
    Storage,
    backend_report,
    host_url,
    retire,
    save,
    show_login,
)
from voucherctl.core.errors import AuthError, UsageError, VoucherctlError
from voucherctl.secrets.entries import SpaazaEntry, forget_spaaza
from voucherctl.secrets.keychain import Keychain
from voucherctl.secrets.sets import SPAAZA_ENV_HINT, SpaazaCredentials
from voucherctl.storage import config
from voucherctl.ui.environment import Environment


@dataclass
class Settings:
    """Profile settings given with ``auth login spaaza``."""

    host: str | None
    chain_id: str | None
    app_hostname: str | None
    api_version: str | None

    def apply(self, env: Environment, profile: config.Profile) -> None:
        spaaza = profile.spaaza
        spaaza.base_url = host_url(env, self.host, spaaza.base_url, config.SPAAZA_HOSTS)
        if self.chain_id:
            spaaza.chain_id = validate.numeric_id(self.chain_id, "--chain-id")
        if self.app_hostname:
            hostname = validate.token(self.app_hostname, "--app-hostname")
            if not hostname.isascii():
                raise UsageError("--app-hostname must be an ASCII host name, e.g. shop.example.com")
            spaaza.app_hostname = hostname
        if self.api_version:
            spaaza.api_version = validate.token(self.api_version, "--api-version")


def password_login(
    env: Environment,
    profile: config.Profile,
    storage: Storage,
    settings: Settings,
    username: str | None,
) -> None:
    """Log in with username and password, then the emailed passcode under two-factor login."""
    previous = SpaazaEntry.of(profile)
    settings.apply(env, profile)
    if not username and env.stdin_isatty:
        username = prompt.ask(env, "Spaaza username (email)")
    if not username:
        raise UsageError("--username is required when not on a terminal (or use --session)")
    username = validate.email(username, "--username")
    # Spaaza keeps one session per user: a till signed in as this admin would be logged out.
    # Said before the password is typed on a terminal; after it is read from a pipe, so that a
    # pipe with no password gets its one error line.
    if env.stdin_isatty:
        _warn_other_sessions_end(env, username)
    password = prompt.secret(env, f"Password of {username}", what="password")
    if not env.stdin_isatty:
        _warn_other_sessions_end(env, username)

    client = _client(env, profile, None)
    answer = client.login(username, password)
    session = answer.session or _two_factor(env, client, username, answer)
    _store_session(env, profile, storage, previous, session.user_id, session.key, session.expires)


def _warn_other_sessions_end(env: Environment, username: str) -> None:
    env.warn(
        f"logging in ends every other Spaaza session of {username} (a till signed in as the "
        "same user, say); to keep them, store an existing session with --session instead"
    )


def _two_factor(
    env: Environment, client: SpaazaClient, username: str, answer: LoginAnswer
) -> Session:
    """The session for the passcode Spaaza has just emailed. The login is sent by now, so a
    missing passcode is not a usage error (exit 2 promises nothing was sent): exit 4."""
    assert answer.passcode_key is not None
    until = answer.passcode_expires
    env.info(
        "Two-factor login: Spaaza has emailed you a passcode"
        + (f" (valid until {until} UTC)." if until else ".")
    )
    try:
        passcode = prompt.secret(env, "Passcode", what="passcode")
    except UsageError:
        how = (
            "log in again and type the emailed passcode at the prompt"
            if env.stdin_isatty
            else "give the passcode as a second line on stdin, after the password (a program "
            "can write it once the email has come), or log in on a terminal"
        )
        raise AuthError(
            f"no passcode {'typed' if env.stdin_isatty else 'on stdin'}: the login of "
            f"{username} was sent, so other Spaaza sessions of that user have ended and Spaaza "
            f"emailed a passcode, but nothing was stored; {how}"
        ) from None
    return client.confirm_passcode(passcode, answer.passcode_key)


def store_session(
    env: Environment,
    profile: config.Profile,
    storage: Storage,
    settings: Settings,
    user_id: str | None,
) -> None:
    """Store an existing session (user id, and key from a prompt or stdin) once Spaaza has
    accepted it."""
    previous = SpaazaEntry.of(profile)
    settings.apply(env, profile)
    if not user_id and env.stdin_isatty:
        user_id = prompt.ask(env, "Session user id")
    if not user_id:
        raise UsageError("--session-user-id is required when not on a terminal")
    user_id = validate.numeric_id(user_id, "--session-user-id")
    key = _header_word(prompt.secret(env, "Session key", what="session key"), "session key")
    _check(env, profile, SpaazaCredentials(source="login", user_id=user_id, session_key=key))
    _store_session(env, profile, storage, previous, user_id, key, None)


def store_token(
    env: Environment, profile: config.Profile, storage: Storage, settings: Settings
) -> None:
    """Store a privileged bearer token (from a prompt or stdin) once Spaaza has accepted it."""
    previous = SpaazaEntry.of(profile)
    settings.apply(env, profile)
    token = _header_word(prompt.secret(env, "Privileged token", what="token"), "token")
    _check(env, profile, SpaazaCredentials(source="login", token=token))
    _store(env, profile, storage, previous, None, token, "privileged token")


def _header_word(secret: str, what: str) -> str:
    """A session key or token as every request's header will carry it; exit 2 before sending
    one no header can (its value is never shown)."""
    if not is_token(secret):
        raise UsageError(
            f"the {what} must be a single word of printable ASCII (no spaces); nothing was sent"
        )
    return secret


def _client(
    env: Environment, profile: config.Profile, credentials: SpaazaCredentials | None
) -> SpaazaClient:
    """A client for the profile's host and settings, as the login is about to save them."""
    assert profile.spaaza.base_url
    return clients.build_spaaza(
        env,
        profile.spaaza.base_url,
        credentials,
        api_version=profile.spaaza.api_version,
        app_hostname=profile.spaaza.app_hostname,
    )


def _check(env: Environment, profile: config.Profile, credentials: SpaazaCredentials) -> None:
    """Raise (exit 4 when refused) unless Spaaza accepts these credentials; before anything is
    stored, so refused ones leave the profile and the keyring as they were."""
    chain_id = env.var("VOUCHERCTL_SPAAZA_CHAIN_ID") or profile.spaaza.chain_id
    try:
        _client(env, profile, credentials).check_session(chain_id)
    except AuthError as exc:
        what = "privileged token" if credentials.token else f"session of user {credentials.user_id}"
        detail = exc.message.partition("; the session may have expired")[0]
        raise AuthError(f"Spaaza refused the {what}; nothing was stored ({detail})") from None


def _store_session(
    env: Environment,
    profile: config.Profile,
    storage: Storage,
    previous: SpaazaEntry | None,
    user_id: str,
    key: str,
    expires: Any,
) -> None:
    record = json.dumps({"user_id": user_id, "session_key": key, "expires": expires})
    until = f", valid until {expires} UTC" if expires else ""
    _store(env, profile, storage, previous, user_id, record, f"session of user {user_id}{until}")


def _store(
    env: Environment,
    profile: config.Profile,
    storage: Storage,
    previous: SpaazaEntry | None,
    user_id: str | None,
    value: str,
    what: str,
) -> None:
    """Store the session (of ``user_id``) or privileged token, and point the profile at it.
    One credential per profile: the one it named before is forgotten."""
    assert profile.spaaza.base_url
    host = profile.spaaza.base_url
    entry = SpaazaEntry(host, user_id)
    storage.warn(env)
    storage.keychain.set(entry.name, value)
    profile.spaaza.user_id = user_id
    save(env, profile)
    _retire(env, storage.keychain, previous, entry)
    env.info(f"Stored the Spaaza {what} for {host} in {storage.where()}; profile {profile.name!r}.")
    show_login(env, profile, "spaaza", host)


def status(env: Environment) -> dict[str, Any]:
    """Where Spaaza credentials come from, and whether the API accepts them."""
    from voucherctl.cli import clients

    report: dict[str, Any] = {"api": "spaaza", "host": None, "source": None, "configured": False}
    report.update(backend_report(None, SPAAZA_ENV_HINT))
    try:
        report["host"] = clients.spaaza_base_url(env)  # shown even when credentials are missing
        client = clients.spaaza(env)
    except VoucherctlError as exc:
        return {**report, "ok": False, "detail": exc.message, "exit_code": int(exc.exit_code)}
    credentials = client.credentials
    assert credentials is not None
    report.update(host=client.base_url, source=credentials.source, configured=True)
    report.update(backend_report(credentials.source, SPAAZA_ENV_HINT))
    try:
        client.check_session(clients.spaaza_chain_id(env, None))
    except VoucherctlError as exc:
        return {**report, "ok": False, "detail": exc.message, "exit_code": int(exc.exit_code)}
    kind = "privileged token" if credentials.token else f"session of user {credentials.user_id}"
    until = f", valid until {credentials.expires} UTC" if credentials.expires else ""
    return {**report, "ok": True, "detail": f"{kind} accepted{until}", "exit_code": 0}


def _retire(
    env: Environment, keychain: Keychain, previous: SpaazaEntry | None, entry: SpaazaEntry
) -> None:
    """Forget the credential the profile named before this login."""
    if previous is not None and previous.name != entry.name:  # not the same, however spelt
        old = previous
        what = f"the previous Spaaza credentials for {old.base_url}"
        retire(env, what, lambda: forget_spaaza(keychain, old))


def forget(env: Environment, profile: config.Profile) -> bool:
    """Remove the session or token the profile names at its host (never another host's or
    user's); True when anything was stored."""
    entry = SpaazaEntry.of(profile)
    removed = entry is not None and forget_spaaza(Keychain(SPAAZA_ENV_HINT), entry)
    if profile.defined and profile.spaaza.user_id:
        profile.spaaza.user_id = None
        save(env, profile)
    return removed
