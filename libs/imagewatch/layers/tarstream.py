"""A forward-only tar reader: headers parsed with ``struct``, each body read or skipped once.

``tarfile`` spends ~80 µs of pure Python per entry on headers. ``TarReader``
parses ustar, GNU (long names and link names, base-256 numbers) and PAX
(per-file and comment-only global headers) headers itself and follows
``tarfile``'s reading rules: the same names, types, sizes and link names, the
same end of archive, the same damage treated as an error. Rarer headers
(sparse files, ``hdrcharset``, meaningful global headers, negative sizes, any
problem in the very first header) hand the rest of the stream, from the first
header of that member, to ``tarfile``. Every byte the tar format consumes
counts against the layer limit; read-ahead does not.
"""

from __future__ import annotations

import io
import re
import struct
import tarfile
import zlib
from collections.abc import Iterator
from typing import BinaryIO

from imagewatch.layers.entry import EntryType, entry_type
from imagewatch.layers.errors import LayerError, LayerRefused
from imagewatch.errors import ImagewatchError

BLOCK = 512
CHUNK = 1024 * 1024
READ_AHEAD = CHUNK
MAX_EXTENSION_BYTES = 1024 * 1024  # GNU long name/link and PAX headers are read whole: cap them
_HEADER = struct.Struct("100s8s8s8s12s12s8sc100s8x32s32s8s8s155s")
_PAX_RECORD = re.compile(rb"(\d+) ([^=]+)=")
_KINDS: dict[bytes, EntryType] = {b"0": "file", b"\0": "file", b"7": "file", b"1": "hardlink",
                                  b"2": "symlink", b"3": "char", b"4": "block", b"5": "dir", b"6": "fifo"}
_NO_DATA = frozenset((b"1", b"2", b"3", b"4", b"5", b"6"))  # tarfile skips no body for these
_EXTENSIONS = frozenset((b"L", b"K", b"x", b"X", b"g"))
_PAX_INT = ("uid", "gid", "size")
_FALLBACK_PAX = (b"GNU.sparse", b"hdrcharset")
_ENCODING = tarfile.ENCODING


class Member:
    """One tar member as ``tarfile`` would report it; ``kind`` is its ``EntryType``."""

    __slots__ = ("name", "linkname", "kind", "mode", "uid", "gid", "uname", "gname", "size")

    def __init__(self, name: str, linkname: str, kind: EntryType, mode: int, uid: int, gid: int,
                 uname: str, gname: str, size: int) -> None:
        self.name, self.linkname, self.kind, self.mode = name, linkname, kind, mode
        self.uid, self.gid, self.uname, self.gname, self.size = uid, gid, uname, gname, size


class _BadHeader(ImagewatchError):
    """A header ``tarfile`` would reject (its message is tarfile's)."""


class _Fallback(ImagewatchError):
    """Hand the stream to ``tarfile`` from the start of the current member's headers."""


def corrupt(message: str) -> LayerError:
    """The LayerError ``walk_layer`` raises for a ``tarfile.ReadError`` with this message."""
    return LayerError(f"layers: cannot read layer: ReadError: {message}")


def _str(field: bytes) -> str:
    return field.split(b"\0", 1)[0].decode(_ENCODING, "surrogateescape")


def _num(field: bytes) -> int:
    if field[0] in (0o200, 0o377):
        return tarfile.nti(field)
    try:
        return int(field.split(b"\0", 1)[0].decode("ascii").strip() or "0", 8)
    except ValueError:
        raise _BadHeader("invalid header") from None


