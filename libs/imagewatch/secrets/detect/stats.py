"""Counters a ``Scanner`` keeps across the files it scans."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True)
class ScanStats:
    """What was scanned and what was skipped, and why."""

    files_scanned: int = 0
    bytes_scanned: int = 0
    skipped_binary: int = 0
    skipped_too_large: int = 0
    findings: int = 0
    placeholders: int = 0

    def add(self, other: ScanStats) -> None:
        """Add ``other``'s counters to this one."""
        for name in self.__slots__:
            setattr(self, name, getattr(self, name) + getattr(other, name))
