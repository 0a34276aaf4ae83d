"""Sandbox routes: attachments."""

from __future__ import annotations

from ..router import Router

router = Router()
