"""Apply the ignore file and VEX documents to a scan result.

The ignore file suppresses vulnerabilities (by advisory id or alias, optionally
narrowed to a package) and secrets/misconfigurations (by rule id, optionally
narrowed to a file path). An expired entry suppresses nothing and yields a
warning. A VEX statement suppresses a vulnerability when the latest statement
that applies to it says ``not_affected`` or ``fixed``. Suppressed items are kept
in ``ScanResult.suppressed`` so the JSON output can show why.
"""

from __future__ import annotations

import datetime as dt

import msgspec

from imagewatch.models import Finding, Package, SecretFinding
from imagewatch.report.ignorefile import IgnoreEntry, IgnoreFile
from imagewatch.report.purls import package_purl
from imagewatch.report.result import ScanResult, Suppressed
from imagewatch.report.vex import SUPPRESSING, VexDoc, VexStatement, purl_matches, statement_applies


def _finding_purl(f: Finding) -> str:
    return f.purl or package_purl(Package(name=f.package, version=f.version, ecosystem=f.ecosystem))


def _in_paths(e: IgnoreEntry, path: str) -> bool:
    from fnmatch import fnmatchcase

    return not e.paths or any(fnmatchcase(path.lstrip("/"), p.lstrip("/")) for p in e.paths)


def _entry_matches_finding(e: IgnoreEntry, f: Finding) -> bool:
    if e.id != f.advisory_id and e.id not in f.ids:
        return False
    if not _in_paths(e, f.path):
        return False
    if not e.package:
        return True
    if e.package.startswith("pkg:"):
        return purl_matches(e.package, _finding_purl(f))
    return e.package == f.package


def _entry_matches_secret(e: IgnoreEntry, s: SecretFinding) -> bool:
    return e.id == s.rule_id and (not e.package or e.package == s.path) and _in_paths(e, s.path)


def _vex_verdict(f: Finding, vex: list[VexDoc], result: ScanResult) -> tuple[VexStatement, str] | None:
    ids = {f.advisory_id, *f.ids}
    purl = _finding_purl(f)
    best: tuple[VexStatement, str] | None = None
    for doc in vex:
        for st in doc.statements:
            if statement_applies(st, ids, purl, result.reference, result.digest):
                if best is None or st.timestamp >= best[0].timestamp:
                    best = (st, doc.source)
    return best


def apply_suppressions(result: ScanResult, ignore: IgnoreFile | None, vex: list[VexDoc],
                       today: dt.date) -> tuple[ScanResult, list[Suppressed], list[str]]:
    """Split ``result`` into what still shows and what is suppressed, with warnings.

    Returns the result without the suppressed findings (its ``suppressed`` list
    extended with them), the newly suppressed items, and one warning per
    expired ignore entry.
    """
    entries = ignore.entries if ignore else []
    source = ignore.source if ignore else ""
    live = [e for e in entries if not e.expired(today)]
    warnings = [
        f"report: {source}: ignore entry {e.id}{' (' + e.package + ')' if e.package else ''} expired on "
        f"{e.expires.isoformat()} and no longer suppresses"
        + (f" (reason was: {e.reason})" if e.reason else "")
        for e in entries if e.expired(today) and e.expires is not None
    ]
    suppressed: list[Suppressed] = []
    findings: list[Finding] = []
    for f in result.findings:
        entry = next((e for e in live if _entry_matches_finding(e, f)), None)
        if entry is not None:
            suppressed.append(Suppressed(kind="vulnerability", status="ignored", source=source,
                                         justification=entry.reason, finding=f))
            continue
        verdict = _vex_verdict(f, vex, result) if vex else None
        if verdict is not None and verdict[0].status in SUPPRESSING:
            st, doc_source = verdict
            suppressed.append(Suppressed(
                kind="vulnerability", status=st.status, source=doc_source,
                justification=st.justification, statement=st.impact_statement or st.action_statement,
                finding=f))
            continue
        findings.append(f)
    secrets: list[SecretFinding] = []
    for s in result.secrets:
        entry = next((e for e in live if _entry_matches_secret(e, s)), None)
        if entry is None:
            secrets.append(s)
        else:
            suppressed.append(Suppressed(kind=s.kind, status="ignored", source=source,
                                         justification=entry.reason, secret=s))
    out = msgspec.structs.replace(result, findings=findings, secrets=secrets,
                                  suppressed=[*result.suppressed, *suppressed])
    return out, suppressed, warnings
