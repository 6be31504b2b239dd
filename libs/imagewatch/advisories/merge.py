"""One finding per vulnerability: merge findings on a package that share any id.

GHSA, PYSEC and CVE records of one vulnerability alias each other; the merged
finding keeps every id, the worst severity and every fixed version.
"""

from __future__ import annotations

from imagewatch.ecosystems.go.linkage import strongest
from imagewatch.models import SEVERITY_ORDER, Finding
from imagewatch.versions import InvalidVersion, VersionScheme


def _primary_rank(advisory_id: str) -> tuple[int, str]:
    """Ecosystem-native ids (PYSEC, GO, RUSTSEC, DSA ...) first, then GHSA, then CVE."""
    return (2 if advisory_id.startswith("CVE-") else 1 if advisory_id.startswith("GHSA-") else 0, advisory_id)


def merge_findings(findings: list[Finding], scheme: VersionScheme | None = None) -> list[Finding]:
    """Merge findings on the same package that share any id into one finding.

    The merged finding keeps the preferred advisory id (native, then GHSA, then
    CVE), every id, the highest severity and score, and all fixed versions
    (sorted by ``scheme`` when given).
    """
    if len(findings) < 2:
        return findings
    groups: list[list[Finding]] = []
    group_of: dict[str, int] = {}
    for f in findings:
        hits = sorted({group_of[i] for i in f.ids if i in group_of})
        if not hits:
            groups.append([f])
            target = len(groups) - 1
        else:
            target = hits[0]
            groups[target].append(f)
            for other in hits[1:]:
                groups[target] += groups[other]
                for g in groups[other]:
                    for i in g.ids:
                        group_of[i] = target
                groups[other] = []
        for i in f.ids:
            group_of[i] = target
    return [_combine(g, scheme) for g in groups if g]


def _combine(group: list[Finding], scheme: VersionScheme | None) -> Finding:
    if len(group) == 1:
        return group[0]
    # A malicious-package report (MAL-) leads: its summary says what the package does.
    group = sorted(group, key=lambda f: (not f.advisory_id.startswith("MAL-"), _primary_rank(f.advisory_id)))
    head = group[0]
    ids = list(dict.fromkeys(i for f in group for i in f.ids))
    worst = max(group, key=lambda f: (SEVERITY_ORDER.get(f.severity, 0), f.score or 0.0))
    scores = [f.score for f in group if f.score is not None]
    fixes = list(dict.fromkeys(v for f in group for v in f.fixed_versions))
    if scheme is not None:
        try:
            fixes.sort(key=scheme.key)
        except InvalidVersion:
            pass
    return Finding(
        advisory_id=head.advisory_id, ids=ids, package=head.package, version=head.version,
        ecosystem=head.ecosystem, purl=head.purl, fixed_versions=fixes, severity=worst.severity,
        score=max(scores) if scores else None, summary=head.summary, layer=head.layer, path=head.path,
        severity_source=worst.severity_source,
        reachability=strongest(f.reachability for f in group),
    )
