"""The server secret: one key per machine that signs confirm_tokens and seals ``requestState``.

It comes from ``LINQ_MCP_SECRET`` (at least 32 characters) or, when that is unset, from
a file ``secret`` in the data directory, created once (0600, written atomically) and
then read by every process, so several linq-mcp processes on one machine (two MCP
clients, or HTTP replicas sharing a data directory) accept each other's confirmations.
The sandbox keeps a per-process secret unless ``LINQ_MCP_SECRET`` is set: its world,
database and tokens are all throwaway.

Each use gets its own key derived from the secret (:func:`derive`), so a confirm_token
MAC key is never also an encryption key.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
import stat
import tempfile
from pathlib import Path

from linq_mcp.config.paths import data_dir
from linq_mcp.config.settings import Settings

log = logging.getLogger("linq_mcp.config.secret")

MIN_SECRET_CHARS = 32
SECRET_FILE = "secret"

_cache: dict[tuple[str, ...], bytes] = {}


class SecretError(ValueError):
    """The secret cannot be read or created; the message says where and what to do."""


def server_secret(settings: Settings) -> bytes:
    """The secret for these settings (read or created once per process, then cached)."""
    if settings.secret:
        return settings.secret.strip().encode()
    if settings.sandbox:
        return _cached(("sandbox",), lambda: secrets.token_bytes(32))
    path = secret_path()
    return _cached(("file", str(path)), lambda: load_or_create(path))


def secret_path() -> Path:
    return data_dir() / SECRET_FILE


def derive(secret: bytes, purpose: str) -> bytes:
    """A 32-byte key for one purpose (``"confirm-token"``, ``"request-state"``)."""
    return hmac.new(secret, b"linq-mcp/v1/" + purpose.encode(), hashlib.sha256).digest()


def load_or_create(path: Path) -> bytes:
    """Read the secret file, creating it first if absent; racing processes all end up with one file."""
    try:
        return _read(path)
    except FileNotFoundError:
        pass
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".secret-", dir=path.parent)  # created 0600
        try:
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_hex(32) + "\n")
                fh.flush()
                os.fsync(fh.fileno())
            try:
                os.link(tmp, path)  # atomic and never overwrites: the first process to link wins
            except FileExistsError:
                pass
        finally:
            os.unlink(tmp)
    except OSError as exc:
        raise SecretError(
            f"cannot create the server secret at {path} ({exc.strerror or exc}); set LINQ_MCP_SECRET "
            "(32+ random characters) or LINQ_MCP_DATA_DIR to a writable directory"
        ) from None
    return _read(path)


def _read(path: Path) -> bytes:
    text = path.read_text(encoding="utf-8").strip()
    if len(text) < MIN_SECRET_CHARS:
        raise SecretError(
            f"the server secret in {path} is too short ({len(text)} characters); delete the file to have a new "
            "one generated, or set LINQ_MCP_SECRET"
        )
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        try:
            os.chmod(path, 0o600)
            log.warning("tightened the permissions of %s to 0600 (they were %o)", path, mode)
        except OSError:
            log.warning("%s is readable by other users (mode %o); make it 0600", path, mode)
    return text.encode()


def _cached(key: tuple[str, ...], make: object) -> bytes:
    value = _cache.get(key)
    if value is None:
        assert callable(make)
        value = _cache[key] = make()
    return value
