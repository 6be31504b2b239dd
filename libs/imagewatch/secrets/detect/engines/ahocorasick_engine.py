"""Aho-Corasick keyword prefilter (pyahocorasick), for hosts without Hyperscan.

Caseless keywords are matched on a lowered copy of the file, case-sensitive
ones on the file itself; rules with only an anchor run over the whole file.
"""

from __future__ import annotations

from collections.abc import Sequence

import ahocorasick

from imagewatch.secrets.detect.rule import Rule
from imagewatch.secrets.detect.engines.base import WHOLE_FILE


def _automaton(pairs: list[tuple[str, int]]) -> ahocorasick.Automaton | None:
    if not pairs:
        return None
    table: dict[str, list[int]] = {}
    for k, i in pairs:
        table.setdefault(k, []).append(i)
    a = ahocorasick.Automaton()
    for k, idx in table.items():
        a.add_word(k, tuple(idx))
    a.make_automaton()
    return a


class AhoCorasickPrefilter:
    """Prefilter backed by two pyahocorasick automata."""

    name = "ahocorasick"

    def __init__(self, rules: Sequence[Rule]) -> None:
        caseless = [(k, i) for i, r in enumerate(rules) if not r.case_sensitive for k in r.keywords]
        exact = [(k, i) for i, r in enumerate(rules) if r.case_sensitive for k in r.keywords]
        self._caseless = _automaton(caseless)
        self._exact = _automaton(exact)
        self._whole = [i for i, r in enumerate(rules) if not r.keywords]

    def hits(self, data: bytes) -> list[tuple[int, int]]:
        """Return (rule index, keyword end offset) pairs for ``data``."""
        out = [(i, WHOLE_FILE) for i in self._whole]
        for automaton, text in ((self._caseless, data.lower()), (self._exact, data)):
            if automaton is None:
                continue
            for end, idx in automaton.iter(text.decode("latin-1")):
                out.extend((i, end + 1) for i in idx)
        return out
