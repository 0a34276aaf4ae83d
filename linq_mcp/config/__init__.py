"""Configuration: the one settings model (flags > environment > TOML), where data lives,
the server secret, and log redaction.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from linq_mcp._exports import lazy

if TYPE_CHECKING:
    from linq_mcp.config.paths import data_dir, default_db_path
    from linq_mcp.config.redact import redact_logs, register_secret
    from linq_mcp.config.secret import SecretError, server_secret
    from linq_mcp.config.settings import OPTIONS, Settings, SettingsError, load

__all__ = [
    "OPTIONS",
    "SecretError",
    "Settings",
    "SettingsError",
    "data_dir",
    "default_db_path",
    "load",
    "redact_logs",
    "register_secret",
    "server_secret",
]

__getattr__ = lazy(
    __name__,
    {
        "data_dir": "paths",
        "default_db_path": "paths",
        "redact": "redact",
        "redact_logs": "redact",
        "register_secret": "redact",
        "SecretError": "secret",
        "server_secret": "secret",
        "OPTIONS": "settings",
        "Settings": "settings",
        "SettingsError": "settings",
        "load": "settings",
    },
)
