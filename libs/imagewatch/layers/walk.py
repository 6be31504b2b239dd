"""One streaming pass over a layer tar: metadata, whiteouts, wanted files, optional callback.

``walk_layer`` reads the (decompressed) tar once, front to back, never seeking
backwards (``tarstream.TarReader`` parses headers and skips bodies by reading).
It records what a composition needs (non-directory paths, whiteouts, opaque
directories, symlinks), extracts the files ``want`` asks for into ``dest``
under flat generated names (so no archive path ever becomes a host path),
and calls ``on_entry`` for every entry so that a secret or misconfiguration
scanner shares the same pass.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from imagewatch.layers.decompress import open_layer
from imagewatch.layers.diffid import DiffIdReader
from imagewatch.layers.entry import EntryType, LayerEntry, OnEntry
from imagewatch.layers.errors import LayerError, LayerRefused
from imagewatch.layers.limits import LayerLimits
from imagewatch.layers.paths import OPAQUE, WHITEOUT, link_target, normalise, parent, resolve
from imagewatch.layers.tarstream import Member, TarReader

COPY_CHUNK = 1024 * 1024
Want = Callable[[str, int], bool]


@dataclass
class LayerWalk:
    """What one pass over a layer found.

    ``paths`` holds every non-directory entry (files, links, devices);
    ``files`` maps each wanted image path to its extracted copy (symlinks and
    hard links to an extracted file map to the same copy); ``skipped`` maps a
    wanted path that was not extracted to the reason.
    """

    compression: str
    entries: int = 0
    uncompressed_bytes: int = 0
    paths: set[str] = field(default_factory=set)
    whiteouts: set[str] = field(default_factory=set)
    opaque_dirs: set[str] = field(default_factory=set)
    symlinks: dict[str, str] = field(default_factory=dict)
    files: dict[str, Path] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)


def _members(reader: TarReader) -> Iterator[Member]:
    members = reader.members()
    while True:
        with _read_errors():
            member = next(members, None)
        if member is None:
            return
        yield member


class _read_errors:
    """Turn decompression and tar errors into LayerError; limits pass through."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, typ: type | None, exc: BaseException | None, tb: object) -> bool:
        if exc is None or isinstance(exc, LayerError) or not isinstance(exc, Exception):
            return False
        raise LayerError(f"layers: cannot read layer: {type(exc).__name__}: {exc}") from exc


class _Content:
    """Lazy reader of the current entry, from its extracted copy or from the stream."""

    def __init__(self, reader: TarReader, copy: Path | None, cap: int) -> None:
        self._reader, self._copy, self._cap = reader, copy, cap
        self._src: BinaryIO | None = None
        self._data = b""
        self._eof = False

    def __call__(self, n: int | None = None) -> bytes:
        # One copy: what was read before (the sniffed head) and the decoded pieces of the rest, joined once.
        want = self._cap if n is None else min(n, self._cap)
        have = len(self._data)
        if have < want and not self._eof:
            with _read_errors():
                if self._copy is None:
                    parts = self._reader.read_parts(want - have)
                else:
                    self._src = self._src or self._copy.open("rb")
                    parts = [self._src.read(want - have)]
            if len(parts) == 1 and not have and isinstance(parts[0], bytes):
                self._data = parts[0]
                got = len(self._data)
            else:
                got = sum(len(p) for p in parts)
                self._data = b"".join([self._data, *parts])
            self._eof = got < want - have
        return self._data if len(self._data) <= want else self._data[:want]

    def close(self) -> None:
        if self._src is not None:
            self._src.close()


def _extract(reader: TarReader, dest: Path, n: int, name: str) -> Path:
    target = dest / f"{n:06d}-{name[-100:]}"
    with _read_errors(), target.open("xb") as out:
        while chunk := reader.read(COPY_CHUNK):
            out.write(chunk)
    return target


def _whiteout(path: str, name: str) -> tuple[EntryType, str] | None:
    if name == OPAQUE:
        return "opaque", parent(path)
    if name.startswith(WHITEOUT + WHITEOUT):  # other aufs metadata (.wh..wh.plnk ...)
        return None
    return "whiteout", f"{parent(path)}/{name[len(WHITEOUT):]}".lstrip("/")


