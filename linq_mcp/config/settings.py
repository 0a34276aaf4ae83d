"""Settings: one typed model, one definition per option, read from flags > environment > TOML.

``OPTIONS`` (read from the data file ``options.toml``) is the only list of options: each
names its settings field once, with its TOML key, its environment variables and its flag. ``add_arguments`` builds the
command-line flags from it, ``load`` reads the three sources through it, and the
``Settings`` model (a pydantic dataclass, with the ``[safety]`` section as a nested
``SafetyConfig``) checks every value. Whatever the source, a bad value gives the same
one-line ``SettingsError``: where the value came from, what is wrong, every spelling of
the option and an example.
"""

from __future__ import annotations

import argparse
import math
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import ConfigDict, ValidationError, field_validator, model_validator
from pydantic.dataclasses import dataclass as model

from linq_mcp.policy.config import SafetyConfig

__all__ = ["OPTIONS", "Option", "Settings", "SettingsError", "add_arguments", "load", "read_file"]

DEFAULT_BASE_URL = "https://api.linqapp.com/api/partner"
# Polling faster than once a second spends the rate limit for nothing; slower than daily is not a fallback.
POLL_INTERVAL_RANGE = (1.0, 86400.0)
SECRET_FIELDS = frozenset({"api_key", "v2_token", "auth_token", "secret", "webhook_secrets", "store_url"})
LOG_LEVELS = ("debug", "info", "warning", "error", "critical")


class SettingsError(ValueError):
    """A bad configuration value; the message names the setting and the fix."""


def _strings(raw: Any) -> Any:
    """A list from TOML, or a comma-separated string from a flag or the environment."""
    if isinstance(raw, str):
        return tuple(v.strip() for v in raw.split(",") if v.strip())
    if isinstance(raw, list | tuple):
        return tuple(str(v).strip() for v in raw if str(v).strip())
    return raw


