"""One entry of a layer tar, as seen by analysers and by secret/misconfiguration scanners."""

from __future__ import annotations

import tarfile
from collections.abc import Callable
from typing import Literal

import msgspec

EntryType = Literal["file", "dir", "symlink", "hardlink", "char", "block", "fifo",
                    "whiteout", "opaque", "other"]


class LayerEntry(msgspec.Struct, frozen=True, kw_only=True):
    """Metadata of one tar entry; ``path`` is an image path (see ``layers.paths``).

    ``mode`` holds the permission bits including setuid/setgid/sticky
    (``mode & 0o4000`` is setuid, ``mode & 0o002`` world-writable). ``link`` is
    the symlink or hard-link target as an image path (symlinks resolved from the
    link's directory, clamped at the root). A ``whiteout`` entry's path is the
    deleted path; an ``opaque`` entry's path is the directory made opaque.
    """

    path: str
    type: EntryType
    mode: int = 0
    uid: int = 0
    gid: int = 0
    uname: str = ""
    gname: str = ""
    size: int = 0
    link: str = ""


# Reads the current entry's content, at most n bytes (default limits.max_read_bytes).
# Valid only during the on_entry call it was passed to.
ReadContent = Callable[..., bytes]
OnEntry = Callable[[LayerEntry, "ReadContent | None"], None]


def entry_type(ti: tarfile.TarInfo) -> EntryType:
    """The EntryType of a tar member."""
    if ti.isreg():
        return "file"
    if ti.isdir():
        return "dir"
    if ti.issym():
        return "symlink"
    if ti.islnk():
        return "hardlink"
    if ti.ischr():
        return "char"
    if ti.isblk():
        return "block"
    if ti.isfifo():
        return "fifo"
    return "other"
