"""rpm's NDB backend ``Packages.db`` (SUSE, openSUSE), read without librpm.

All integers are little-endian. Offset 0 holds a 32-byte header (magic
``RpmP``, version 0, generation, number of 4 KiB slot pages, next index);
the rest of the slot pages are 16-byte slots ``(magic "Slot", pkgidx, blkoff,
blkcnt)``, where ``blkoff == 0`` marks a free slot. A blob lives at
``blkoff * 16``: a 16-byte head ``(magic "BlbS", pkgidx, generation, length)``
followed by the header blob itself.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from pathlib import Path

from imagewatch.ecosystems.rpm.rpmdb import RpmDbError

DB_MAGIC, SLOT_MAGIC, BLOB_MAGIC = (int.from_bytes(m, "little") for m in (b"RpmP", b"Slot", b"BlbS"))
PAGE, SLOT, BLOCK, HEADER = 4096, 16, 16, 32


def iter_blobs(path: Path) -> Iterator[bytes]:
    """Header blobs of an NDB ``Packages.db``, in slot order."""
    data = path.read_bytes()
    if len(data) < HEADER:
        raise RpmDbError("rpmdb: NDB file shorter than its header")
    magic, version, _, slot_pages = struct.unpack_from("<IIII", data, 0)
    if magic != DB_MAGIC or version != 0:
        raise RpmDbError("rpmdb: not an NDB Packages.db (bad magic or version)")
    end = min(slot_pages * PAGE, len(data))
    for off in range(HEADER, end, SLOT):
        smagic, pkgidx, blkoff, blkcnt = struct.unpack_from("<IIII", data, off)
        if smagic != SLOT_MAGIC:
            raise RpmDbError(f"rpmdb: NDB slot at {off} has a bad magic")
        if not blkoff:
            continue
        start = blkoff * BLOCK
        if start + 16 > len(data) or start + blkcnt * BLOCK > len(data):
            raise RpmDbError(f"rpmdb: NDB blob of package {pkgidx} runs past the file")
        bmagic, bidx, _, length = struct.unpack_from("<IIII", data, start)
        if bmagic != BLOB_MAGIC or bidx != pkgidx or 16 + length > blkcnt * BLOCK:
            raise RpmDbError(f"rpmdb: NDB blob of package {pkgidx} is malformed")
        yield data[start + 16:start + 16 + length]
