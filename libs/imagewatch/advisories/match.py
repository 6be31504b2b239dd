"""Matching packages against advisories, per the OSV evaluation rules. Pure functions.

A version is affected by an ``affected`` entry when it is listed in
``versions`` or falls in any ``SEMVER``/``ECOSYSTEM`` range. A range is
evaluated by walking its events sorted by the scheme (``introduced: "0"``
first): an introduced event at or below the version opens, a fixed event at or
below it closes, a last_affected event below it closes; ``limit`` events cap
the range. ``GIT`` ranges name commits and never match a version.
"""

from __future__ import annotations

from typing import Any, Iterable

from ..models import Finding, OSInfo, Package
from ..versions import SCHEMES, InvalidVersion, UnknownEcosystem, VersionScheme, base_ecosystem, scheme_for
from .model import Advisory, Affected, Range
from .merge import merge_findings
from .names import normalise_name
from .release import ecosystem_and_release, os_ecosystem
from .severity import severity_of

_SEMVER_FAMILY = frozenset({"semver", "go"})
_ZERO = (0,)


def _range_scheme(rng: Range, scheme: VersionScheme) -> VersionScheme:
    if rng.type == "SEMVER" and scheme.name not in _SEMVER_FAMILY:
        return SCHEMES["semver"]
    return scheme


def _sorted_events(rng: Range, scheme: VersionScheme) -> list[tuple[tuple, str, Any]]:
    """(sort key, kind, version key) per event, ascending; unparseable events are dropped."""
    out = []
    for ev in rng.events:
        for kind in ("introduced", "fixed", "last_affected", "limit"):
            value = getattr(ev, kind)
            if value is None:
                continue
            if kind == "introduced" and value == "0":
                out.append((_ZERO, kind, None))
            elif kind == "limit" and value == "*":
                out.append(((2,), kind, None))
            else:
                try:
                    key = scheme.key(value)
                except InvalidVersion:
                    continue
                out.append(((1, key), kind, key))
    out.sort(key=lambda item: item[0])
    return out


def range_affected(rng: Range, version: str, scheme: VersionScheme) -> tuple[bool, str | None]:
    """Whether ``version`` is in the range, and the first fix above it (or None).

    GIT ranges, and versions the range's scheme cannot parse, are never affected.
    """
    if rng.type == "GIT":
        return False, None
    scheme = _range_scheme(rng, scheme)
    try:
        v = scheme.key(version)
    except InvalidVersion:
        return False, None
    affected = False
    limits = []
    events = _sorted_events(rng, scheme)
    for _sort, kind, key in events:
        if kind == "introduced":
            if key is None or v >= key:
                affected = True
        elif kind == "fixed":
            if v >= key:
                affected = False
        elif kind == "last_affected":
            if v > key:
                affected = False
        else:
            limits.append(key)
    if affected and limits and not any(lim is None or v < lim for lim in limits):
        affected = False
    if not affected:
        return False, None
    fixes = [ev.fixed for ev in rng.events if ev.fixed is not None and _above(scheme, ev.fixed, v)]
    return True, min(fixes, key=scheme.key) if fixes else None


def _above(scheme: VersionScheme, version: str, than: Any) -> bool:
    try:
        return scheme.key(version) > than
    except InvalidVersion:
        return False


def _listed(affected: Affected, version: str, scheme: VersionScheme | None) -> bool:
    if not affected.versions:
        return False
    if version in affected.versions:
        return True
    if scheme is None:
        return False
    try:
        v = scheme.key(version)
    except InvalidVersion:
        return False
    for listed in affected.versions:
        try:
            if scheme.key(listed) == v:
                return True
        except InvalidVersion:
            continue
    return False


def affected_fixes(affected: Affected, version: str, scheme: VersionScheme | None) -> tuple[bool, list[str]]:
    """Whether ``version`` is affected by the entry, and the fixes above it from affecting ranges."""
    hit = _listed(affected, version, scheme)
    fixes: list[str] = []
    if scheme is not None:
        for rng in affected.ranges:
            inside, fix = range_affected(rng, version, scheme)
            if inside:
                hit = True
                if fix is not None and fix not in fixes:
                    fixes.append(fix)
    return hit, fixes


def is_affected(affected: Affected, version: str, scheme: VersionScheme | None) -> bool:
    """Whether ``version`` is affected by one OSV ``affected`` entry.

    ``scheme`` orders the entry's ecosystem; with None only the explicit
    ``versions`` list can match.
    """
    return affected_fixes(affected, version, scheme)[0]


def _targets(pkg: Package, os: OSInfo | None) -> tuple[frozenset[str], bool]:
    """Ecosystems an entry may name to apply to ``pkg``; the flag means "compare bases"."""
    if pkg.kind == "os" and os is not None and os_ecosystem(os):
        return frozenset({ecosystem_and_release(os), os_ecosystem(os) or ""}), False
    if pkg.kind == "os":
        return frozenset({pkg.ecosystem}), False
    return frozenset({base_ecosystem(pkg.ecosystem)}), True


def package_lookup(pkg: Package, os: OSInfo | None) -> tuple[str, str, str]:
    """(ecosystem to look up, normalised name, version to compare) for a package.

    OS packages use the distro release ecosystem when ``os`` is known, their
    source package and source version when recorded, and their epoch.
    """
    if pkg.kind == "os":
        ecosystem = ecosystem_and_release(os) if os is not None and os_ecosystem(os) else pkg.ecosystem
        name = pkg.source_name or pkg.name
        version = pkg.source_version or pkg.version
        if pkg.epoch and ":" not in version:
            version = f"{pkg.epoch}:{version}"
        return ecosystem, normalise_name(ecosystem, name), version
    return pkg.ecosystem, normalise_name(pkg.ecosystem, pkg.name), pkg.version


def _summary(advisory: Advisory) -> str:
    if advisory.summary:
        return advisory.summary
    first = advisory.details.strip().split("\n", 1)[0] if advisory.details else ""
    return first[:200]


def match_package(pkg: Package, os: OSInfo | None, advisories: Iterable[Advisory]) -> list[Finding]:
    """Findings for one package against candidate advisories, merged per vulnerability.

    Withdrawn advisories never match. Entries for other packages are ignored, so
    ``advisories`` may be a superset.
    """
    targets, by_base = _targets(pkg, os)
    ecosystem, name, version = package_lookup(pkg, os)
    try:
        scheme: VersionScheme | None = scheme_for(ecosystem)
    except UnknownEcosystem:
        scheme = None
    findings = []
    for adv in advisories:
        if adv.withdrawn:
            continue
        hit, fixes, entry_hit = False, [], None
        for entry in adv.affected:
            p = entry.package
            if p is None:
                continue
            eco = base_ecosystem(p.ecosystem) if by_base else p.ecosystem
            if eco not in targets or normalise_name(p.ecosystem, p.name) != name:
                continue
            entry_affected, entry_fixes = affected_fixes(entry, version, scheme)
            if entry_affected:
                hit, entry_hit = True, entry_hit or entry
                fixes += [f for f in entry_fixes if f not in fixes]
        if not hit:
            continue
        score, rating = severity_of(adv, entry_hit)
        findings.append(Finding(
            advisory_id=adv.id, ids=adv.ids, package=pkg.name, version=pkg.version,
            ecosystem=pkg.ecosystem, purl=pkg.purl, fixed_versions=fixes, severity=rating,
            score=score, summary=_summary(adv), layer=pkg.layer, path=pkg.path,
        ))
    return merge_findings(findings, scheme)
