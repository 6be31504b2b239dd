"""Match an image's packages against the advisory store, and compare two finding lists.

Shared by the matcher service and the one-shot ``imagewatch scan``: packages
are grouped by the ecosystem they are looked up in (``Alpine:v3.19`` for OS
packages of a known distribution, ``PyPI`` ...), so the store is asked once per
ecosystem however many packages the image holds. Findings whose records carry
no severity take one from another record of the same vulnerability, then
from the CVE record or NVD (``advisories.borrowed``), one query each.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import msgspec

from imagewatch.advisories import match_package, package_lookup
from imagewatch.advisories.borrowed import fill_from_cve, fill_unknown
from imagewatch.ecosystems.go.linkage import strongest
from imagewatch.models import SEVERITY_ORDER, Finding, OSInfo, Package
from imagewatch.advisories.lookup import AdvisoryLookup
from imagewatch.store.advisories import PgAdvisories
from imagewatch.store.findings import finding_key
from imagewatch.versions import base_ecosystem


def as_lookup(store: Any) -> AdvisoryLookup:
    """``store`` as an ``AdvisoryLookup``: itself when it is one, else an asyncpg pool or connection wrapped."""
    return store if isinstance(store, AdvisoryLookup) else PgAdvisories(store)


async def match_packages(store: Any, packages: list[Package], os: OSInfo | None) -> list[Finding]:
    """Findings for every package, one per vulnerability and package.

    ``store`` is an ``AdvisoryLookup`` (the portable database file) or an
    asyncpg connection or pool holding the advisory store. A
    finding rated ``unknown`` gets the best severity stored under any of its
    ids (highest CVSS score, else highest rating) when another record has one,
    else its CVE's CVSS (CNA, ADP, NVD); ``severity_source`` says which.
    """
    groups: dict[str, dict[str, list[Package]]] = {}
    for pkg in packages:
        ecosystem, name, _version = package_lookup(pkg, os)
        groups.setdefault(ecosystem, {}).setdefault(name, []).append(pkg)
    lookup = as_lookup(store)
    findings: list[Finding] = []
    for ecosystem, by_name in groups.items():
        found = await lookup.advisories_for(ecosystem, list(by_name))
        for name, candidates in found.items():
            for pkg in by_name.get(name, ()):
                findings += match_package(pkg, os, candidates)
    unknown = {i for f in findings if f.severity == "unknown" for i in (f.ids or [f.advisory_id])}
    if unknown:
        findings = fill_unknown(findings, await lookup.known_severities(unknown))
    unknown = {i for f in findings if f.severity == "unknown" for i in (f.ids or [f.advisory_id])}
    if unknown:
        findings = fill_from_cve(findings, await lookup.cve_ratings(unknown))
    return same_reachability(findings)


def same_reachability(findings: list[Finding]) -> list[Finding]:
    """Findings stored under one key (one module version in several binaries) share the strongest verdict.

    The store keeps one row per key, so a module linked by one binary and not
    by another must be stored as linked.
    """
    by_key: dict[str, list[Finding]] = {}
    for f in findings:
        by_key.setdefault(finding_key(f), []).append(f)
    best = {k: strongest(f.reachability for f in group) for k, group in by_key.items() if len(group) > 1}
    if not best:
        return findings
    return [msgspec.structs.replace(f, reachability=best[k]) if (k := finding_key(f)) in best else f
            for f in findings]


async def rematch_packages(store: Any, packages: list[Package], os: OSInfo | None,
                           changed: Iterable[tuple[str, str]]) -> tuple[list[Package], list[Finding]]:
    """The packages an advisory change names, and their findings now.

    A package is named when it is looked up under one of the ``changed``
    (ecosystem, name) pairs, releases compared by base ecosystem; the findings
    of the image's other packages cannot have changed.
    """
    wanted = {(base_ecosystem(e), n) for e, n in changed}
    again = []
    for pkg in packages:
        ecosystem, name, _version = package_lookup(pkg, os)
        if (base_ecosystem(ecosystem), name) in wanted:
            again.append(pkg)
    return again, (await match_packages(store, again, os) if again else [])


def new_ids(known: set[str], findings: Iterable[Finding]) -> list[str]:
    """Primary ids of the findings none of whose ids is in ``known``."""
    return sorted({f.advisory_id for f in findings if known.isdisjoint(_ids(f))})


def new_and_fixed(before: Iterable[Finding], after: Iterable[Finding]) -> tuple[list[str], list[str]]:
    """(new, fixed) advisory ids going from ``before`` to ``after``.

    A vulnerability is the same when its findings share any id, so one that is
    reported under another primary id after an advisory update is neither new
    nor fixed. The ids returned are the findings' primary advisory ids.
    """
    before, after = list(before), list(after)
    return (new_ids({i for f in before for i in _ids(f)}, after),
            new_ids({i for f in after for i in _ids(f)}, before))


def severity_counts(findings: Iterable[Finding]) -> dict[str, int]:
    """Number of findings per severity, most severe first, severities without findings left out."""
    counts: dict[str, int] = {}
    for f in findings:
        counts[f.severity] = counts.get(f.severity, 0) + 1
    return dict(sorted(counts.items(), key=lambda kv: -SEVERITY_ORDER.get(kv[0], 0)))


def _ids(finding: Finding) -> list[str]:
    return finding.ids or [finding.advisory_id]
