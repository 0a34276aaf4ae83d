"""``linq-mcp demo`` runs end to end and shows the person being asked on a 2026-07-28 connection."""

from __future__ import annotations

import subprocess
import sys


def test_the_demo_shows_the_person_confirming_the_first_message() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "linq_mcp", "demo", "--fast"], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "protocol: 2026-07-28" in out
    assert "linq-mcp asks the person" in out and "Hi Ava! Are you free for dinner on Friday?" in out
    assert "confirmed: by the person, not the model" in out
    assert "confirm_token" not in out
