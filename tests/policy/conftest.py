"""Policy fixtures: a settable clock and policies on a throwaway database file."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from policy_helpers import Clock

from linq_mcp.policy import Policy, SafetyConfig


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "linq-mcp.sqlite3"


@pytest.fixture
def make_policy(db_path: Path, clock: Clock) -> Iterator[Callable[..., Policy]]:
    """``make_policy(**safety_keys)``: a Policy on the shared test DB; calling it again is a restart."""
    opened: list[Policy] = []

    def make(**keys: Any) -> Policy:
        policy = Policy(SafetyConfig.from_mapping(keys), db_path, clock=clock)
        opened.append(policy)
        return policy

    yield make
    for policy in opened:
        policy.close()
