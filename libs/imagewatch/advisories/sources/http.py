"""Conditional HTTP download shared by sources: ETag / Last-Modified fingerprints."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from imagewatch.advisories.sources.base import SourceError, Unchanged, discard

_CHUNK = 1 << 20


def fingerprint_headers(fingerprint: str | None) -> dict[str, str]:
    """Request headers that make a GET conditional on ``fingerprint``."""
    if not fingerprint:
        return {}
    kind, _, value = fingerprint.partition(":")
    if kind == "etag":
        return {"If-None-Match": value}
    if kind == "lm":
        return {"If-Modified-Since": value}
    return {}


def fingerprint_of(headers: Any) -> str:
    """The fingerprint a response carries: its ETag, else its Last-Modified, else empty."""
    if headers.get("ETag"):
        return f"etag:{headers['ETag']}"
    if headers.get("Last-Modified"):
        return f"lm:{headers['Last-Modified']}"
    return ""


async def download(session: Any, source: str, url: str, fingerprint: str | None,
                   dest: Path | None = None, max_bytes: int | None = None) -> tuple[bytes | Path, str]:
    """GET ``url`` conditionally: (bytes, or ``dest`` when given, and the new fingerprint).

    A body larger than ``max_bytes`` (when given) raises SourceError.

    Raises Unchanged on 304 or an identical fingerprint, SourceError (prefixed
    with ``source``) on network errors and other statuses.
    """
    try:
        async with session.get(url, headers=fingerprint_headers(fingerprint)) as resp:
            if resp.status == 304:
                raise Unchanged(f"{source}: {url} not modified")
            if resp.status != 200:
                raise SourceError(f"{source}: GET {url}: HTTP {resp.status}")
            new = fingerprint_of(resp.headers)
            if fingerprint and new == fingerprint:
                raise Unchanged(f"{source}: {url} not modified")
            if dest is None and max_bytes is None:
                return await resp.read(), new
            size, parts = 0, []
            with (dest.open("wb") if dest is not None else open(os.devnull, "wb")) as out:
                async for chunk in resp.content.iter_chunked(_CHUNK):
                    size += len(chunk)
                    if max_bytes is not None and size > max_bytes:
                        raise SourceError(f"{source}: GET {url}: larger than {max_bytes} bytes, refused")
                    if dest is None:
                        parts.append(chunk)
                    else:
                        out.write(chunk)
            return (b"".join(parts) if dest is None else dest), new
    except (Unchanged, SourceError):
        raise
    except Exception as exc:  # aiohttp.ClientError, OSError, timeouts
        raise SourceError(f"{source}: GET {url} failed (offline?): {type(exc).__name__}: {exc}") from None


def temp_path(name: str) -> Path:
    """A path named ``name`` inside a fresh temporary directory."""
    return Path(tempfile.mkdtemp(prefix="imagewatch-advisories-")) / name


async def download_to_temp(session: Any, source: str, url: str, fingerprint: str | None, filename: str,
                           max_bytes: int | None = None) -> tuple[bytes | Path, str]:
    """``download`` into ``filename`` in a fresh temporary directory, removed again when it fails."""
    dest = temp_path(filename)
    try:
        return await download(session, source, url, fingerprint, dest, max_bytes)
    except BaseException:
        discard(dest)
        raise


@contextlib.contextmanager
def as_path(data: bytes | Path, filename: str) -> Iterator[Path]:
    """A payload as a file: ``data`` itself when a path, else its bytes in a temporary file removed on exit."""
    if isinstance(data, Path):
        yield data
        return
    path = temp_path(filename)
    try:
        path.write_bytes(data)
        yield path
    finally:
        discard(path)
