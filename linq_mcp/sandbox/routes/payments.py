"""Sandbox routes: payments."""

from __future__ import annotations

from ..router import Router

router = Router()
