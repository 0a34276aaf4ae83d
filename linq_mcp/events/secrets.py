"""The webhook signing secrets file written by ``linq-mcp webhooks setup``.

It sits next to the database, mode 0600, one secret per line, newest first; a few
older ones are kept so deliveries signed before a re-setup still verify. Secrets are
never printed or logged.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

__all__ = ["KEEP", "read_secrets", "save_secret", "secrets_file", "subscription_of"]

KEEP = 3
FILENAME = "webhook-secrets"


def secrets_file(db_path: Path) -> Path:
    return db_path.with_name(FILENAME)


def read_secrets(path: Path) -> list[str]:
    try:
        text = path.read_text(encoding="utf-8")
    except (FileNotFoundError, PermissionError):
        return []
    return [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]


def subscription_of(path: Path) -> str | None:
    """The subscription id whose secret is first in the file (from its header line)."""
    try:
        first = path.read_text(encoding="utf-8").splitlines()[:1]
    except (FileNotFoundError, PermissionError):
        return None
    prefix = "# subscription "
    return first[0][len(prefix) :].strip() or None if first and first[0].startswith(prefix) else None


def save_secret(path: Path, secret: str, *, subscription_id: str, keep: Sequence[str] = ()) -> None:
    """Write ``secret`` first (then up to ``KEEP - 1`` of ``keep``), atomically, mode 0600."""
    lines = [f"# subscription {subscription_id}", secret, *[s for s in keep if s != secret][: KEEP - 1]]
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".webhook-secrets.", dir=path.parent)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write("\n".join(lines) + "\n")
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    os.chmod(path, 0o600)
