"""Settings, from three places in a fixed precedence: flags > environment > TOML file.

Each setting has one name, used in the TOML file (``[section] key``), as a flag
(``--key``) and, where it makes sense, as an environment variable. The ``[safety]``
section is kept raw here and interpreted by ``linq_mcp.policy``.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

DEFAULT_BASE_URL = "https://api.linqapp.com/api/partner"
# Polling faster than once a second spends the rate limit for nothing; slower than daily is not a fallback.
POLL_INTERVAL_RANGE = (1.0, 86400.0)


class SettingsError(ValueError):
    """A bad configuration value; the message names the setting and the fix."""


@dataclass(frozen=True)
class Settings:
    # the Linq API
    api_key: str | None = None
    api_key_source: str | None = None  # where the key came from (never the key itself)
    base_url: str = DEFAULT_BASE_URL
    timeout: float = 30.0
    max_retries: int = 3
    # sandbox
    sandbox: bool = False
    sandbox_config: str | None = None
    sandbox_seed: int | None = None
    # serving
    transport: str = "stdio"  # stdio | http
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
    safety: Any = field(default_factory=dict)  # the raw [safety] table, or a merged SafetyConfig
    config_file: str | None = None

    @property
    def is_loopback(self) -> bool:
        return self.host in ("127.0.0.1", "localhost", "::1", "[::1]")

    def redacted(self) -> dict[str, Any]:
        """For diagnostics: every setting, secrets replaced by whether they are set."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in ("api_key", "auth_token", "secret"):
                value = "set" if value else "unset"
            elif f.name == "store_url" and value:
                value = store_display(value)
            elif f.name == "webhook_secrets":
                value = f"{len(value)} set"
            out[f.name] = value
        return out


# TOML layout: section -> {key: settings field}
_FILE_KEYS: dict[str, dict[str, str]] = {
    "linq": {"api_key": "api_key", "base_url": "base_url", "timeout": "timeout", "max_retries": "max_retries"},
    "sandbox": {"enabled": "sandbox", "config": "sandbox_config", "seed": "sandbox_seed"},
    "server": {
        "transport": "transport",
        "host": "host",
        "port": "port",
        "stateless": "stateless",
        "auth_token": "auth_token",
        "allowed_hosts": "allowed_hosts",
        "allowed_origins": "allowed_origins",
        "toolsets": "toolsets",
        "tools": "tools",
        "exclude_tools": "exclude_tools",
        "read_only": "read_only",
        "allow_payment_credentials": "allow_payment_credentials",
        "log_level": "log_level",
    },
    "store": {"url": "store_url"},
    "events": {
        "db_path": "db_path",
        "webhook_secrets": "webhook_secrets",
        "webhooks_port": "webhooks_port",
        "poll_interval": "poll_interval",
    },
}

_ENV_KEYS: dict[str, str] = {
    "LINQ_API_V3_BASE_URL": "base_url",
    "LINQ_MCP_AUTH_TOKEN": "auth_token",
    "LINQ_MCP_SECRET": "secret",
    "LINQ_MCP_TOOLSETS": "toolsets",
    "LINQ_MCP_TOOLS": "tools",
    "LINQ_MCP_EXCLUDE_TOOLS": "exclude_tools",
    "LINQ_MCP_READ_ONLY": "read_only",
    "LINQ_MCP_SANDBOX": "sandbox",
    "LINQ_MCP_TRANSPORT": "transport",
    "LINQ_MCP_HOST": "host",
    "LINQ_MCP_PORT": "port",
    "LINQ_MCP_DB_PATH": "db_path",
    "LINQ_MCP_STORE_URL": "store_url",
    "LINQ_MCP_POLL_INTERVAL": "poll_interval",
    "LINQ_MCP_LOG_LEVEL": "log_level",
}

_TYPES: dict[str, type] = {f.name: f.type for f in fields(Settings)}  # type: ignore[misc]


def _coerce(name: str, value: Any, source: str) -> Any:
    """Turn a file/env/flag value into the field's type, or say exactly what is wrong."""
    kind = str(_TYPES[name])
    try:
        if "tuple" in kind:
            if isinstance(value, str):
                return tuple(v.strip() for v in value.split(",") if v.strip())
            if isinstance(value, list | tuple):
                return tuple(str(v) for v in value)
            raise TypeError
        if kind.startswith("bool"):
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text in ("1", "true", "yes", "on"):
                return True
            if text in ("0", "false", "no", "off", ""):
                return False
            raise ValueError
        if "int" in kind and "float" not in kind:
            if value is None or value == "":
                return None if "None" in kind else 0
            return int(value)
        if "float" in kind:
            if value is None or value == "":
                return None if "None" in kind else 0.0
            return float(value)
        if value is None:
            return None
        return str(value)
    except (TypeError, ValueError):
        raise SettingsError(f"{source}: {name} has a bad value {value!r} (expected {kind})") from None


def read_file(path: str | Path) -> dict[str, Any]:
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise SettingsError(f"--config: no such file {path}") from None
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"--config {path}: not valid TOML ({exc})") from None


def from_file(data: Mapping[str, Any], source: str = "config file") -> dict[str, Any]:
    values: dict[str, Any] = {}
    for section, table in data.items():
        if section == "safety":
            values["safety"] = dict(table)
            continue
        keys = _FILE_KEYS.get(section)
        if keys is None:
            if section in ("sandbox_world",):
                continue
            raise SettingsError(f"{source}: unknown section [{section}]; known: {', '.join([*_FILE_KEYS, 'safety'])}")
        if not isinstance(table, Mapping):
            raise SettingsError(f"{source}: [{section}] must be a table")
        for key, value in table.items():
            target = keys.get(key)
            if target is None:
                raise SettingsError(f"{source}: unknown key {key!r} in [{section}]; known: {', '.join(keys)}")
            values[target] = _coerce(target, value, f"{source} [{section}]")
    return _zero_is_off(values)


