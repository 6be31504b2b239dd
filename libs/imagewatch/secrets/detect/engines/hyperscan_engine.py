"""Hyperscan prefilter: every rule's anchor regex or keywords in one database.

Hyperscan (Intel's SIMD multi-regex matcher) scans all rules in one pass at
several GB/s; only the hit offsets cross into Python.
"""

from __future__ import annotations

from collections.abc import Sequence

import hyperscan

from imagewatch.secrets.detect.rule import Rule
from imagewatch.secrets.detect.engines.base import PrefilterError


def _literal(keyword: str) -> bytes:
    return b"".join(b"\\x%02x" % b for b in keyword.encode())


def _expressions(rules: Sequence[Rule]) -> tuple[list[bytes], list[int], list[int]]:
    exprs, ids, flags = [], [], []
    for i, r in enumerate(rules):
        if r.anchor is not None:
            exprs.append(r.anchor.encode())
            ids.append(i)
            flags.append(0)
            continue
        for k in r.keywords:
            exprs.append(_literal(k))
            ids.append(i)
            flags.append(0 if r.case_sensitive else hyperscan.HS_FLAG_CASELESS)
    return exprs, ids, flags


class HyperscanPrefilter:
    """Prefilter backed by one Hyperscan block-mode database."""

    name = "hyperscan"

    def __init__(self, rules: Sequence[Rule]) -> None:
        exprs, ids, flags = _expressions(rules)
        self._db = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
        try:
            self._db.compile(expressions=exprs, ids=ids, elements=len(exprs), flags=flags)
        except hyperscan.error as e:
            raise PrefilterError(f"secrets: hyperscan compile failed: {_culprit(exprs, flags, e)}") from None

    def hits(self, data: bytes) -> list[tuple[int, int]]:
        """Scan ``data`` once; return (rule index, hit end offset) pairs."""
        out: list[tuple[int, int]] = []
        append = out.append

        def on_match(rule: int, _start: int, end: int, _flags: int, _ctx: object) -> None:
            append((rule, end))

        self._db.scan(data, match_event_handler=on_match)
        return out


def _culprit(exprs: list[bytes], flags: list[int], err: Exception) -> str:
    for e, f in zip(exprs, flags):
        db = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
        try:
            db.compile(expressions=[e], ids=[0], elements=1, flags=[f])
        except hyperscan.error as one:
            return f"{e!r}: {one}"
    return str(err)
