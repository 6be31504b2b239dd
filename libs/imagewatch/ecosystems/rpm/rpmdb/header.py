"""The rpm header blob as stored in every rpm database.

A blob is ``il`` (index entry count) and ``dl`` (data length), both big-endian
uint32, then ``il`` 16-byte index entries ``(tag, type, offset, count)`` and a
``dl``-byte data store the offsets point into. Region tags and signatures are
ignored; only the tags an inventory needs are decoded.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from imagewatch.ecosystems.rpm.rpmdb import RpmDbError

NAME, VERSION, RELEASE, EPOCH, LICENSE, ARCH = 1000, 1001, 1002, 1003, 1014, 1022
OLDFILENAMES, SOURCERPM = 1027, 1044
DIRINDEXES, BASENAMES, DIRNAMES = 1116, 1117, 1118
FILEDIGESTS, FILEDIGESTALGO = 1035, 5011

_INT32, _STRING, _STRING_ARRAY, _I18NSTRING = 4, 6, 8, 9
_WANTED = {NAME, VERSION, RELEASE, EPOCH, LICENSE, ARCH, OLDFILENAMES, SOURCERPM,
           DIRINDEXES, BASENAMES, DIRNAMES, FILEDIGESTS, FILEDIGESTALGO}
MAX_INDEX_ENTRIES = 0x10000
MAX_DATA_BYTES = 256 * 1024 * 1024


@dataclass
class RpmHeader:
    """The decoded tags of one installed rpm; ``files`` are absolute paths as rpm stores them.

    ``digests`` are the files' recorded digests (hex, empty for directories and
    links; same order as ``files``), made with ``digest_algo`` (an OpenPGP hash
    algorithm id: 1 MD5, 2 SHA-1, 8 SHA-256, 9 SHA-384, 10 SHA-512; 1 when absent).
    """

    name: str
    version: str
    release: str
    arch: str = ""
    epoch: int | None = None
    sourcerpm: str = ""
    license: str = ""
    files: list[str] = field(default_factory=list)
    digests: list[str] = field(default_factory=list)
    digest_algo: int = 1


def _strings(store: bytes, offset: int, count: int) -> list[str]:
    out: list[str] = []
    pos = offset
    for _ in range(count):
        end = store.find(b"\0", pos)
        if end < 0:
            raise RpmDbError("rpmdb: unterminated string in header data")
        out.append(store[pos:end].decode("utf-8", errors="replace"))
        pos = end + 1
    return out


def _decode(store: bytes, typ: int, offset: int, count: int) -> object:
    if offset < 0 or offset > len(store):
        raise RpmDbError(f"rpmdb: header data offset {offset} out of range")
    if typ == _INT32:
        if offset + 4 * count > len(store):
            raise RpmDbError("rpmdb: int32 array runs past header data")
        return list(struct.unpack_from(f">{count}i", store, offset))
    if typ in (_STRING, _I18NSTRING):
        return _strings(store, offset, 1)[0]
    if typ == _STRING_ARRAY:
        return _strings(store, offset, count)
    return None


def read_tags(blob: bytes) -> dict[int, object]:
    """{tag: decoded value} for the tags this module knows, from one header blob."""
    if len(blob) < 8:
        raise RpmDbError("rpmdb: header blob shorter than its preamble")
    il, dl = struct.unpack_from(">II", blob, 0)
    if il > MAX_INDEX_ENTRIES or dl > MAX_DATA_BYTES or 8 + 16 * il + dl > len(blob):
        raise RpmDbError(f"rpmdb: header sizes il={il} dl={dl} do not fit a {len(blob)}-byte blob")
    start = 8 + 16 * il
    store = blob[start:start + dl]
    tags: dict[int, object] = {}
    for i in range(il):
        tag, typ, offset, count = struct.unpack_from(">IIiI", blob, 8 + 16 * i)
        if tag in _WANTED and tag not in tags:
            tags[tag] = _decode(store, typ, offset, count)
    return tags


def _file_names(tags: dict[int, object]) -> list[str]:
    basenames = tags.get(BASENAMES) or []
    dirnames = tags.get(DIRNAMES) or []
    dirindexes = tags.get(DIRINDEXES) or []
    if basenames and len(dirindexes) == len(basenames):
        return [dirnames[i] + b if 0 <= i < len(dirnames) else b
                for b, i in zip(basenames, dirindexes)]
    return list(tags.get(OLDFILENAMES) or [])


def parse_header(blob: bytes) -> RpmHeader:
    """Decode one header blob; raises ``RpmDbError`` when it is malformed or nameless."""
    tags = read_tags(blob)
    name = tags.get(NAME)
    if not isinstance(name, str) or not name:
        raise RpmDbError("rpmdb: header without a name")
    epoch = tags.get(EPOCH)
    algo = tags.get(FILEDIGESTALGO)
    digests = tags.get(FILEDIGESTS)
    return RpmHeader(
        name=name,
        version=str(tags.get(VERSION) or ""),
        release=str(tags.get(RELEASE) or ""),
        arch=str(tags.get(ARCH) or ""),
        epoch=epoch[0] if isinstance(epoch, list) and epoch else None,
        sourcerpm=str(tags.get(SOURCERPM) or ""),
        license=str(tags.get(LICENSE) or ""),
        files=_file_names(tags),
        digests=digests if isinstance(digests, list) else [],
        digest_algo=algo[0] if isinstance(algo, list) and algo else 1,
    )


def source_name_version(sourcerpm: str) -> tuple[str, str]:
    """(name, version-release) from a source rpm file name like ``openssl-3.0.7-27.el9.src.rpm``."""
    stem = sourcerpm.removesuffix(".rpm")
    stem = stem.rsplit(".", 1)[0] if stem.endswith((".src", ".nosrc")) else stem
    parts = stem.rsplit("-", 2)
    if len(parts) != 3:
        return "", ""
    return parts[0], f"{parts[1]}-{parts[2]}"
