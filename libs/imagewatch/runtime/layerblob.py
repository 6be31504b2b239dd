"""A layer blob on local disk for the time it is read, and the error for a layer that cannot be read."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

from imagewatch.errors import ImagewatchError
from imagewatch.layers import LayerError

Fetch = Callable[[Path], Awaitable[None]]


class LayerFailed(ImagewatchError):
    """A layer of the image was refused or unreadable; the message starts with ``layers:``, ``reason`` is a word."""

    def __init__(self, diff_id: str, error: LayerError) -> None:
        super().__init__(f"{error} (layer {diff_id})")
        self.diff_id = diff_id
        self.reason = getattr(error, "reason", "unreadable")


@contextlib.asynccontextmanager
async def fetched_blob(fetch: Fetch, tmp_dir: str | Path | None, prefix: str) -> AsyncIterator[Path]:
    """A temporary file (in ``tmp_dir``, named ``prefix…``) that ``fetch`` filled; removed on exit."""
    fd, name = tempfile.mkstemp(prefix=prefix, dir=tmp_dir)
    os.close(fd)
    path = Path(name)
    try:
        await fetch(path)
        yield path
    finally:
        path.unlink(missing_ok=True)
