"""Limits that keep one hostile or huge layer from exhausting memory or disk."""

from __future__ import annotations

import msgspec


class LayerLimits(msgspec.Struct, frozen=True, kw_only=True):
    """Per-layer limits.

    Exceeding ``max_layer_bytes`` (uncompressed tar bytes) or ``max_entries``
    refuses the whole layer (``LayerRefused``). A wanted file larger than
    ``max_file_bytes``, or one that would push the files extracted for analysers
    past ``max_extract_bytes``, is skipped and listed in ``skipped``.
    ``max_read_bytes`` caps what ``read()`` returns to an ``on_entry`` callback.
    """

    max_layer_bytes: int = 8 * 1024**3
    max_entries: int = 1_000_000
    max_file_bytes: int = 512 * 1024**2
    max_extract_bytes: int = 2 * 1024**3
    max_read_bytes: int = 10 * 1024**2
