"""Sandbox routes: contact_cards."""

from __future__ import annotations

from ..router import Router

router = Router()
