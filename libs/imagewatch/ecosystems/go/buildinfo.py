"""Go build info: the ``\\xff Go buildinf:`` blob the Go linker embeds in binaries.

The 32-byte header is the 14-byte magic, the pointer size and a flags byte.
With flag bit 2 (Go 1.18+) the toolchain version and the module info follow
inline as uvarint-length-prefixed strings; before that the header holds two
pointers to Go string headers, read through the binary's address space.
The module info is the text ``runtime/debug.ParseBuildInfo`` reads.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from imagewatch.errors import ImagewatchError

MAGIC = b"\xff Go buildinf:"
_FLAG_BIG_ENDIAN = 0x1
_FLAG_INLINE = 0x2
_MAX_STRING = 4 << 20


class BuildInfoError(ImagewatchError, ValueError):
    """Build info that is present but cannot be decoded."""


@dataclass
class Module:
    """One module line: path, version, checksum, and its replacement if any."""

    path: str
    version: str = ""
    sum: str = ""
    replace: Module | None = None


@dataclass
class BuildInfo:
    """What ``go version -m`` prints: toolchain, main package and module, deps."""

    go_version: str
    path: str = ""
    main: Module | None = None
    deps: list[Module] = field(default_factory=list)
    settings: dict[str, str] = field(default_factory=dict)


def _uvarint(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while pos < len(data) and shift < 64:
        b = data[pos]
        pos += 1
        value |= (b & 0x7F) << shift
        if not b & 0x80:
            return value, pos
        shift += 7
    raise BuildInfoError("golang: truncated varint in build info")


def _strip_sentinels(mod: bytes) -> str:
    # The linker wraps module info in 16-byte sentinels; the byte before the closing one is '\n'.
    if len(mod) >= 33 and mod[-17] == 0x0A:
        return mod[16:-16].decode("utf-8", "replace")
    return ""


def decode_header(blob: bytes, read_at: Callable[[int, int], bytes] | None = None) -> tuple[str, str]:
    """(toolchain version, module info text) from a blob starting at the magic.

    ``read_at(addr, size)`` reads the binary's memory; only the pre-1.18 pointer
    format needs it.
    """
    if not blob.startswith(MAGIC) or len(blob) < 32:
        raise BuildInfoError("golang: no build info header")
    ptr_size, flags = blob[14], blob[15]
    if flags & _FLAG_INLINE:
        n, pos = _uvarint(blob, 32)
        version = blob[pos:pos + n].decode("utf-8", "replace")
        n, pos = _uvarint(blob, pos + n)
        return version, _strip_sentinels(blob[pos:pos + n])
    if ptr_size not in (4, 8) or read_at is None:
        raise BuildInfoError(f"golang: unsupported pointer build info (pointer size {ptr_size})")
    order = "big" if flags & _FLAG_BIG_ENDIAN else "little"

    def ptr(b: bytes, off: int = 0) -> int:
        if len(b) < off + ptr_size:
            raise BuildInfoError("golang: truncated pointer in build info")
        return int.from_bytes(b[off:off + ptr_size], order)

    def string_at(addr: int) -> bytes:
        hdr = read_at(addr, 2 * ptr_size)
        data_addr, length = ptr(hdr), ptr(hdr, ptr_size)
        if length == 0:
            return b""
        if length > _MAX_STRING:
            raise BuildInfoError("golang: build info string too long")
        return read_at(data_addr, length)

    version = string_at(ptr(blob, 16)).decode("utf-8", "replace")
    return version, _strip_sentinels(string_at(ptr(blob, 16 + ptr_size)))


def _module(fields: list[str]) -> Module:
    if len(fields) < 2:
        raise BuildInfoError(f"golang: malformed module line {fields!r}")
    return Module(path=fields[1], version=fields[2] if len(fields) > 2 else "",
                  sum=fields[3] if len(fields) > 3 else "")


def parse_modinfo(go_version: str, text: str) -> BuildInfo:
    """Parse module info lines (``path``, ``mod``, ``dep``, ``=>``, ``build``)."""
    info = BuildInfo(go_version=go_version)
    last: Module | None = None
    for line in text.splitlines():
        fields = line.split("\t")
        key = fields[0]
        if key == "path" and len(fields) > 1:
            info.path = fields[1]
        elif key == "mod":
            last = info.main = _module(fields)
        elif key == "dep":
            last = _module(fields)
            info.deps.append(last)
        elif key == "=>" and last is not None:
            last.replace = _module(fields)
        elif key == "build" and len(fields) > 1 and "=" in fields[1]:
            k, _, v = fields[1].partition("=")
            info.settings[k] = v
    return info


def parse_blob(blob: bytes, read_at: Callable[[int, int], bytes] | None = None) -> BuildInfo:
    """Decode a build info blob (starting at the magic) into a ``BuildInfo``."""
    return parse_modinfo(*decode_header(blob, read_at))