@model(frozen=True, config=ConfigDict(extra="forbid"))
class Settings:
    # the Linq API
    api_key: str | None = None
    api_key_source: str | None = None  # where the key came from (never the key itself)
    base_url: str = DEFAULT_BASE_URL
    # the legacy V2 API (toolset v2): its own token only where it differs from the V3 key,
    # and its own origin only where it is not the V3 base URL's
    v2_token: str | None = None
    v2_base_url: str | None = None
    timeout: float = 30.0
    max_retries: int = 3
    # sandbox
    sandbox: bool = False
    sandbox_config: str | None = None
    sandbox_seed: int | None = None
    # serving
    transport: Literal["stdio", "http"] = "stdio"
    host: str = "127.0.0.1"
    port: int = 8000
    stateless: bool = False
    auth_token: str | None = None
    allowed_hosts: tuple[str, ...] = ()
    allowed_origins: tuple[str, ...] = ()
    # signs confirm_tokens and seals requestState (env LINQ_MCP_SECRET); see linq_mcp/config/secret.py
    secret: str | None = None
    # tools
    toolsets: tuple[str, ...] = ("default",)
    tools: tuple[str, ...] = ()
    exclude_tools: tuple[str, ...] = ()
    read_only: bool = False
    allow_payment_credentials: bool = False
    # storage: a postgresql:// URL shared by replicas (linq_mcp/store); the SQLite file when unset
    store_url: str | None = None
    # events
    db_path: str | None = None
    webhook_secrets: tuple[str, ...] = ()
    webhooks_port: int | None = None
    poll_interval: float | None = None
    # misc
    log_level: str = "warning"
    safety: SafetyConfig = field(default_factory=SafetyConfig)
    config_file: str | None = None

    @field_validator(
        "allowed_hosts", "allowed_origins", "toolsets", "tools", "exclude_tools", "webhook_secrets", mode="before"
    )
    @classmethod
    def _lists(cls, raw: Any) -> Any:
        return _strings(raw)

    @field_validator("sandbox", "stateless", "read_only", "allow_payment_credentials", mode="before")
    @classmethod
    def _flag(cls, raw: Any) -> Any:
        if isinstance(raw, str):
            text = raw.strip().lower()
            if text in ("1", "true", "yes", "on"):
                return True
            if text in ("0", "false", "no", "off", ""):
                return False
            raise ValueError("use true or false")
        return raw

    @field_validator("transport", mode="before")
    @classmethod
    def _transport(cls, raw: Any) -> Any:
        if raw not in ("stdio", "http"):
            raise ValueError("use stdio or http")
        return raw

    @field_validator("port")
    @classmethod
    def _port(cls, value: int) -> int:
        if not 0 <= value < 65536:
            raise ValueError("use a port number from 0 to 65535")
        return value

    @field_validator("timeout")
    @classmethod
    def _timeout(cls, value: float) -> float:
        if not (value > 0 and math.isfinite(value)):
            raise ValueError("use a positive number of seconds")
        return value

    @field_validator("max_retries")
    @classmethod
    def _retries(cls, value: int) -> int:
        if value < 0:
            raise ValueError("use 0 or more")
        return value

    @field_validator("log_level")
    @classmethod
    def _log_level(cls, value: str) -> str:
        if value.lower() not in LOG_LEVELS:
            raise ValueError(f"use one of {', '.join(LOG_LEVELS)}")
        return value

    @field_validator("auth_token")
    @classmethod
    def _auth_token(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError(
                "the auth token is blank: set a real secret, e.g. the output of "
                "`python -c 'import secrets; print(secrets.token_urlsafe(32))'`, or unset it"
            )
        return value.strip() if value is not None else None  # a pasted token's newline is not part of it

    @field_validator("secret")
    @classmethod
    def _secret(cls, value: str | None) -> str | None:
        if value is not None and len(value.strip()) < 32:
            raise ValueError(
                "must be at least 32 characters of random text "
                '(e.g. python -c "import secrets; print(secrets.token_hex(32))"), or unset to use a generated one'
            )
        return value

    @field_validator("base_url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with https://")
        return value

    @field_validator("v2_base_url")
    @classmethod
    def _v2_base_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must start with https://")
        return value

    @field_validator("store_url")
    @classmethod
    def _store_url(cls, value: str | None) -> str | None:
        if value is not None:
            store_display(value)
        return value

    @model_validator(mode="after")
    def _safety_holds(self) -> Settings:
        self.safety.validate()
        return self

    @property
    def is_loopback(self) -> bool:
        return self.host in ("127.0.0.1", "localhost", "::1", "[::1]")

    def redacted(self) -> dict[str, Any]:
        """For diagnostics: every setting, secrets replaced by whether they are set."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "webhook_secrets":
                value = f"{len(value)} set"
            elif f.name == "store_url" and value:
                value = store_display(value)
            elif f.name in SECRET_FIELDS:
                value = "set" if value else "unset"
            out[f.name] = value
        return out


def store_display(url: str) -> str:
    """The store URL fit to print (password hidden; the password is registered for redaction)."""
    from linq_mcp.store.url import parse_url

    return parse_url(url)[1]  # ValueError names what is wrong with the URL


# ---------------------------------------------------------------------------------- the options


@dataclass(frozen=True)
class Option:
    """One option: its settings field and every way to set it."""

    name: str  # the Settings field, or "safety.<key>"
    toml: str | None = None  # "[section] key"; None: not in the file
    env: tuple[str, ...] = ()  # the first one set wins
    flag: str | None = None
    help: str = ""
    example: str = ""
    group: str = "Linq"
    repeat: bool = False  # the flag is given once per value (else one comma-separated value)
    switch: bool = False  # the flag takes no value (sets true)
    dest: str = ""  # argparse destination; defaults to the field name

    @property
    def target(self) -> str:
        return self.dest or self.name.replace(".", "__")

    def spellings(self) -> str:
        names = [n for n in (self.flag, *self.env, self.toml) if n]
        return ", ".join(names)

    def fix(self) -> str:
        if not self.example:
            return ""
        if self.flag and not self.switch:
            return f" (e.g. {self.flag} {self.example})"
        return f" (e.g. {self.toml.rsplit(' ', 1)[-1] if self.toml else self.name} = {self.example})"


def _read_options() -> tuple[Option, ...]:
    """``options.toml``: every option once (data, not code)."""
    text = resources.files("linq_mcp.config").joinpath("options.toml").read_text("utf-8")
    options = []
    for row in tomllib.loads(text)["option"]:
        row["env"] = tuple(row.get("env", ()))
        options.append(Option(**row))
    return tuple(options)


OPTIONS: tuple[Option, ...] = _read_options()

_BY_NAME = {option.name: option for option in OPTIONS}
_BY_TOML: dict[str, dict[str, Option]] = {}
for _option in OPTIONS:
    if _option.toml:
        _section, _key = _option.toml[1:].split("] ")
        _BY_TOML.setdefault(_section, {})[_key] = _option
IGNORED_SECTIONS = ("sandbox_world",)  # read by the sandbox, not by the server

_GROUPS = {
    "serving": None,
    "Linq": None,
    "tools": None,
    "events": None,
    "safety": "Whom the assistant may text, how often, and with what checks.",
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Every option that has a flag. Defaults are ``None``: ``load`` sees only flags actually given."""
    groups = {name: parser.add_argument_group(name, text) for name, text in _GROUPS.items()}
    for option in OPTIONS:
        if option.flag is None:
            continue
        group = groups[option.group]
        metavar = option.flag.removeprefix("--").upper().replace("-", "_")
        if option.switch:
            group.add_argument(option.flag, dest=option.target, action="store_true", default=None, help=option.help)
        elif option.repeat:
            group.add_argument(option.flag, dest=option.target, action="append", metavar=metavar, help=option.help)
        else:
            group.add_argument(option.flag, dest=option.target, metavar=metavar, help=option.help)


def flags_of(namespace: argparse.Namespace) -> dict[str, Any]:
    """The options given as flags in ``namespace``, by option name."""
    found: dict[str, Any] = {}
    for option in OPTIONS:
        if option.flag is not None and getattr(namespace, option.target, None) is not None:
            found[option.name] = getattr(namespace, option.target)
    return found


# ---------------------------------------------------------------------------------- loading


def read_file(path: str | Path) -> dict[str, Any]:
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise SettingsError(f"--config: no such file {path}") from None
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"--config {path}: not valid TOML ({exc})") from None