def walk_layer(
    fileobj: BinaryIO,
    media_type: str = "",
    *,
    want: Want | None = None,
    dest: Path | None = None,
    limits: LayerLimits = LayerLimits(),
    on_entry: OnEntry | None = None,
    prefer_isal: bool = True,
    diff_id: str | None = None,
) -> LayerWalk:
    """Read one layer blob once; extract wanted files into ``dest``; call ``on_entry`` per entry.

    ``want(path, size)`` selects regular files (and links to them) to extract;
    it needs ``dest``, a private directory the caller owns and cleans. ``on_entry(entry,
    read)`` gets every entry, whiteouts included; ``read(n=None)`` returns up to
    ``n`` (default and cap ``limits.max_read_bytes``) leading bytes of a regular
    file's content and is None for other entries; it is valid only during the call.
    With ``diff_id`` (the image config's claim) the uncompressed stream is hashed
    while it is read and, at the end, the layer is refused (``LayerRefused``,
    reason ``diff_id``) unless it hashes to that claim: a caller keeps nothing of
    the walk (no cache entry, no "scanned" mark) when this raises.
    Raises ``LayerRefused`` on an exceeded limit or an escaping path, ``LayerError``
    on a corrupt stream; nothing is ever written outside ``dest``.
    """
    if want is not None and dest is None:
        raise ValueError("layers: walk_layer(want=...) needs a dest directory")
    stream, compression = open_layer(fileobj, media_type, prefer_isal)
    try:
        checked = DiffIdReader(stream, diff_id) if diff_id is not None else None
        walk = _walk(checked or stream, compression, want, dest, limits, on_entry)  # type: ignore[arg-type]
        if checked is not None:
            with _read_errors():
                checked.finish(limits.max_layer_bytes)
        return walk
    finally:
        stream.close()


def _walk(stream: BinaryIO, compression: str, want: Want | None, dest: Path | None, limits: LayerLimits,
          on_entry: OnEntry | None) -> LayerWalk:
    walk = LayerWalk(compression=compression)
    if compression == "empty":
        return walk
    reader = TarReader(stream, limits.max_layer_bytes)
    extracted = 0
    pending: list[tuple[str, str]] = []
    for member in _members(reader):
        walk.entries += 1
        if walk.entries > limits.max_entries:
            raise LayerRefused("entries", f"layer has more than {limits.max_entries} entries")
        path = normalise(member.name)
        if not path:
            continue
        name = path.rpartition("/")[2]
        if name.startswith(WHITEOUT):
            if (wh := _whiteout(path, name)) is not None:
                (walk.opaque_dirs if wh[0] == "opaque" else walk.whiteouts).add(wh[1])
                if on_entry is not None:
                    on_entry(LayerEntry(path=wh[1], type=wh[0]), None)
            continue
        typ = member.kind
        walk.files.pop(path, None)
        walk.symlinks.pop(path, None)
        link = ""
        if typ == "symlink":
            link = walk.symlinks[path] = link_target(path, member.linkname)
        elif typ == "hardlink":
            link = normalise(member.linkname)
        if typ != "dir":
            walk.paths.add(path)
        copy: Path | None = None
        if want is not None and typ == "file" and want(path, member.size):
            if member.size > limits.max_file_bytes:
                walk.skipped[path] = "file_too_large"
            elif extracted + member.size > limits.max_extract_bytes:
                walk.skipped[path] = "extract_budget"
            else:
                copy = walk.files[path] = _extract(reader, dest, len(walk.files), name)  # type: ignore[arg-type]
                extracted += member.size
        elif want is not None and typ in ("symlink", "hardlink"):
            target = walk.files.get(link)
            if want(path, target.stat().st_size if target else 0):
                pending.append((path, link if typ == "hardlink" else path))
        if on_entry is not None:
            if typ == "hardlink":
                copy = walk.files.get(link)
            read = _Content(reader, copy, limits.max_read_bytes) if typ == "file" or copy else None
            entry = LayerEntry(path=path, type=typ, mode=member.mode, uid=member.uid, gid=member.gid,
                               uname=member.uname, gname=member.gname, size=member.size, link=link)
            try:
                on_entry(entry, read)
            finally:
                if read is not None:
                    read.close()
    walk.uncompressed_bytes = reader.count
    for path, start in pending:
        target = resolve(start, walk.symlinks)
        if target in walk.files:
            walk.files[path] = walk.files[target]
    return walk
