"""Sandbox routes: blocklist."""

from __future__ import annotations

from ..router import Router

router = Router()
