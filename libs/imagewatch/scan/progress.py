"""A one-line progress display on stderr for ``imagewatch scan``, only on a terminal.

The scan updates counters (layers fetched and their bytes, layers analysed per
stage); a background task redraws the line a few times a second. When stderr
is not a terminal nothing is ever written, so CI logs and pipes stay clean.
"""

from __future__ import annotations

import asyncio
import sys
import time
from typing import TextIO


def human_bytes(n: int) -> str:
    """``n`` bytes as ``812 B``, ``12.3 kB``, ``4.5 MB`` or ``1.2 GB``."""
    if n < 1000:
        return f"{n} B"
    for unit, scale in (("kB", 1e3), ("MB", 1e6), ("GB", 1e9)):
        if n < scale * 1000 or unit == "GB":
            return f"{n / scale:.1f} {unit}"
    return f"{n} B"


class Progress:
    """Counters of one scan and, when ``enabled``, their line on ``stream``."""

    def __init__(self, stream: TextIO | None = None, enabled: bool | None = None, interval: float = 0.2) -> None:
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self.interval = interval
        self.stage = "resolving"
        self.layers = 0
        self.fetched = 0
        self.bytes = 0
        self.analysed: dict[str, int] = {}
        self.started = time.monotonic()
        self._task: asyncio.Task | None = None
        self._width = 0

    def set_stage(self, stage: str, layers: int | None = None) -> None:
        """Name what the scan does now; ``layers`` is the image's layer count once known."""
        self.stage = stage
        if layers is not None:
            self.layers = layers

    def add_fetched(self, nbytes: int) -> None:
        """One more layer blob downloaded (or read and verified) of ``nbytes``."""
        self.fetched += 1
        self.bytes += nbytes

    def add_analysed(self, stage: str) -> None:
        """One more layer reached by ``stage`` (``inventory`` or ``secrets``), cached or read."""
        self.analysed[stage] = self.analysed.get(stage, 0) + 1

    def line(self) -> str:
        """The text of the progress line."""
        parts = [f"{self.stage}", f"fetched {self.fetched} layers ({human_bytes(self.bytes)})"]
        parts += [f"{stage} {n}/{self.layers}" for stage, n in self.analysed.items()]
        return ", ".join(parts) + f", {time.monotonic() - self.started:.1f}s"

    def _draw(self, text: str) -> None:
        pad = max(0, self._width - len(text))
        self.stream.write("\r" + text + " " * pad)
        self.stream.flush()
        self._width = len(text)

    async def _loop(self) -> None:
        while True:
            self._draw(self.line())
            await asyncio.sleep(self.interval)

    def start(self) -> None:
        """Begin redrawing (no-op when disabled); call from a running event loop."""
        if self.enabled and self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._loop())

    async def stop(self) -> None:
        """Stop redrawing: show the final counts once, then erase the line."""
        if self._task is None:
            return
        self._task.cancel()
        try:
            await self._task
        except asyncio.CancelledError:
            pass
        self._task = None
        self._draw(self.line())
        self._draw("")
        self.stream.write("\r")
        self.stream.flush()
