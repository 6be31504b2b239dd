"""The advisory source Protocol: fetch with a fingerprint, then parse.

A fingerprint is an opaque string the source gave back last time (an ETag or
Last-Modified, or several of them); ``fetch`` sends it as a conditional request
and raises ``Unchanged`` when the server says nothing changed. Large payloads
come back as a path in a fresh temporary directory that the caller removes
with ``discard``.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any, Iterator, Protocol, runtime_checkable

from imagewatch.advisories.model import Advisory
from imagewatch.errors import ImagewatchError


class Unchanged(ImagewatchError):
    """The source has not changed since the given fingerprint."""


class SourceError(ImagewatchError, RuntimeError):
    """A source could not be fetched or read; the message starts with the source name."""


@runtime_checkable
class Source(Protocol):
    """One upstream advisory feed (an OSV ecosystem export, Alpine secdb ...)."""

    name: str

    async def fetch(self, session: Any, fingerprint: str | None) -> tuple[bytes | Path, str]:
        """Download the feed with an aiohttp ``session``: (payload, new fingerprint).

        Raises Unchanged when the fingerprint still holds, SourceError on failure.
        """
        ...

    def parse(self, data: bytes | Path) -> Iterator[Advisory]:
        """The advisories in a payload returned by ``fetch`` (or the same kind of file)."""
        ...


def discard(data: bytes | Path) -> None:
    """Remove the temporary directory holding a fetched payload, if any."""
    if isinstance(data, Path):
        shutil.rmtree(data if data.is_dir() else data.parent, ignore_errors=True)
