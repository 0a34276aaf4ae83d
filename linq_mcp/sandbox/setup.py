"""Populate a new world from its config: the partner's lines and their ids."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .state import World


def add_lines(world: World) -> None:
    """The config's lines, as the API shows them (an id is drawn when the config names none)."""
    for line in world.config.lines:
        line_id = line.id or world.new_id()
        world.lines[line_id] = {
            "id": line_id,
            "phone_number": line.phone_number,
            "line_type": line.line_type,
            "status": line.status,
            "forwarding_number": None,
            "reputation": {"status": "HEALTHY", "doc_url": "https://docs.linqapp.com/guides/reputation"},
            "_zero_retention": line.zero_retention,
        }
