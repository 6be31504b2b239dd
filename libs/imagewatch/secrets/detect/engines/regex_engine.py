"""Pure-Python fallback prefilter: all keywords in one alternation regex.

Matches do not overlap, so a keyword that straddles another one's hit can be
missed; the Hyperscan and Aho-Corasick engines report every occurrence.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from imagewatch.secrets.detect.rule import Rule
from imagewatch.secrets.detect.engines.base import WHOLE_FILE


def _alternation(words: dict[bytes, list[int]], flags: int) -> re.Pattern[bytes] | None:
    if not words:
        return None
    ordered = sorted(words, key=len, reverse=True)
    return re.compile(b"|".join(re.escape(w) for w in ordered), flags)


def _closure(words: dict[bytes, list[int]]) -> dict[bytes, list[int]]:
    # The alternation reports the longest keyword at a position; a shorter
    # keyword inside it must still count as a hit for its own rules.
    return {w: sorted({i for k, idx in words.items() if k in w for i in idx}) for w in words}


class RegexPrefilter:
    """Prefilter that needs nothing beyond the standard library."""

    name = "regex"

    def __init__(self, rules: Sequence[Rule]) -> None:
        self._caseless: dict[bytes, list[int]] = {}
        self._exact: dict[bytes, list[int]] = {}
        for i, r in enumerate(rules):
            table = self._exact if r.case_sensitive else self._caseless
            for k in r.keywords:
                table.setdefault(k.encode(), []).append(i)
        self._caseless = _closure(self._caseless)
        self._exact = _closure(self._exact)
        self._re_caseless = _alternation(self._caseless, re.IGNORECASE)
        self._re_exact = _alternation(self._exact, 0)
        self._whole = [i for i, r in enumerate(rules) if not r.keywords]

    def hits(self, data: bytes) -> list[tuple[int, int]]:
        """Return (rule index, keyword end offset) pairs for ``data``."""
        out = [(i, WHOLE_FILE) for i in self._whole]
        for regex, table, lower in (
            (self._re_caseless, self._caseless, True),
            (self._re_exact, self._exact, False),
        ):
            if regex is None:
                continue
            for m in regex.finditer(data):
                word = m.group().lower() if lower else m.group()
                out.extend((i, m.end()) for i in table[word])
        return out
