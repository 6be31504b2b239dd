"""A minimal ELF reader: section lookup and virtual address reads.

Just enough of ELF (32/64 bit, either byte order) for the Go build info and
Rust ``cargo auditable`` analysers. It reads headers and the requested bytes
only, never the whole file, and raises ``ElfError`` on anything malformed.
"""

from __future__ import annotations

import struct
from typing import BinaryIO
from imagewatch.errors import ImagewatchError

ELF_MAGIC = b"\x7fELF"
_PT_LOAD = 1
_SHT_NOBITS = 8
PF_X, PF_W = 0x1, 0x2


class ElfError(ImagewatchError, ValueError):
    """A file that is not ELF or whose headers do not hold together."""


class ElfFile:
    """Sections and loadable segments of one open ELF file."""

    def __init__(self, f: BinaryIO, file_size: int) -> None:
        self._f = f
        self.size = file_size
        self.sections: dict[str, tuple[int, int, int]] = {}  # name -> (addr, offset, size)
        self.segments: list[tuple[int, int, int, int]] = []  # (vaddr, offset, filesz, flags)
        try:
            self._parse()
        except struct.error as exc:
            raise ElfError(f"elf: truncated header: {exc}") from exc

    def _parse(self) -> None:
        ident = self._read(0, 64)
        if len(ident) < 52 or ident[:4] != ELF_MAGIC:
            raise ElfError("elf: not an ELF file")
        self.is64 = ident[4] == 2
        self.big_endian = ident[5] == 2
        e = ">" if self.big_endian else "<"
        self._e = e
        if self.is64:
            phoff, shoff = struct.unpack_from(e + "QQ", ident, 32)
            phentsize, phnum, shentsize, shnum, shstrndx = struct.unpack_from(e + "HHHHH", ident, 54)
        else:
            phoff, shoff = struct.unpack_from(e + "II", ident, 28)
            phentsize, phnum, shentsize, shnum, shstrndx = struct.unpack_from(e + "HHHHH", ident, 42)
        if phnum and phentsize:
            raw = self._read(phoff, phentsize * phnum)
            for i in range(min(phnum, len(raw) // phentsize)):
                base = i * phentsize
                if self.is64:
                    p_type, flags, off, vaddr, _, filesz = struct.unpack_from(e + "IIQQQQ", raw, base)
                else:
                    p_type, off, vaddr, _, filesz, _, flags = struct.unpack_from(e + "IIIIIII", raw, base)
                if p_type == _PT_LOAD:
                    self.segments.append((vaddr, off, filesz, flags))
        if shnum and shentsize and shstrndx < shnum:
            self._read_sections(shoff, shentsize, shnum, shstrndx)

    def _read_sections(self, shoff: int, entsize: int, num: int, strndx: int) -> None:
        raw = self._read(shoff, entsize * num)
        e = self._e
        headers = []
        for i in range(min(num, len(raw) // entsize)):
            base = i * entsize
            if self.is64:
                name, sh_type, _, addr, off, size = struct.unpack_from(e + "IIQQQQ", raw, base)
            else:
                name, sh_type, _, addr, off, size = struct.unpack_from(e + "IIIIII", raw, base)
            headers.append((name, sh_type, addr, off, size))
        if strndx >= len(headers):
            return
        _, _, _, str_off, str_size = headers[strndx]
        names = self._read(str_off, min(str_size, 1 << 20))
        for name_off, sh_type, addr, off, size in headers:
            end = names.find(b"\0", name_off)
            if sh_type == _SHT_NOBITS or end < 0:
                continue
            self.sections[names[name_off:end].decode("latin-1")] = (addr, off, size)

    def _read(self, offset: int, size: int) -> bytes:
        if offset < 0 or size < 0 or offset > self.size:
            raise ElfError(f"elf: read outside the file at {offset}")
        self._f.seek(offset)
        return self._f.read(min(size, self.size - offset))

    def section(self, name: str, limit: int) -> bytes | None:
        """The bytes of section ``name`` (at most ``limit``), or None when absent."""
        found = self.sections.get(name)
        if found is None:
            return None
        return self._read(found[1], min(found[2], limit))

    def read_at(self, addr: int, size: int) -> bytes:
        """``size`` bytes at virtual address ``addr``, mapped through the loadable segments."""
        for vaddr, off, filesz, _ in self.segments:
            if vaddr <= addr < vaddr + filesz:
                return self._read(off + addr - vaddr, min(size, vaddr + filesz - addr))
        for vaddr, off, secsize in self.sections.values():
            if vaddr and vaddr <= addr < vaddr + secsize:
                return self._read(off + addr - vaddr, min(size, vaddr + secsize - addr))
        raise ElfError(f"elf: address {addr:#x} is not mapped")

    def first_data_segment(self) -> tuple[int, int] | None:
        """(file offset, size) of the first loadable segment that is writable, not executable."""
        for _, off, filesz, flags in self.segments:
            if flags & (PF_X | PF_W) == PF_W:
                return off, filesz
        return None

    def read_file(self, offset: int, size: int) -> bytes:
        """``size`` bytes at file ``offset`` (fewer at the end of the file)."""
        return self._read(offset, size)
