"""The Go function table (pclntab): the names of every function a Go binary links.

The linker writes the table into every Go binary, stripped or not, because the
runtime needs it for stack traces. In ELF it is the ``.gopclntab`` section;
when section headers are missing (or the section is renamed) the table is
found by its header in the read-only segments. The header starts with a magic
number per layout: ``0xfffffff1`` (Go 1.20+), ``0xfffffff0`` (1.18-1.19),
``0xfffffffa`` (1.16-1.17). From 1.16 on the header points at ``funcnametab``,
the NUL-separated names of every function *and every inlined function*, which
is all this reader needs: a function inlined everywhere still has its name
there. Older layouts (``0xfffffffb``, Go 1.2-1.15) carry no such table and
are not read (the caller then knows nothing, never "not linked").

Reads are bounded (``MAX_NAMES_BYTES``) and every offset is checked against
the bytes available; anything that does not hold together yields None.
"""

from __future__ import annotations

import struct

from imagewatch.ecosystems.go.elf import PF_W, PF_X, ElfError, ElfFile

MAGICS = {0xFFFFFFF1: "1.20", 0xFFFFFFF0: "1.18", 0xFFFFFFFA: "1.16"}
MAX_NAMES_BYTES = 64 << 20
_MAX_SEARCH = 1 << 30
_CHUNK = 8 << 20


def _header(data: bytes, big_endian: bool) -> tuple[int, int, int] | None:
    """(funcnametab offset, its end, function count) from a pcHeader, or None when it is not one."""
    if len(data) < 8 + 8 * 8:
        return None
    e = ">" if big_endian else "<"
    magic = struct.unpack_from(e + "I", data)[0]
    if magic not in MAGICS or data[4] or data[5] or data[6] not in (1, 2, 4) or data[7] not in (4, 8):
        return None
    ptr = data[7]
    fields = struct.unpack_from(e + ("Q" if ptr == 8 else "I") * 8, data, 8)
    nfunc = fields[0]
    # 1.18+ adds textStart after nfiles; funcnameOffset and cuOffset follow.
    name_off, cu_off = (fields[3], fields[4]) if magic != 0xFFFFFFFA else (fields[2], fields[3])
    header_size = 8 + ptr * (8 if magic != 0xFFFFFFFA else 7)
    if not (header_size <= name_off < cu_off) or nfunc == 0 or nfunc > 1 << 24:
        return None
    return name_off, cu_off, nfunc


def names_from_table(read, big_endian: bool, limit: int) -> list[str] | None:
    """Function names of the pclntab whose header ``read(offset, size)`` reads (offsets from its start).

    ``limit`` is how many bytes the table may span. None when the header is not
    a supported pcHeader or the name table does not fit.
    """
    head = _header(read(0, 8 + 8 * 8), big_endian)
    if head is None:
        return None
    start, end, _nfunc = head
    if end > limit or end - start > MAX_NAMES_BYTES:
        return None
    blob = read(start, end - start)
    if len(blob) != end - start or (blob and blob[-1] != 0):
        return None
    names = blob.split(b"\0")
    names.pop()  # after the last NUL
    if not names or not all(names[:8]):
        return None
    return [n.decode("utf-8", "replace") for n in names if n]


def _search(elf: ElfFile) -> list[str] | None:
    """Look for a pcHeader in the read-only, non-executable segments (stripped section headers)."""
    for _vaddr, off, filesz, flags in elf.segments:
        if flags & (PF_X | PF_W):
            continue
        size = min(filesz, _MAX_SEARCH)
        pos = 0
        while pos < size:
            chunk = elf.read_file(off + pos, min(_CHUNK + 8, size - pos))
            for magic in MAGICS:
                for order, big in (("<", False), (">", True)):
                    needle = struct.pack(order + "I", magic)
                    at = chunk.find(needle)
                    while 0 <= at < _CHUNK:
                        if at % 4 == 0:
                            base = off + pos + at
                            found = names_from_table(
                                lambda o, n, b=base: elf.read_file(b + o, n), big, off + size - base)
                            if found is not None:
                                return found
                        at = chunk.find(needle, at + 1)
            pos += _CHUNK
    return None


def function_names(elf: ElfFile) -> list[str] | None:
    """Every function name (inlined ones included) of the Go ELF binary ``elf``; None when unreadable."""
    try:
        found = elf.sections.get(".gopclntab")
        if found is not None:
            _addr, off, size = found
            names = names_from_table(lambda o, n: elf.read_file(off + o, min(n, max(size - o, 0))),
                                     elf.big_endian, size)
            if names is not None:
                return names
        return _search(elf)
    except (ElfError, struct.error):
        return None
