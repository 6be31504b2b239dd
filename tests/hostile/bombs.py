"""Hand-made hostile tar streams: oversized GNU and PAX extension headers, forged sizes.

Python's ``tarfile`` writes extension headers only as large as the name, so
these headers are written block by block here.
"""

from __future__ import annotations

import gzip
import io
import tarfile

BLOCK = 512


def header(name: bytes, typ: bytes, size: int, link: bytes = b"") -> bytes:
    """One ustar header block with a correct checksum."""
    info = tarfile.TarInfo(name.decode("latin-1"))
    info.type, info.size, info.mtime, info.linkname = typ, size, 1_700_000_000, link.decode("latin-1")
    return info.tobuf(format=tarfile.USTAR_FORMAT) if size < 8**11 else info.tobuf(format=tarfile.GNU_FORMAT)


def padded(data: bytes) -> bytes:
    return data + b"\0" * (-len(data) % BLOCK)


def extension(typ: bytes, payload: bytes) -> bytes:
    """An extension header (``L``, ``K``, ``x``, ``g``) followed by its padded payload."""
    name = b"././@LongLink" if typ in (b"L", b"K") else b"./PaxHeaders/x"
    return header(name, typ, len(payload)) + padded(payload)


def pax_record(key: str, value: bytes) -> bytes:
    """One PAX record ``"%d key=value\\n"`` with its own length."""
    body = f" {key}=".encode() + value + b"\n"
    n = len(body) + 1
    while len(str(n).encode()) + len(body) != n:
        n = len(str(n).encode()) + len(body)
    return str(n).encode() + body


def regular(name: str, data: bytes) -> bytes:
    return header(name.encode(), tarfile.REGTYPE, len(data)) + padded(data)


def end() -> bytes:
    return b"\0" * (2 * BLOCK)


def long_name_bomb(size: int, typ: bytes = b"L", before: bytes = b"") -> bytes:
    """A gzip layer whose one member carries a ``size``-byte extension header."""
    if typ in (b"L", b"K"):
        payload = b"a" * (size - 1) + b"\0"
    else:
        payload = pax_record("comment" if typ == b"g" else "path", b"a" * (size - 20))
    raw = before + extension(typ, payload) + regular("file", b"x") + end()
    return gzip.compress(raw, compresslevel=9, mtime=0)


def fallback_then_bomb(size: int) -> bytes:
    """A first member that hands the stream to ``tarfile`` (``hdrcharset``), then a long-name bomb."""
    first = extension(b"x", pax_record("hdrcharset", b"BINARY")) + regular("first", b"1")
    bomb = extension(b"L", b"b" * (size - 1) + b"\0") + regular("second", b"2")
    return gzip.compress(first + bomb + end(), compresslevel=9, mtime=0)


def tar_bytes(*members: tuple[str, bytes]) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size, info.mtime = len(data), 1_700_000_000
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()