def from_env(environ: Mapping[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    key = environ.get("LINQ_API_V3_API_KEY") or environ.get("LINQ_API_KEY")
    if key:
        values["api_key"] = key.strip()
    secret = environ.get("LINQ_WEBHOOK_SECRET")
    if secret:
        values["webhook_secrets"] = tuple(s.strip() for s in secret.split(",") if s.strip())
    for env, name in _ENV_KEYS.items():
        if environ.get(env):
            values[name] = _coerce(name, environ[env], f"environment {env}")
    return _zero_is_off(values)


def _zero_is_off(values: dict[str, Any]) -> dict[str, Any]:
    """``poll_interval = 0`` in a file or the environment is documented as "off" (config.example.toml).

    Only there: a flag is left out to mean off, so ``--poll-interval 0`` is refused like any bad value.
    """
    if values.get("poll_interval") == 0:
        values["poll_interval"] = None
    return values


def load(
    flags: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
    config_file: str | None = None,
) -> Settings:
    """Merge the three sources. ``flags`` holds only the flags the user actually gave."""
    environ = os.environ if environ is None else environ
    flags = {k: v for k, v in (flags or {}).items() if v is not None}
    path = config_file or flags.get("config_file") or environ.get("LINQ_MCP_CONFIG")
    merged: dict[str, Any] = {}
    if path:
        merged.update(from_file(read_file(path), f"config {path}"))
        merged["config_file"] = str(path)
    merged.update(from_env(environ))
    for name, value in flags.items():
        if name not in _TYPES:
            continue
        merged[name] = _coerce(name, value, f"--{name.replace('_', '-')}") if name != "safety" else value
    if merged.get("api_key"):
        merged.setdefault("api_key_source", _key_source(flags, environ, path))
    else:
        _from_linq_cli(merged, environ)
    if isinstance(merged.get("auth_token"), str):
        merged["auth_token"] = merged["auth_token"].strip()  # a pasted token's newline is not part of it
    settings = replace(Settings(), **merged)
    validate(settings)
    return settings


def _key_source(flags: Mapping[str, Any], environ: Mapping[str, str], path: Any) -> str:
    from linq_mcp.config.credentials import env_key_source

    if flags.get("api_key"):
        return "--api-key"
    return env_key_source(environ) or f"config {path} [linq] api_key"


def _from_linq_cli(merged: dict[str, Any], environ: Mapping[str, str]) -> None:
    """No key anywhere else: the Linq CLI's ``~/.linq/config.json`` (``LINQ_PROFILE``), as Linq's own server does."""
    from linq_mcp.config.credentials import read_linq_cli

    found = read_linq_cli(environ)
    if found is not None and found.token:
        merged["api_key"] = found.token
        merged["api_key_source"] = found.source


def validate(settings: Settings) -> None:
    if settings.transport not in ("stdio", "http"):
        raise SettingsError(f"transport must be 'stdio' or 'http', got {settings.transport!r}")
    if not (0 <= settings.port < 65536):
        raise SettingsError(f"port must be 0-65535, got {settings.port}")
    if settings.secret is not None and len(settings.secret.strip()) < 32:
        raise SettingsError(
            "LINQ_MCP_SECRET must be at least 32 characters of random text "
            '(e.g. python -c "import secrets; print(secrets.token_hex(32))"), or unset to use a generated one'
        )
    if settings.max_retries < 0:
        raise SettingsError("max_retries must be 0 or more")
    if settings.timeout <= 0:
        raise SettingsError("timeout must be a positive number of seconds")
    if settings.log_level.lower() not in ("debug", "info", "warning", "error", "critical"):
        raise SettingsError(f"log_level must be debug, info, warning, error or critical; got {settings.log_level!r}")
    if settings.auth_token is not None and not settings.auth_token.strip():
        raise SettingsError(
            "the auth token (LINQ_MCP_AUTH_TOKEN or --auth-token) is blank: set a real secret, e.g. the output "
            "of `python -c 'import secrets; print(secrets.token_urlsafe(32))'`, or unset it"
        )
    _check_poll_interval(settings.poll_interval)
    if settings.store_url is not None:
        store_display(settings.store_url)
    if not settings.base_url.startswith(("http://", "https://")):
        raise SettingsError(f"base_url must start with https:// (got {settings.base_url!r})")


def store_display(url: str) -> str:
    """The store URL fit to print (password hidden; the password is registered for redaction)."""
    from linq_mcp.store.url import parse_url

    try:
        return parse_url(url)[1]
    except ValueError as exc:
        raise SettingsError(str(exc)) from None


def _check_poll_interval(value: float | None) -> None:
    """Seconds between polls, or None for no polling (a file's or the environment's 0 means None).

    NaN and infinity fail the range check too: neither is a number of seconds.
    """
    low, high = POLL_INTERVAL_RANGE
    if value is not None and not low <= value <= high:
        raise SettingsError(
            f"--poll-interval (LINQ_MCP_POLL_INTERVAL, [events] poll_interval) must be a number of seconds "
            f"from {low:g} to {high:g}, e.g. --poll-interval 10; got {value:g}. Leave it out to rely on webhooks"
        )