def from_file(data: Mapping[str, Any], source: str = "config file") -> dict[str, tuple[Any, str]]:
    """The file's values by option name, each with where it came from."""
    values: dict[str, tuple[Any, str]] = {}
    for section, table in data.items():
        keys = _BY_TOML.get(section)
        if keys is None:
            if section in IGNORED_SECTIONS:
                continue
            raise SettingsError(f"{source}: unknown section [{section}]; known: {', '.join(_BY_TOML)}")
        if not isinstance(table, Mapping):
            raise SettingsError(f"{source}: [{section}] must be a table")
        for key, value in table.items():
            option = keys.get(key)
            if option is None:
                raise SettingsError(f"{source}: unknown key {key!r} in [{section}]; known: {', '.join(keys)}")
            values[option.name] = (value, f"{source} [{section}] {key}")
    return values


def from_env(environ: Mapping[str, str]) -> dict[str, tuple[Any, str]]:
    """The environment's values by option name; empty variables are unset (blank ones are not)."""
    values: dict[str, tuple[Any, str]] = {}
    for option in OPTIONS:
        for name in option.env:
            raw = environ.get(name)
            if raw:
                values[option.name] = (raw.strip() if option.name == "api_key" else raw, f"environment {name}")
                break
    return values


def _zero_is_off(values: dict[str, tuple[Any, str]]) -> None:
    """``poll_interval = 0`` in a file or the environment is documented as "off" (config.example.toml).

    Only there: a flag is left out to mean off, so ``--poll-interval 0`` is refused like any bad value.
    """
    found = values.get("poll_interval")
    if found is not None and str(found[0]).strip() in ("0", "0.0"):
        values["poll_interval"] = (None, found[1])


