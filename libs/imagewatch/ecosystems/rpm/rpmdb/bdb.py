"""rpm's BerkeleyDB ``Packages`` file (RHEL 7/8, CentOS, Amazon Linux 2), read without libdb.

The file is a Berkeley DB *hash* database: page 0 is the hash meta page (magic
0x061561, page size, last page number), every other page starts with a 26-byte
page header. Hash pages hold an index of item offsets in key/data pairs; a data
item is either inline (``H_KEYDATA``) or, for header blobs bigger than a page,
an ``H_OFFPAGE`` reference to a chain of overflow pages. We walk every hash
page in file order, so bucket layout and hashing never matter. Values that are
not header blobs (the instance counter under key 0) are left to the caller.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from pathlib import Path

from imagewatch.ecosystems.rpm.rpmdb import RpmDbError

HASH_MAGIC = 0x061561
PAGE_HEADER = 26
P_HASH_UNSORTED, P_OVERFLOW, P_HASHMETA, P_HASH = 2, 7, 8, 13
H_KEYDATA, H_OFFPAGE = 1, 3


def _byte_order(data: bytes) -> str:
    for order in ("<", ">"):
        if struct.unpack_from(order + "I", data, 12)[0] == HASH_MAGIC:
            return order
    raise RpmDbError("rpmdb: not a BerkeleyDB hash database (bad magic)")


class _Pages:
    def __init__(self, data: bytes) -> None:
        if len(data) < 512:
            raise RpmDbError("rpmdb: BerkeleyDB file shorter than its meta page")
        self.data = data
        self.order = _byte_order(data)
        self.size, = struct.unpack_from(self.order + "I", data, 20)
        if self.size < 512 or self.size > 65536 or self.size & (self.size - 1):
            raise RpmDbError(f"rpmdb: implausible BerkeleyDB page size {self.size}")
        last, = struct.unpack_from(self.order + "I", data, 32)
        self.count = min(last + 1, len(data) // self.size)

    def page(self, pgno: int) -> bytes:
        if not 0 < pgno < self.count:
            raise RpmDbError(f"rpmdb: BerkeleyDB page {pgno} out of range")
        return self.data[pgno * self.size:(pgno + 1) * self.size]

    def header(self, page: bytes) -> tuple[int, int, int, int]:
        """(next_pgno, entries, hf_offset, type) of a page."""
        nxt, = struct.unpack_from(self.order + "I", page, 16)
        entries, hf_offset = struct.unpack_from(self.order + "HH", page, 20)
        return nxt, entries, hf_offset, page[25]

    def overflow(self, pgno: int, total: int) -> bytes:
        out = bytearray()
        seen: set[int] = set()
        while pgno and len(out) < total:
            if pgno in seen:
                raise RpmDbError("rpmdb: BerkeleyDB overflow chain loops")
            seen.add(pgno)
            page = self.page(pgno)
            nxt, _, used, typ = self.header(page)
            if typ != P_OVERFLOW:
                raise RpmDbError(f"rpmdb: BerkeleyDB page {pgno} is not an overflow page")
            out += page[PAGE_HEADER:PAGE_HEADER + used]
            pgno = nxt
        if len(out) != total:
            raise RpmDbError("rpmdb: BerkeleyDB overflow chain shorter than its item")
        return bytes(out)


def _values(pages: _Pages, page: bytes) -> Iterator[bytes]:
    _, entries, _, _ = pages.header(page)
    offsets = struct.unpack_from(f"{pages.order}{entries}H", page, PAGE_HEADER)
    for i in range(1, entries, 2):
        off = offsets[i]
        if off >= pages.size:
            raise RpmDbError("rpmdb: BerkeleyDB item offset past the page")
        kind = page[off]
        if kind == H_KEYDATA:
            yield page[off + 1:offsets[i - 1]]
        elif kind == H_OFFPAGE:
            pgno, tlen = struct.unpack_from(pages.order + "II", page, off + 4)
            yield pages.overflow(pgno, tlen)


def iter_blobs(path: Path) -> Iterator[bytes]:
    """Every data value of a BerkeleyDB hash file, in page order."""
    pages = _Pages(path.read_bytes())
    for pgno in range(1, pages.count):
        page = pages.page(pgno)
        if page[25] in (P_HASH, P_HASH_UNSORTED):
            yield from _values(pages, page)
