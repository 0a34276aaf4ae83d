"""Sandbox routes: webhook_subscriptions."""

from __future__ import annotations

from ..router import Router

router = Router()
