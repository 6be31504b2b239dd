"""Open a layer blob as an uncompressed tar stream: gzip, zstd or plain, by magic bytes.

The media type is only a hint: registries and build tools mislabel layers, so
the first bytes decide. gzip uses python-isal (ISA-L, several times faster
than zlib) when installed, else the standard library, member by member so that
bytes after the tar are never decoded unless the tar needs them; zstd uses
``zstandard`` with frames read back to back (zstd:chunked layers have many).
"""

from __future__ import annotations

import gzip
import io
import zlib
from typing import BinaryIO

try:
    from isal import isal_zlib as _fast_zlib
except ImportError:  # pragma: no cover - isal is a declared dependency
    _fast_zlib = None

GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
READ_BUFFER = 1024 * 1024
INFLATE_INPUT = 64 * 1024  # small enough that output rarely stops early and input is not copied


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


class _GzipMembers(io.RawIOBase):
    """gzip members back to back, inflated by a zlib-compatible module (isal's releases the GIL).

    One ``read1`` never reaches past the end of the current member, and a
    damaged or foreign next member raises only when its data is asked for:
    bytes after the end of the tar (trailing garbage, a truncated extra member)
    are harmless unless the tar needs them, as with ``gzip.GzipFile`` read in
    small pieces.
    """

    def __init__(self, raw: BinaryIO, inflate) -> None:
        self._raw, self._inflate = raw, inflate
        self._d = None
        self._in = b""

    def readable(self) -> bool:
        return True

    def _input(self, n: int) -> bytes:
        while len(self._in) < n and (more := self._raw.read(INFLATE_INPUT)):
            self._in += more
        return self._in

    def read1(self, n: int = -1) -> bytes:
        """Up to ``n`` bytes (any amount when negative) from the current member; b"" at the end."""
        n = READ_BUFFER if n is None or n < 0 else n
        while n:
            if self._d is None or self._d.eof:
                if self._d is not None:  # zlib also leaves these bytes in unconsumed_tail
                    self._in = self._d.unused_data or self._in
                magic = self._input(2)[:2]
                if not magic:
                    return b""
                if magic != GZIP_MAGIC:
                    raise gzip.BadGzipFile(f"Not a gzipped file ({magic!r})")
                self._d = self._inflate.decompressobj(31)
            if not self._in and not self._input(1):
                raise EOFError("Compressed file ended before the end-of-stream marker was reached")
            out = self._d.decompress(self._in, n)
            self._in = self._d.unconsumed_tail
            if out:
                return out
        return b""

    def read(self, n: int = -1) -> bytes:  # type: ignore[override]
        if n is None or n < 0:
            return b"".join(iter(self.read1, b""))
        parts, have = [], 0
        while have < n and (chunk := self.read1(n - have)):
            parts.append(chunk)
            have += len(chunk)
        return b"".join(parts)

    def readinto(self, b: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self.read1(len(b))
        b[:len(data)] = data
        return len(data)


def open_gzip(raw: BinaryIO, prefer_isal: bool = True) -> BinaryIO:
    """A gzip-decompressing reader over ``raw`` (multi-member streams included)."""
    return _GzipMembers(raw, _fast_zlib if prefer_isal and _fast_zlib else zlib)  # type: ignore[return-value]


def open_zstd(raw: BinaryIO) -> BinaryIO:
    """A zstd-decompressing reader over ``raw``, reading every frame."""
    import zstandard

    return zstandard.ZstdDecompressor().stream_reader(raw, read_across_frames=True, closefd=False)


def open_layer(fileobj: BinaryIO, media_type: str = "", prefer_isal: bool = True) -> tuple[BinaryIO, str]:
    """(uncompressed tar reader, detected compression) for a layer blob; ``empty`` for a 0-byte blob.

    The caller closes the reader (which leaves ``fileobj`` open).
    """
    raw = io.BufferedReader(_Raw(fileobj), READ_BUFFER)
    compression = sniff(raw.peek(4)[:4], media_type)
    if compression == "gzip":
        return open_gzip(raw, prefer_isal), compression
    if compression == "zstd":
        return open_zstd(raw), compression
    return raw, compression
