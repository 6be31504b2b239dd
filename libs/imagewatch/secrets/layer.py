"""Scan one layer blob in one pass: file contents for secrets and malware, entry metadata for misconfigurations.

The malware scan (YARA, persistence and tampering checks) shares this pass:
each file is decompressed and read once, its head sniffed once (binary or
not, and the file class the YARA rule groups target) and, when the secret
scanner or malware wants it, its whole content handed to both. The one
exception: executables past the tampering check's pending budget that the
layer's own package database (read last) records are hashed in a second read
(``malware.tamper.Pending``).
"""

from __future__ import annotations

from pathlib import Path

import msgspec

from imagewatch.layers import LayerEntry, LayerLimits, ReadContent, walk_layer
from imagewatch.malware.filetype import classify
from imagewatch.malware.scan import MalwareScan
from imagewatch.models import SecretFinding
from imagewatch.secrets.detect import ScanStats, Scanner
from imagewatch.secrets.misconfig import FileEntry, check_files
from imagewatch.secrets.misconfig.filesystem import SETUID_ADDED
from imagewatch.secrets.detect.sniff import SNIFF_BYTES, is_binary

# Layer-position dependent checks run as if above the base layer; the image
# drops them again for layer 0 (see ``image.py``), so one cached result fits
# every position.
ABOVE_BASE = 1
BASE_ONLY_DROPPED = frozenset({SETUID_ADDED.id})
_STAT_FIELDS = ("files_scanned", "bytes_scanned", "skipped_binary", "skipped_too_large", "findings")


class LayerSecrets(msgspec.Struct, kw_only=True, omit_defaults=True):
    """What the secrets stage keeps of one layer, cached per (diff_id, version).

    ``findings`` carry no layer or position (the image fills them in).
    ``paths`` (non-directory entries), ``whiteouts`` and ``opaque_dirs`` say
    which lower files this layer deletes or overwrites. ``stats`` counts
    scanned and skipped files by the ``ScanStats`` field names and the
    ``malware_*`` counters. ``file_digests``, ``package_digests`` and
    ``diverted`` are what the tampering check needs (``malware.tamper``);
    ``tamper_basis`` is the ``Recorded.basis`` of the layers below it was read
    with (the digests are of exactly the files recorded there or in the layer).
    """

    findings: list[SecretFinding] = []
    paths: list[str] = []
    whiteouts: list[str] = []
    opaque_dirs: list[str] = []
    entries: int = 0
    uncompressed_bytes: int = 0
    stats: dict[str, int] = {}
    file_digests: dict[str, str] = {}
    package_digests: dict[str, dict[str, str]] = {}
    diverted: list[str] = []
    tamper_basis: str = ""


def scan_layer(blob: Path, media_type: str, scanner: Scanner, limits: LayerLimits,
               malware: MalwareScan | None = None, diff_id: str | None = None) -> LayerSecrets:
    """Read one layer blob once and scan every regular file and entry (blocking, CPU-bound).

    Files larger than ``scanner.max_size`` are skipped by the secret scanner
    and counted; binary files are skipped by it after sniffing their head.
    ``malware`` (when given) sees every entry and the whole content of the
    files it wants, from the same read. With ``diff_id`` the content is checked
    against it (``walk_layer``). Raises ``layers.LayerRefused`` / ``LayerError``
    as ``walk_layer`` does.
    """
    before = ScanStats()
    before.add(scanner.stats)
    malware_before = malware.stats() if malware is not None else {}
    if malware is not None:
        malware.take_digests()
    findings: list[SecretFinding] = []
    entries: list[FileEntry] = []

    def on_entry(entry: LayerEntry, read: ReadContent | None) -> None:
        if entry.type in ("whiteout", "opaque"):
            return
        entries.append(FileEntry(
            path=entry.path, mode=entry.mode & 0o7777, uid=entry.uid, gid=entry.gid, size=entry.size,
            layer_index=ABOVE_BASE, is_dir=entry.type == "dir", is_symlink=entry.type == "symlink"))
        is_file = entry.type == "file" and read is not None
        if malware is not None:
            findings.extend(malware.entry(entry.path, is_file, entry.size))
        if not is_file:
            return
        head = read(SNIFF_BYTES)
        binary = is_binary(head)
        data = None
        if malware is not None:
            kind = classify(head, binary)
            if malware.needs_content(entry.path, entry.size, kind):
                data = read() if entry.size > len(head) else head
                findings.extend(malware.content(entry.path, data, kind))
        if entry.size > scanner.max_size:
            scanner.stats.skipped_too_large += 1
            return
        if binary:
            scanner.stats.skipped_binary += 1
            return
        findings.extend(scanner.scan(entry.path, data if data is not None else read()))

    wanted = max(scanner.max_size, SNIFF_BYTES, malware.max_file_bytes if malware is not None else 0)
    read_limits = msgspec.structs.replace(limits, max_read_bytes=wanted)
    try:
        with open(blob, "rb") as f:
            walk = walk_layer(f, media_type, limits=read_limits, on_entry=on_entry, diff_id=diff_id)
        if malware is not None and (again := malware.settle()):
            _hash_again(blob, media_type, read_limits, malware, again)
    finally:
        if malware is not None:
            malware.close()
    findings.extend(check_files(entries))
    stats = {name: getattr(scanner.stats, name) - getattr(before, name) for name in _STAT_FIELDS}
    digests = malware.take_digests() if malware is not None else None
    if malware is not None:
        stats.update({k: v - malware_before.get(k, 0) for k, v in malware.stats().items()})
    return LayerSecrets(
        findings=[msgspec.structs.replace(f, layer="", layer_index=None, removed_in=None) for f in findings],
        paths=sorted(walk.paths), whiteouts=sorted(walk.whiteouts), opaque_dirs=sorted(walk.opaque_dirs),
        entries=walk.entries, uncompressed_bytes=walk.uncompressed_bytes, stats=stats,
        file_digests=digests.files if digests else {}, package_digests=digests.databases if digests else {},
        diverted=digests.diverted if digests else [],
        tamper_basis=malware.recorded.basis if malware is not None else "",
    )


def _hash_again(blob: Path, media_type: str, limits: LayerLimits, malware: MalwareScan,
                again: dict[str, frozenset[str]]) -> None:
    """Second read of a layer: hash the executables its own database records that the pending budget dropped."""

    def on_entry(entry: LayerEntry, read: ReadContent | None) -> None:
        if entry.type == "file" and read is not None and entry.path in again:
            malware.hash(entry.path, read(), again[entry.path])

    with open(blob, "rb") as f:
        walk_layer(f, media_type, limits=limits, on_entry=on_entry)
