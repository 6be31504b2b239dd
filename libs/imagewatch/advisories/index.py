"""An in-memory index of advisories by (ecosystem, normalised package name).

The store answers the same question with one index lookup; this is for
offline use (tests, benchmarks, ``imagewatch scan`` without a database).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Iterable

from imagewatch.models import Finding, OSInfo, Package
from imagewatch.versions import base_ecosystem
from imagewatch.advisories.match import match_package, package_lookup
from imagewatch.advisories.model import Advisory
from imagewatch.advisories.names import normalise_name


def package_keys(advisory: Advisory) -> set[tuple[str, str]]:
    """The (ecosystem as published, normalised name) pairs an advisory names."""
    return {
        (a.package.ecosystem, normalise_name(a.package.ecosystem, a.package.name))
        for a in advisory.affected if a.package is not None
    }


class AdvisoryIndex:
    """Advisories keyed by exact ecosystem and by base ecosystem, then by name."""

    def __init__(self, advisories: Iterable[Advisory] = ()) -> None:
        self._by_key: dict[tuple[str, str], list[Advisory]] = defaultdict(list)
        self.count = 0
        for adv in advisories:
            self.add(adv)

    def add(self, advisory: Advisory) -> None:
        """Index one advisory (withdrawn ones are skipped)."""
        if advisory.withdrawn:
            return
        self.count += 1
        keys = package_keys(advisory)
        keys |= {(base_ecosystem(e), n) for e, n in keys}
        for key in keys:
            self._by_key[key].append(advisory)

    def candidates(self, ecosystem: str, name: str) -> list[Advisory]:
        """Advisories naming ``name`` (already normalised) in ``ecosystem`` or its base."""
        found = self._by_key.get((ecosystem, name), [])
        base = base_ecosystem(ecosystem)
        if base != ecosystem:
            seen = {id(a) for a in found}
            found = found + [a for a in self._by_key.get((base, name), []) if id(a) not in seen]
        return found

    def match(self, packages: Iterable[Package], os: OSInfo | None = None) -> list[Finding]:
        """Findings for every package of an inventory."""
        out: list[Finding] = []
        for pkg in packages:
            ecosystem, name, _version = package_lookup(pkg, os)
            candidates = self.candidates(ecosystem, name)
            if candidates:
                out += match_package(pkg, os, candidates)
        return out
