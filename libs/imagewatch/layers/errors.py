"""Errors of the layer reader; every message starts with ``layers:``."""

from __future__ import annotations
from imagewatch.errors import ImagewatchError


class LayerError(ImagewatchError):
    """A layer could not be read (corrupt stream, not a tar)."""


class LayerRefused(LayerError):
    """A layer was refused on purpose: a limit was exceeded or a path escapes the image root.

    ``reason`` is a short machine-readable word (``layer_bytes``, ``entries``,
    ``path_escape``) to record on the scan; the message says the details.
    """

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(f"layers: refused ({reason}): {message}")
        self.reason = reason
