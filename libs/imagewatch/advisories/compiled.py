"""An advisory prepared for matching, computed once per advisory object and kept on it.

Matching one advisory against many packages (every image holding them)
repeated the same work: finding a package's entries among all of an
advisory's entries (an Alpine secdb CVE has one per branch and package),
parsing and sorting each range's events, and checking the explicit versions
list (hundreds of versions in PyPA records). ``compiled(advisory)`` does it
once; the result lives in the advisory's ``__dict__``, so it goes away with
the advisory and a changed advisory (a new object) is compiled afresh.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from imagewatch.versions import SCHEMES, InvalidVersion, UnknownEcosystem, VersionScheme, base_ecosystem, scheme_for
from imagewatch.advisories.model import Advisory, Affected, Range
from imagewatch.advisories.names import normalise_name

_SEMVER_FAMILY = frozenset({"semver", "go"})
_ZERO = (0,)
_LAST = (2,)
_ATTR = "_imagewatch_compiled"

# (sort key, kind, version key or None, version as written), ascending.
Events = list[tuple[tuple, str, Any, str]]


def range_scheme(rng: Range, scheme: VersionScheme) -> VersionScheme:
    """The scheme a range's events are ordered by: SEMVER ranges use SemVer unless already semver-like."""
    if rng.type == "SEMVER" and scheme.name not in _SEMVER_FAMILY:
        return SCHEMES["semver"]
    return scheme


def sorted_events(rng: Range, scheme: VersionScheme) -> Events:
    """The range's events sorted by ``scheme`` (``introduced: "0"`` first); unparseable ones are dropped."""
    out = []
    for ev in rng.events:
        for kind in ("introduced", "fixed", "last_affected", "limit"):
            value = getattr(ev, kind)
            if value is None:
                continue
            if kind == "introduced" and value == "0":
                out.append((_ZERO, kind, None, value))
            elif kind == "limit" and value == "*":
                out.append((_LAST, kind, None, value))
            else:
                try:
                    key = scheme.key(value)
                except InvalidVersion:
                    continue
                out.append(((1, key), kind, key, value))
    out.sort(key=lambda item: item[0])
    return out


class CompiledEntry(NamedTuple):
    """One ``affected`` entry: its position, scheme, explicit versions and non-GIT ranges prepared."""

    index: int
    entry: Affected
    scheme: VersionScheme | None
    listed: frozenset[str]
    listed_keys: frozenset | None  # None: not built (no scheme, or keys not hashable)
    ranges: list[tuple[VersionScheme, Events]]


def compile_entry(entry: Affected, scheme: VersionScheme | None, index: int = 0) -> CompiledEntry:
    """Prepare one entry for evaluation with ``scheme`` (None: only the explicit list can match)."""
    keys: frozenset | None = None
    ranges: list[tuple[VersionScheme, Events]] = []
    if scheme is not None:
        try:
            keys = frozenset(k for k in map(_key_or_none(scheme), entry.versions) if k is not None)
        except TypeError:
            keys = None
        for rng in entry.ranges:
            if rng.type != "GIT":
                used = range_scheme(rng, scheme)
                ranges.append((used, sorted_events(rng, used)))
    return CompiledEntry(index, entry, scheme, frozenset(entry.versions), keys, ranges)


def _key_or_none(scheme: VersionScheme):
    def key(version: str) -> Any:
        try:
            return scheme.key(version)
        except InvalidVersion:
            return None
    return key


class CompiledAdvisory:
    """Entry positions by (ecosystem as published, name) and by (base ecosystem, name), names
    normalised; each entry is prepared on first use, as is its severity (filled by the matcher)."""

    __slots__ = ("advisory", "exact", "base", "_entries", "_found", "severity")

    def __init__(self, advisory: Advisory) -> None:
        self.advisory = advisory
        self.exact: dict[tuple[str, str], list[int]] = {}
        self.base: dict[tuple[str, str], list[int]] = {}
        self._entries: dict[int, CompiledEntry] = {}
        self._found: dict[tuple[frozenset[str], bool, str], list[CompiledEntry]] = {}
        self.severity: dict[int, tuple[float | None, str, str]] = {}
        for i, entry in enumerate(advisory.affected):
            p = entry.package
            if p is not None:
                name = normalise_name(p.ecosystem, p.name)
                self.exact.setdefault((p.ecosystem, name), []).append(i)
                self.base.setdefault((base_ecosystem(p.ecosystem), name), []).append(i)

    def entries_for(self, targets: frozenset[str], by_base: bool, name: str) -> list[CompiledEntry]:
        """The entries about normalised ``name`` in one of ``targets`` (base ecosystems when
        ``by_base``), in the advisory's order."""
        key = (targets, by_base, name)
        entries = self._found.get(key)
        if entries is None:
            keyed = self.base if by_base else self.exact
            found: list[int] = []
            for target in targets:
                more = keyed.get((target, name))
                if more:
                    found = more if not found else sorted(found + more)
            entries = self._found[key] = [self.entry(i) for i in found]
        return entries

    def entry(self, index: int) -> CompiledEntry:
        """The entry at ``index`` of ``affected``, prepared with its ecosystem's scheme."""
        found = self._entries.get(index)
        if found is None:
            entry = self.advisory.affected[index]
            found = self._entries[index] = compile_entry(entry, _scheme(entry.package.ecosystem), index)
        return found


def _scheme(ecosystem: str) -> VersionScheme | None:
    try:
        return scheme_for(ecosystem)
    except UnknownEcosystem:
        return None


def compiled(advisory: Advisory) -> CompiledAdvisory:
    """The advisory prepared for matching (indexed on first use, then kept on the advisory)."""
    found = advisory.__dict__.get(_ATTR)
    if found is None:
        found = advisory.__dict__[_ATTR] = CompiledAdvisory(advisory)
    return found
