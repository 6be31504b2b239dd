"""Build small layer tars in memory for the layer tests."""

from __future__ import annotations

import gzip
import io
import tarfile

import zstandard


def tar(*members: tuple) -> bytes:
    """A tar from (name, kind, payload) tuples: kind is file/dir/symlink/hardlink, payload bytes or target.

    A fourth element, when given, is the mode.
    """
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for name, kind, payload, *rest in members:
            ti = tarfile.TarInfo(name)
            ti.mode = rest[0] if rest else (0o755 if kind == "dir" else 0o644)
            if kind == "file":
                ti.size = len(payload)
                tf.addfile(ti, io.BytesIO(payload))
                continue
            ti.type = {"dir": tarfile.DIRTYPE, "symlink": tarfile.SYMTYPE, "hardlink": tarfile.LNKTYPE}[kind]
            if kind in ("symlink", "hardlink"):
                ti.linkname = payload
            tf.addfile(ti)
    return buf.getvalue()


def gz(data: bytes) -> bytes:
    return gzip.compress(data, compresslevel=1)


def zst(data: bytes) -> bytes:
    return zstandard.ZstdCompressor().compress(data)


def f(name: str, payload: bytes | str = b"x", mode: int | None = None) -> tuple:
    data = payload.encode() if isinstance(payload, str) else payload
    return (name, "file", data) if mode is None else (name, "file", data, mode)
