"""Where the Linq API key comes from, and the Linq CLI's credentials file.

People who already use Linq's own CLI have run ``linq login``, which keeps the token in
``~/.linq/config.json``::

    {"version": 2, "profile": "default",
     "profiles": {"default": {"token": "...", "fromPhone": "+1..."}}}

``LINQ_PROFILE`` chooses the profile, else the file's ``profile``. Linq's own MCP server
falls back to this file when ``LINQ_API_V3_API_KEY`` is unset; so does linq-mcp. Desktop
apps start MCP servers without the shell's exported variables, so this file is often the
only place a key can be found without writing it into a client's config.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

ENV_KEYS = ("LINQ_API_V3_API_KEY", "LINQ_API_KEY")


@dataclass(frozen=True)
class CliCredentials:
    """What the Linq CLI's file says for the active profile; ``problem`` when it cannot be used."""

    path: Path
    profile: str
    token: str | None
    problem: str | None = None

    @property
    def source(self) -> str:
        return f"{self.path} (Linq CLI profile {self.profile!r})"


def linq_cli_config_path(environ: Mapping[str, str] | None = None) -> Path:
    """``$HOME/.linq/config.json``: the Linq CLI reads ``HOME`` first, as we do."""
    environ = os.environ if environ is None else environ
    home = environ.get("HOME") or environ.get("USERPROFILE")
    return (Path(home) if home else Path.home()) / ".linq" / "config.json"


def read_linq_cli(environ: Mapping[str, str] | None = None) -> CliCredentials | None:
    """The active profile's token, or None when there is no file at all."""
    environ = os.environ if environ is None else environ
    path = linq_cli_config_path(environ)
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as exc:
        return CliCredentials(path, "", None, f"cannot read it ({exc.strerror})")
    try:
        data = json.loads(raw)
    except ValueError:
        return CliCredentials(path, "", None, "it is not valid JSON (run 'linq login' again)")
    if not isinstance(data, dict) or not isinstance(data.get("profiles"), dict):
        return CliCredentials(path, "", None, "it has no 'profiles' object (run 'linq login' again)")
    profile = environ.get("LINQ_PROFILE") or str(data.get("profile") or "default")
    entry = data["profiles"].get(profile)
    if not isinstance(entry, dict):
        known = ", ".join(sorted(str(k) for k in data["profiles"])) or "none"
        return CliCredentials(path, profile, None, f"it has no profile {profile!r} (profiles: {known})")
    token = entry.get("token")
    if not isinstance(token, str) or not token.strip():
        return CliCredentials(path, profile, None, f"profile {profile!r} has no token (run 'linq login')")
    return CliCredentials(path, profile, token.strip())


def env_key_source(environ: Mapping[str, str]) -> str | None:
    """The name of the environment variable that holds the key, if one does."""
    for name in ENV_KEYS:
        if environ.get(name, "").strip():
            return name
    return None
