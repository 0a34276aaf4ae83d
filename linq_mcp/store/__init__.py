"""Durable storage: the SQLite connection every store opens the same way."""

from __future__ import annotations

from typing import TYPE_CHECKING

from linq_mcp._exports import lazy

if TYPE_CHECKING:
    from linq_mcp.store.db import connect

__all__ = ["connect"]

__getattr__ = lazy(__name__, {"connect": "db"})
