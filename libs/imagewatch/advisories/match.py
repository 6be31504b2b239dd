"""Matching packages against advisories, per the OSV evaluation rules.

A version is affected by an ``affected`` entry when it is listed in
``versions`` or falls in any ``SEMVER``/``ECOSYSTEM`` range. A range is
evaluated by walking its events sorted by the scheme (``introduced: "0"``
first): an introduced event at or below the version opens, a fixed event at or
below it closes, a last_affected event below it closes; ``limit`` events cap
the range. ``GIT`` ranges name commits and never match a version.

The functions have no effect beyond the prepared form of each advisory that
``compiled.py`` keeps on the advisory object.
"""

from __future__ import annotations

from typing import Any, Iterable

from imagewatch.models import Finding, OSInfo, Package
from imagewatch.versions import InvalidVersion, UnknownEcosystem, VersionScheme, base_ecosystem, scheme_for
from imagewatch.advisories.compiled import CompiledAdvisory, CompiledEntry, Events, compile_entry, compiled, range_scheme, sorted_events
from imagewatch.advisories.model import Advisory, Affected, Range
from imagewatch.advisories.malicious import as_malware
from imagewatch.advisories.merge import merge_findings
from imagewatch.advisories.names import normalise_name
from imagewatch.ecosystems.catalog import ecosystem_and_release, os_ecosystem
from imagewatch.ecosystems.go.linkage import strongest, verdict
from imagewatch.advisories.severity import severity_of, source_kind


DESCRIPTION_LIMIT = 2000
REFERENCE_LIMIT = 16


def _references(adv: Advisory) -> list[str]:
    """Reference URLs, advisories first, without duplicates."""
    ordered = sorted(adv.references, key=lambda r: r.type != "ADVISORY")
    return list(dict.fromkeys(r.url for r in ordered if r.url))[:REFERENCE_LIMIT]


def _vectors(adv: Advisory, entry: Affected) -> list[str]:
    """CVSS vectors of the advisory (and of the matched entry), as written."""
    scores = [*(adv.severity or []), *(entry.severity or [])]
    return list(dict.fromkeys(s.score for s in scores if s.type.startswith("CVSS_") and s.score))


def _evaluate(events: Events, v: Any) -> tuple[bool, str | None]:
    """Walk sorted events for version key ``v``: (affected, first fix above it or None)."""
    affected = False
    limits = []
    for _sort, kind, key, _value in events:
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
    for _sort, kind, key, value in events:  # ascending, so the first fix above is the lowest
        if kind == "fixed" and key > v:
            return True, value
    return True, None


def range_affected(rng: Range, version: str, scheme: VersionScheme) -> tuple[bool, str | None]:
    """Whether ``version`` is in the range, and the first fix above it (or None).

    GIT ranges, and versions the range's scheme cannot parse, are never affected.
    """
    if rng.type == "GIT":
        return False, None
    scheme = range_scheme(rng, scheme)
    try:
        v = scheme.key(version)
    except InvalidVersion:
        return False, None
    return _evaluate(sorted_events(rng, scheme), v)


def _listed(ce: CompiledEntry, version: str) -> bool:
    if not ce.listed:
        return False
    if version in ce.listed:
        return True
    if ce.scheme is None:
        return False
    try:
        v = ce.scheme.key(version)
    except InvalidVersion:
        return False
    if ce.listed_keys is not None:
        return v in ce.listed_keys
    for listed in ce.listed:
        try:
            if ce.scheme.key(listed) == v:
                return True
        except InvalidVersion:
            continue
    return False


def _entry_fixes(ce: CompiledEntry, version: str) -> tuple[bool, list[str]]:
    hit = bool(ce.listed) and _listed(ce, version)
    fixes: list[str] = []
    for scheme, events in ce.ranges:
        try:
            v = scheme.key(version)
        except InvalidVersion:
            continue
        inside, fix = _evaluate(events, v)
        if inside:
            hit = True
            if fix is not None and fix not in fixes:
                fixes.append(fix)
    return hit, fixes


def affected_fixes(affected: Affected, version: str, scheme: VersionScheme | None) -> tuple[bool, list[str]]:
    """Whether ``version`` is affected by the entry, and the fixes above it from affecting ranges."""
    return _entry_fixes(compile_entry(affected, scheme), version)


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


def _severity(prepared: CompiledAdvisory, ce: CompiledEntry) -> tuple[float | None, str, str]:
    """(score, rating, severity source) of one entry, kept on the prepared advisory."""
    found = prepared.severity.get(ce.index)
    if found is None:
        score, rating = severity_of(prepared.advisory, ce.entry)
        source = "" if rating == "unknown" else f"{source_kind(prepared.advisory, ce.entry)}:{prepared.advisory.id}"
        found = prepared.severity[ce.index] = (score, rating, source)
    return found


def reachability(pkg: Package, entries: Iterable[Affected]) -> str:
    """The Go linkage verdict of the affecting ``entries`` on ``pkg`` (``""`` when not judged).

    Every affecting entry must name its vulnerable packages (``imports``) for a
    verdict; the strongest verdict over the entries wins.
    """
    if pkg.linked is None:
        return ""
    found = []
    for entry in entries:
        imports = (entry.ecosystem_specific or {}).get("imports")
        if not isinstance(imports, list) or not imports:
            return ""
        found.append(verdict(pkg.linked, imports, pkg.name))
    return strongest(found)


def match_package(pkg: Package, os: OSInfo | None, advisories: Iterable[Advisory]) -> list[Finding]:
    """Findings for one package against candidate advisories, merged per vulnerability.

    Withdrawn advisories never match. Entries for other packages are ignored, so
    ``advisories`` may be a superset. Packages of Go binaries (``linked`` set)
    get the finding's ``reachability``.
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
        prepared = compiled(adv)
        first: CompiledEntry | None = None
        fixes: list[str] = []
        hits: list[Affected] = []
        for ce in prepared.entries_for(targets, by_base, name):
            entry_affected, entry_fixes = _entry_fixes(ce, version)
            if entry_affected:
                first = first or ce
                hits.append(ce.entry)
                fixes += [f for f in entry_fixes if f not in fixes]
        if first is None:
            continue
        score, rating, rated_by = _severity(prepared, first)
        findings.append(Finding(
            advisory_id=adv.id, ids=adv.ids, package=pkg.name, version=pkg.version,
            ecosystem=pkg.ecosystem, purl=pkg.purl, fixed_versions=fixes, severity=rating,
            score=score, summary=_summary(adv), layer=pkg.layer, path=pkg.path, severity_source=rated_by,
            reachability=reachability(pkg, hits),
            description=adv.details[:DESCRIPTION_LIMIT], references=_references(adv), cvss=_vectors(adv, first.entry),
        ))
    return [as_malware(f) for f in merge_findings(findings, scheme)]
