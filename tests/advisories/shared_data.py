"""Where the shared real data lives (beside the checkout), or a skip when it is absent."""

from __future__ import annotations

from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"


def shared(sub: str) -> Path:
    """The shared data folder ``sub``, skipping the test when it is missing."""
    path = SHARED / sub
    if not path.exists():
        pytest.skip(f"shared data {sub} not found at ../shared/data (see the project README)")
    return path
