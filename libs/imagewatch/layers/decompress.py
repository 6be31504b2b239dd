"""Open a layer blob as an uncompressed tar stream: gzip, zstd or plain, by magic bytes.

The media type is only a hint: registries and build tools mislabel layers, so
the first bytes decide. gzip uses python-isal (ISA-L, several times faster
than zlib) when installed, else the standard library; zstd uses ``zstandard``
with frames read back to back (zstd:chunked layers have many).
"""

from __future__ import annotations

import gzip
import io
from typing import BinaryIO

from .errors import LayerRefused

try:
    from isal import igzip as _fast_gzip
except ImportError:  # pragma: no cover - isal is a declared dependency
    _fast_gzip = None

GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
READ_BUFFER = 1024 * 1024
SKIP_CHUNK = 1024 * 1024


class _Raw(io.RawIOBase):
    """Adapts any object with ``read(n)`` to a raw stream, so that it can be buffered and peeked."""

    def __init__(self, src: BinaryIO) -> None:
        self._src = src

    def readable(self) -> bool:
        return True

    def readinto(self, b: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self._src.read(len(b))
        b[:len(data)] = data
        return len(data)


class CountedReader:
    """A forward-only, counting view of the uncompressed tar.

    ``tell`` and forward ``seek`` (skipping by reading) let ``tarfile`` use its
    plain random-access mode, which copies far less than its stream mode.
    Every byte read or skipped counts against ``limit``; past it the layer is refused.
    """

    def __init__(self, raw: BinaryIO, limit: int) -> None:
        self._raw, self._limit = raw, limit
        self.count = 0

    def _add(self, n: int) -> None:
        self.count += n
        if self.count > self._limit:
            raise LayerRefused("layer_bytes", f"layer exceeds {self._limit} uncompressed bytes")

    def read(self, n: int = -1) -> bytes:
        if n is None or n < 0:
            n = self._limit + 1 - self.count
        data = self._raw.read(n)
        self._add(len(data))
        return data

    def tell(self) -> int:
        return self.count

    def seek(self, pos: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_CUR:
            pos += self.count
        elif whence != io.SEEK_SET:
            raise io.UnsupportedOperation("layers: layer streams cannot seek from the end")
        if pos < self.count:
            raise io.UnsupportedOperation("layers: layer streams cannot seek backwards")
        while self.count < pos:
            chunk = self._raw.read(min(pos - self.count, SKIP_CHUNK))
            if not chunk:
                break
            self._add(len(chunk))
        return self.count

    def seekable(self) -> bool:
        return True

    def readable(self) -> bool:
        return True


def sniff(head: bytes, media_type: str = "") -> str:
    """``gzip``, ``zstd``, ``tar`` (or ``empty``) from the first bytes; the media type decides only when too few."""
    if not head:
        return "empty"
    if head.startswith(GZIP_MAGIC):
        return "gzip"
    if head.startswith(ZSTD_MAGIC):
        return "zstd"
    if len(head) >= 4:
        return "tar"
    if media_type.endswith(("gzip", "+gzip")):
        return "gzip"
    return "zstd" if media_type.endswith("zstd") else "tar"


def open_gzip(raw: BinaryIO, prefer_isal: bool = True) -> BinaryIO:
    """A gzip-decompressing reader over ``raw`` (multi-member streams included)."""
    if prefer_isal and _fast_gzip is not None:
        return _fast_gzip.IGzipFile(fileobj=raw, mode="rb")
    return gzip.GzipFile(fileobj=raw, mode="rb")


def open_zstd(raw: BinaryIO) -> BinaryIO:
    """A zstd-decompressing reader over ``raw``, reading every frame."""
    import zstandard

    return zstandard.ZstdDecompressor().stream_reader(raw, read_across_frames=True, closefd=False)


def open_layer(fileobj: BinaryIO, media_type: str = "", prefer_isal: bool = True) -> tuple[BinaryIO, str]:
    """(uncompressed tar reader, detected compression) for a layer blob; ``empty`` for a 0-byte blob."""
    raw = io.BufferedReader(_Raw(fileobj), READ_BUFFER)
    compression = sniff(raw.peek(4)[:4], media_type)
    if compression == "gzip":
        return open_gzip(raw, prefer_isal), compression
    if compression == "zstd":
        return open_zstd(raw), compression
    return raw, compression
