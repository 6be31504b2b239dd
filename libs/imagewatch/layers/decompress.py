"""Open a layer blob as an uncompressed tar stream: gzip, zstd or plain, by magic bytes.

The media type is only a hint: registries and build tools mislabel layers, so
the first bytes decide. gzip uses python-isal (ISA-L, several times faster
than zlib) when installed, else the standard library; zstd uses ``zstandard``
with frames read back to back (zstd:chunked layers have many).
"""

from __future__ import annotations

import gzip
from typing import BinaryIO

from .errors import LayerRefused

try:
    from isal import igzip as _fast_gzip
except ImportError:  # pragma: no cover - isal is a declared dependency
    _fast_gzip = None

GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"


class _Prefixed:
    """A reader that replays ``head`` before the rest of ``raw``."""

    def __init__(self, head: bytes, raw: BinaryIO) -> None:
        self._head, self._raw = head, raw

    def read(self, n: int = -1) -> bytes:
        if not self._head:
            return self._raw.read(n)
        if n is None or n < 0:
            data, self._head = self._head + self._raw.read(), b""
            return data
        data, self._head = self._head[:n], self._head[n:]
        if len(data) < n:
            data += self._raw.read(n - len(data))
        return data

    def readable(self) -> bool:
        return True


class CountedReader:
    """Counts uncompressed bytes read and refuses the layer past ``limit``."""

    def __init__(self, raw: BinaryIO, limit: int) -> None:
        self._raw, self._limit = raw, limit
        self.count = 0

    def read(self, n: int = -1) -> bytes:
        data = self._raw.read(n)
        self.count += len(data)
        if self.count > self._limit:
            raise LayerRefused("layer_bytes", f"layer exceeds {self._limit} uncompressed bytes")
        return data


def sniff(head: bytes, media_type: str = "") -> str:
    """``gzip``, ``zstd`` or ``tar`` from the first bytes; the media type decides only when too few bytes."""
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
    """(uncompressed tar reader, detected compression) for a layer blob."""
    head = fileobj.read(4)
    compression = sniff(head, media_type)
    raw = _Prefixed(head, fileobj)
    if compression == "gzip":
        return open_gzip(raw, prefer_isal), compression  # type: ignore[arg-type]
    if compression == "zstd":
        return open_zstd(raw), compression  # type: ignore[arg-type]
    return raw, compression  # type: ignore[return-value]
