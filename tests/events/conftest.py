"""Fixtures for the events layer: fast sandbox timings, both protocol eras."""

from __future__ import annotations

import pytest

from linq_mcp.sandbox.config import SandboxConfig, TimingConfig


@pytest.fixture
def sandbox_config() -> SandboxConfig:
    # Fast but real timers: delivery, read and reply within a fraction of a second.
    return SandboxConfig(seed=1234, timing=TimingConfig(sent=0.01, delivered=0.02, read=0.03, reply=0.05))


@pytest.fixture(params=["legacy", "auto"], ids=["2025-11-25", "2026-07-28"])
def era(request: pytest.FixtureRequest) -> str:
    return str(request.param)