def _pax_str(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode(tarfile.ENCODING, "surrogateescape")


def _padded(size: int) -> int:
    return -(-size // BLOCK) * BLOCK


def _checksum_ok(buf: bytes, field: bytes, chksum: int) -> bool:
    """tarfile's test (unsigned or signed byte sum), with the unsigned sum taken in C.

    The byte sum S of a block is at most 130,560; Adler-32 gives S mod 65521 and
    the block read as one integer gives S mod 255 (256 ≡ 1), which together
    (coprime, product > 130,560) pin S down exactly.
    """
    total = chksum - 256 + sum(field)
    if (0 <= total <= BLOCK * 255 and zlib.adler32(buf) & 0xFFFF == (total + 1) % 65521
            and int.from_bytes(buf, "big") % 255 == total % 255):
        return True
    return chksum in tarfile.calc_chksums(buf)


def _parse(buf: bytes) -> tuple:
    """(name, linkname, type, mode, uid, gid, size, uname, gname) of one header block, as tarfile reads it."""
    if len(buf) != BLOCK:
        raise _BadHeader("truncated header" if buf else "empty header")
    if buf.count(0) == BLOCK:
        raise _BadHeader("end of file header")
    (name, mode, uid, gid, size, mtime, chk, typ, link, uname, gname,
     major, minor, prefix) = _HEADER.unpack_from(buf)
    fields = (chk, mode, uid, gid, size, mtime, major, minor)
    try:  # the usual octal digits; anything else takes tarfile's exact path below
        numbers = [int(f.split(b"\0", 1)[0] or b"0", 8) for f in fields]
    except ValueError:
        numbers = []
    if not _checksum_ok(buf, chk, numbers[0] if numbers else _num(chk)):
        raise _BadHeader("bad checksum")
    if not numbers:
        numbers = [_num(f) for f in fields]  # mtime, devmajor, devminor unused, but tarfile checks them
    text, link_text, uname_text, gname_text = [f.split(b"\0", 1)[0].decode(_ENCODING, "surrogateescape")
                                               for f in (name, link, uname, gname)]
    if typ == b"\0" and text.endswith("/"):
        typ = b"5"  # old V7 tars mark a directory by a trailing slash only
    if prefix[0] and typ not in (b"L", b"K", b"S"):
        text = _str(prefix) + "/" + text
    return text, link_text, typ, numbers[1], numbers[2], numbers[3], numbers[4], uname_text, gname_text


def _pax(data: bytes) -> dict[str, str]:
    records: dict[str, str] = {}
    pos = 0
    while (match := _PAX_RECORD.match(data, pos)) is not None:
        length = int(match.group(1))
        if length == 0:
            raise _BadHeader("invalid header")
        records[_pax_str(match.group(2))] = _pax_str(data[match.end(2) + 1:match.start(1) + length - 1])
        pos += length
    return records


def _check_extension(typ: bytes, size: int) -> None:
    """Refuse a GNU long-name/long-link or PAX header larger than ``MAX_EXTENSION_BYTES`` before reading it."""
    if size > MAX_EXTENSION_BYTES:
        kind = "GNU long name" if typ in (b"L", b"K") else "PAX"
        raise LayerRefused("extension_header", f"a {kind} header of {size} bytes exceeds the "
                                               f"{MAX_EXTENSION_BYTES}-byte limit for tar extension headers")


class _CappedTarInfo(tarfile.TarInfo):
    """tarfile's member parser with the same cap on extension headers (used after a fallback)."""

    def _proc_gnulong(self, tarfile):  # type: ignore[no-untyped-def]
        _check_extension(self.type, self.size)
        return super()._proc_gnulong(tarfile)

    def _proc_pax(self, tarfile):  # type: ignore[no-untyped-def]
        _check_extension(self.type, self.size)
        return super()._proc_pax(tarfile)


class TarReader:
    """Members of an uncompressed tar stream, front to back, with ``read`` for the current body.

    ``count`` is the number of tar bytes consumed; past ``limit`` the layer is
    refused. Damage raises ``LayerError``; stream errors pass through.
    """

    def __init__(self, src: BinaryIO, limit: int) -> None:
        self._src, self._limit = src, limit
        # One underlying read per call: data past the end of the tar (trailing bytes after the
        # last gzip member or zstd frame) is never decoded unless the tar itself needs it.
        self._read1 = getattr(src, "read1", src.read)
        self._buf, self._at = b"", 0
        self.count = 0
        self._left = 0  # unread bytes of the current body
        self._next = 0  # offset of the next header
        self._tar: tarfile.TarFile | None = None
        self._info: tarfile.TarInfo | None = None
        self._file: BinaryIO | None = None

    def _add(self, n: int) -> None:
        self.count += n
        if self.count > self._limit:
            raise LayerRefused("layer_bytes", f"layer exceeds {self._limit} uncompressed bytes")

    def take(self, n: int) -> bytes:
        """Up to ``n`` next bytes of the tar (fewer only at its end), counted."""
        end = self._at + n
        if end <= len(self._buf):
            data = self._buf[self._at:end]
            self._at = end
        else:
            parts, have = [self._buf[self._at:]], len(self._buf) - self._at
            while have < n and (chunk := self._read1(max(n - have, READ_AHEAD))):
                parts.append(chunk)
                have += len(chunk)
            joined = b"".join(parts)
            data, self._buf, self._at = joined[:n], joined, min(n, len(joined))
        self._add(len(data))
        return data

    def skip(self, n: int) -> int:
        """Pass over ``n`` bytes (counted); how many there were."""
        done = min(n, len(self._buf) - self._at)
        self._at += done
        self._add(done)
        while done < n and (chunk := self._read1(min(n - done, CHUNK))):
            self._add(len(chunk))
            done += len(chunk)
        return done

    def read(self, n: int) -> bytes:
        """Up to ``n`` further bytes of the current member's body."""
        if self._tar is not None:
            if self._file is None:
                self._file = self._tar.extractfile(self._info)  # type: ignore[arg-type,assignment]
            return self._file.read(n) if self._file is not None else b""
        n = min(n, self._left)
        data = self.take(n)
        self._left -= len(data)
        if len(data) < n:
            raise corrupt("unexpected end of data")
        return data

    def read_parts(self, n: int) -> list[bytes | memoryview]:
        """Up to ``n`` further bytes of the current member's body, as pieces of the decoded stream (no copy).

        Joining the pieces is the caller's one copy (``b"".join``); ``read``
        copies twice more on large bodies (join of the decoded chunks, then
        the slice to ``n``).
        """
        if self._tar is not None:
            return [self.read(n)]
        n = min(n, self._left)
        parts: list[bytes | memoryview] = []
        have = min(n, len(self._buf) - self._at)
        if have == n:  # within the buffer (most files): one slice, which is the one copy
            parts.append(self._buf[self._at:self._at + n])
            self._at += n
        elif have:
            parts.append(memoryview(self._buf)[self._at:self._at + have])
            self._at += have
        while have < n and (chunk := self._read1(max(n - have, READ_AHEAD))):
            used = min(len(chunk), n - have)
            parts.append(chunk if used == len(chunk) else memoryview(chunk)[:used])
            self._buf, self._at = chunk, used
            have += used
        self._add(have)
        self._left -= have
        if have < n:
            raise corrupt("unexpected end of data")
        return parts

    def members(self) -> Iterator[Member]:
        """Every member, in order; a member's body can be ``read`` until the next one is asked for."""
        while True:
            if self.skip(self._next - self.count) < self._next - self.count:
                raise corrupt("unexpected end of data")
            raw: list[bytes] = []
            try:
                member = self._member(raw)
            except zlib.error as exc:  # as tarfile reports it while reading headers
                raise corrupt(f"zlib error: {exc}") from None
            except _Fallback:
                yield from self._tarfile(b"".join(raw))
                return
            if member is None:
                return
            yield member

    def _member(self, raw: list[bytes]) -> Member | None:
        first = self.count == 0
        ops: list[tuple[bytes, object]] = []
        depth = 0  # extension headers read before the current header
        while True:
            try:
                buf = self.take(BLOCK)
                raw.append(buf)
                name, link, typ, mode, uid, gid, size, uname, gname = _parse(buf)
                if size < 0 or typ == b"S":
                    raise _Fallback
                if typ not in _EXTENSIONS:
                    break
                _check_extension(typ, size)
                data = self.take(_padded(size))
                raw.append(data)
                if typ in (b"L", b"K"):
                    ops.append((typ, _str(data)))
                elif any(key in data for key in _FALLBACK_PAX):
                    raise _Fallback
                else:
                    records = _pax(data)
                    if typ != b"g":
                        ops.append((b"x", records))
                    elif set(records) - {"comment"}:
                        raise _Fallback
                depth += 1
            except _BadHeader as exc:
                if first:
                    raise _Fallback from None  # tarfile raises (or ends) as it would have
                if depth:
                    raise corrupt(str(exc)) from None
                return None
        data_len = 0 if typ in _NO_DATA else size
        for op, value in reversed(ops):
            if op == b"L":
                name = value  # type: ignore[assignment]
            elif op == b"K":
                link = value  # type: ignore[assignment]
            else:
                records: dict[str, str] = value  # type: ignore[no-redef]
                if "path" in records:
                    name = records["path"].rstrip("/")
                if "linkpath" in records:
                    link = records["linkpath"]
                uname, gname = records.get("uname", uname), records.get("gname", gname)
                numbers = {}
                for key in _PAX_INT:
                    if key in records:
                        try:
                            numbers[key] = int(records[key])
                        except ValueError:
                            numbers[key] = 0
                uid, gid, size = numbers.get("uid", uid), numbers.get("gid", gid), numbers.get("size", size)
                if "size" in records:
                    if size < 0:
                        raise _Fallback
                    data_len = 0 if typ in _NO_DATA else size
        kind = _KINDS.get(typ, "other")
        self._left = size if kind == "file" else 0
        self._next = self.count + _padded(data_len)
        return Member(name, link, kind, mode, uid, gid, uname, gname, size)

    def _tarfile(self, head: bytes) -> Iterator[Member]:
        self._tar = tarfile.open(fileobj=_Replay(head, self), mode="r:",  # type: ignore[call-overload]
                                 tarinfo=_CappedTarInfo)
        while (info := self._tar.next()) is not None:
            self._tar.members.clear()  # tarfile keeps every member otherwise
            self._info, self._file = info, None
            yield Member(info.name, info.linkname, entry_type(info), info.mode, info.uid, info.gid,
                         info.uname, info.gname, info.size)


class _Replay:
    """What ``tarfile`` reads after a fallback: the member's headers again, then the rest of the tar.

    Forward-only: ``seek`` skips by reading, as tarfile's plain mode needs.
    """

    def __init__(self, head: bytes, reader: TarReader) -> None:
        self._head, self._at, self._reader, self._pos = head, 0, reader, 0

    def read(self, n: int = -1) -> bytes:
        if n is None or n < 0:
            n = len(self._head) - self._at + self._reader._limit + 1 - self._reader.count
        out = self._head[self._at:self._at + n]
        self._at += len(out)
        if len(out) < n:
            out += self._reader.take(n - len(out))
        self._pos += len(out)
        return out

    def tell(self) -> int:
        return self._pos

    def seek(self, pos: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_CUR:
            pos += self._pos
        elif whence != io.SEEK_SET:
            raise io.UnsupportedOperation("layers: layer streams cannot seek from the end")
        if pos < self._pos:
            raise io.UnsupportedOperation("layers: layer streams cannot seek backwards")
        while self._pos < pos and self.read(min(pos - self._pos, CHUNK)):
            pass
        return self._pos

    def seekable(self) -> bool:
        return True

    def readable(self) -> bool:
        return True

