"""Where imagewatch keeps its files by default (importing nothing heavy, for ``--version``)."""

from __future__ import annotations

import os
from pathlib import Path


def default_data_dir() -> Path:
    """``$XDG_CACHE_HOME/imagewatch``, else ``~/.cache/imagewatch`` (never the working directory)."""
    base = os.environ.get("XDG_CACHE_HOME", "")
    return (Path(base) if base and Path(base).is_absolute() else Path.home() / ".cache") / "imagewatch"