def load(
    flags: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
    config_file: str | None = None,
) -> Settings:
    """Merge the three sources: flags > environment > file. ``flags`` holds only the flags given."""
    environ = os.environ if environ is None else environ
    given = {k: v for k, v in (flags or {}).items() if v is not None}
    unknown = sorted(set(given) - set(_BY_NAME))
    if unknown:
        raise SettingsError(f"unknown setting(s) {', '.join(unknown)}")
    path = config_file or given.get("config_file") or environ.get("LINQ_MCP_CONFIG")
    merged: dict[str, tuple[Any, str]] = {}
    if path:
        file_values = from_file(read_file(path), f"config {path}")
        _zero_is_off(file_values)
        merged.update(file_values)
        merged["config_file"] = (str(path), "--config")
    env_values = from_env(environ)
    _zero_is_off(env_values)
    merged.update(env_values)
    for name, value in given.items():
        flag = _BY_NAME[name].flag
        merged[name] = (value, flag or name)
    if merged.get("api_key", (None, ""))[0]:
        merged["api_key_source"] = (_key_source(merged["api_key"][1], environ, path), "")
    else:
        _from_linq_cli(merged, environ)
    return build(merged)


def build(values: Mapping[str, tuple[Any, str]]) -> Settings:
    """``Settings`` from values by option name (each with its origin), or one clear ``SettingsError``."""
    top: dict[str, Any] = {}
    safety: dict[str, Any] = {}
    for name, (value, _) in values.items():
        if name.startswith("safety."):
            safety[name.removeprefix("safety.")] = value
        else:
            top[name] = value
    try:
        section = SafetyConfig(**safety)
    except ValidationError as exc:
        raise SettingsError(_explain(exc, values, "safety.")) from None
    try:
        settings = Settings(**top, safety=section)
    except ValidationError as exc:
        raise SettingsError(_explain(exc, values)) from None
    _check_poll_interval(settings.poll_interval, values)
    return settings


def _check_poll_interval(value: float | None, values: Mapping[str, tuple[Any, str]]) -> None:
    """Polling faster than once a second spends the rate limit for nothing; slower than daily is no fallback.

    Checked on what a user configured, not in the model: tests poll fast on purpose. NaN and
    infinity fail the range check too.
    """
    low, high = POLL_INTERVAL_RANGE
    if value is not None and not low <= value <= high:
        reason = f"use a number of seconds from {low:g} to {high:g}, or leave it out to rely on webhooks"
        raise SettingsError(_message("poll_interval", values, reason))


def _explain(exc: ValidationError, values: Mapping[str, tuple[Any, str]], prefix: str = "") -> str:
    """The first bad value, in the same words whatever its source."""
    error = exc.errors()[0]
    name = prefix + str(error["loc"][0]) if error["loc"] else ""
    reason = str(error["msg"]).removeprefix("Value error, ")
    return _message(name, values, reason)


def _message(name: str, values: Mapping[str, tuple[Any, str]], reason: str) -> str:
    """One line: where the value came from, what is wrong, an example, every spelling of the option."""
    option = _BY_NAME.get(name)
    if option is None:  # a check across keys (the safety caps, inbound = "allowlisted")
        return reason
    value, origin = values.get(name, (None, option.spellings()))
    shown = "the value given" if name in SECRET_FIELDS else repr(value)
    return f"{origin}: {shown} is not allowed: {reason}{option.fix()}. Set it with {option.spellings()}"


def _key_source(origin: str, environ: Mapping[str, str], path: Any) -> str:
    from linq_mcp.config.credentials import env_key_source

    if origin.startswith("environment"):
        return env_key_source(environ) or origin
    if origin.startswith("config"):
        return f"config {path} [linq] api_key"
    return "--api-key"


def _from_linq_cli(merged: dict[str, tuple[Any, str]], environ: Mapping[str, str]) -> None:
    """No key anywhere else: the Linq CLI's ``~/.linq/config.json`` (``LINQ_PROFILE``), as Linq's own server does."""
    from linq_mcp.config.credentials import read_linq_cli

    found = read_linq_cli(environ)
    if found is not None and found.token:
        merged["api_key"] = (found.token, found.source)
        merged["api_key_source"] = (found.source, "")
