"""JSON output in Trivy's shape (``SchemaVersion`` 2) so users can switch tools.

Shape::

    {SchemaVersion: 2, CreatedAt, ArtifactName, ArtifactType: "container_image",
     Metadata: {ImageDigest, RepoDigests, Platform, OS: {Family, Name}},
     Results: [{Target, Class: malware|os-pkgs|lang-pkgs|secret|config, Type,
                Packages: [...], Vulnerabilities: [...], Secrets: [...],
                Misconfigurations: [...], Malware: [...], ExperimentalModifiedFindings: [...]}]}

``Malware`` (Trivy has no such class) lists known-malicious packages
(``Source: package``, the ``MAL-`` id and the record's summary) and malicious
or tampered files (``Source: file``, rule, file, layer, removed in), never file
contents.

``EndOfLife`` (ours) lists the OS release and runtimes past their end of
life (kind ``eol``, with the date). ``Remediation`` (ours) is the plan of
``matcher.remediation``: the upgrades (``Actions``), ``Top``, ``Advice`` and the
findings with no fix (``Unfixed``). ``Coverage`` (ours, not Trivy's) lists each OS release and ecosystem with the
advisory records, sources and last sync it was matched against; ``Warnings``
says what was not covered. Empty lists are left out of a Result. ``Packages`` are always listed (Trivy
needs ``--list-all-pkgs``). Suppressed findings go to the Result's
``ExperimentalModifiedFindings`` with ``Status``, ``Justification``,
``Statement``, ``Source`` and the original ``Finding``.
"""

from __future__ import annotations

import json

from imagewatch.models import Finding, Package, SecretFinding
from imagewatch.matcher.priority import Ranked
from imagewatch.report.result import ScanResult, Suppressed, finding_ref
from imagewatch.report.targets import Target, build_targets


def _layer(diff_id: str) -> dict:
    return {"DiffID": diff_id} if diff_id else {}


def _drop_empty(d: dict) -> dict:
    return {k: v for k, v in d.items() if v not in ("", None, [], {})}


def package_json(p: Package) -> dict:
    """One package as a Trivy ``Packages`` entry."""
    return _drop_empty({
        "ID": f"{p.name}@{p.version}", "Name": p.name, "Identifier": _drop_empty({"PURL": p.purl}),
        "Version": p.version, "Arch": p.arch, "SrcName": p.source_name,
        "SrcVersion": p.source_version, "Licenses": list(p.licenses), "Layer": _layer(p.layer),
        "FilePath": p.path, "Ecosystem": p.ecosystem,
    })


def vulnerability_json(f: Finding, ranked: Ranked | None = None) -> dict:
    """One finding as a Trivy ``Vulnerabilities`` entry; ``VulnerabilityID`` is the CVE when known.

    With ``ranked``: ``KEV`` (``Listed``, ``Ransomware``, ``DateAdded``),
    ``EPSS`` (``Probability``, ``Percentile``) and ``Priority`` (``Rank``,
    ``Tier``, ``TierName``, ``Reasons``), ours, not Trivy's.
    """
    extra: dict = {}
    if ranked is not None:
        s, p = ranked.signals, ranked.priority
        extra = {"KEV": _drop_empty({"Listed": s.kev, "Ransomware": s.kev_ransomware,
                                     "DateAdded": s.kev_date_added}) | {"Listed": s.kev},
                 "EPSS": None if s.epss is None else {"Probability": s.epss, "Percentile": s.epss_percentile},
                 "Priority": {"Rank": p.rank, "Tier": p.tier, "TierName": p.tier_name, "Reasons": p.reasons}}
    return _drop_empty(extra | {
        "VulnerabilityID": f.cve or f.advisory_id, "AdvisoryID": f.advisory_id,
        "Aliases": [i for i in f.ids if i != (f.cve or f.advisory_id)],
        "PkgID": f"{f.package}@{f.version}", "PkgName": f.package, "PkgPath": f.path,
        "PkgIdentifier": _drop_empty({"PURL": f.purl}), "InstalledVersion": f.version,
        "FixedVersion": ", ".join(f.fixed_versions), "Status": "fixed" if f.fixable else "affected",
        "Layer": _layer(f.layer), "PrimaryURL": primary_url(f), "Title": f.summary,
        "Description": f.description, "Severity": f.severity.upper(),
        "SeveritySource": f.severity_source, "Score": f.score, "Reachability": f.reachability,
        "CVSS": cvss_json(f), "References": f.references,
    } | {k: v for k, v in extra.items() if v is not None})


def primary_url(f: Finding) -> str:
    """The page a reader opens first: NVD for a CVE, GitHub for a GHSA, else OSV's page of the advisory."""
    if f.cve:
        return f"https://nvd.nist.gov/vuln/detail/{f.cve}"
    if f.advisory_id.startswith("GHSA-"):
        return f"https://github.com/advisories/{f.advisory_id}"
    return f"https://osv.dev/vulnerability/{f.advisory_id}"


def cvss_json(f: Finding) -> dict:
    """Trivy's ``CVSS`` object: per source (the advisory's database), ``V2Vector``/``V3Vector``/``V40Vector``
    with their scores."""
    from imagewatch.advisories.severity import cvss_score

    entry: dict = {}
    for vector in f.cvss:
        kind = "V40" if vector.startswith("CVSS:4") else "V3" if vector.startswith("CVSS:3") else "V2"
        try:
            score, _rating = cvss_score(f"CVSS_{'V4' if kind == 'V40' else kind}", vector)
        except ValueError:
            continue
        entry.setdefault(f"{kind}Vector", vector)
        entry.setdefault(f"{kind}Score", score)
    source = f.advisory_id.split("-", 1)[0].lower() or "osv"
    return {source: entry} if entry else {}


def secret_json(s: SecretFinding) -> dict:
    """One secret as a Trivy ``Secrets`` entry; ``Match`` shows only the preview."""
    return _drop_empty({
        "RuleID": s.rule_id, "Title": s.title, "Severity": s.severity.upper(),
        "StartLine": s.line or None, "EndLine": s.line or None,
        "Match": f"{s.preview}*****" if s.preview else "",
        "Layer": _drop_empty({"DiffID": s.layer, "Index": s.layer_index}),
        "RemovedInLayer": s.removed_in, "Fingerprint": s.fingerprint,
    })


def misconfig_json(s: SecretFinding) -> dict:
    """One misconfiguration as a Trivy ``Misconfigurations`` entry."""
    return _drop_empty({
        "Type": "image config" if s.path.startswith("config:") else "file", "ID": s.rule_id,
        "Title": s.title, "Severity": s.severity.upper(), "Resolution": s.remediation,
        "Status": "FAIL", "Layer": _layer(s.layer),
    })


def malware_package_json(f: Finding) -> dict:
    """One known-malicious package as a ``Malware`` entry."""
    return _drop_empty({
        "Source": "package", "ID": f.advisory_id, "Aliases": [i for i in f.ids if i != f.advisory_id],
        "Title": f.summary, "Severity": f.severity.upper(), "PkgName": f.package, "InstalledVersion": f.version,
        "Ecosystem": f.ecosystem, "PkgPath": f.path, "PkgIdentifier": _drop_empty({"PURL": f.purl}),
        "Layer": _layer(f.layer),
    })


def malware_file_json(s: SecretFinding) -> dict:
    """One malicious or tampered file as a ``Malware`` entry (no contents)."""
    return _drop_empty({
        "Source": "file", "ID": s.rule_id, "Title": s.title, "Severity": s.severity.upper(),
        "FilePath": s.path, "Layer": _drop_empty({"DiffID": s.layer, "Index": s.layer_index}),
        "RemovedInLayer": s.removed_in, "Resolution": s.remediation,
    })


def suppressed_json(s: Suppressed) -> dict:
    """One suppressed item with the reason it was suppressed and the original finding."""
    if s.finding is not None:
        body = malware_package_json(s.finding) if s.finding.kind == "malware" else vulnerability_json(s.finding)
    elif s.secret is not None and s.secret.kind == "malware":
        body = malware_file_json(s.secret)
    elif s.secret is not None and s.kind == "secret":
        body = secret_json(s.secret)
    else:
        body = misconfig_json(s.secret) if s.secret is not None else {}
    return _drop_empty({
        "Type": s.kind, "Status": s.status, "Justification": s.justification,
        "Statement": s.statement, "Source": s.source, "Finding": body,
    })


def _target_json(t: Target, ranking: dict, by_priority: bool) -> dict:
    findings = sorted(t.findings, key=lambda f: ranking[finding_ref(f)].priority.rank) if by_priority \
        else t.findings
    return _drop_empty({
        "Target": t.name, "Class": t.cls, "Type": t.type,
        "Packages": [package_json(p) for p in t.packages],
        "Vulnerabilities": [vulnerability_json(f, ranking.get(finding_ref(f))) for f in findings
                            if f.kind != "malware"],
        "Secrets": [secret_json(s) for s in t.secrets if s.kind == "secret"],
        "Misconfigurations": [misconfig_json(s) for s in t.secrets if s.kind == "misconfiguration"],
        "Malware": [malware_package_json(f) for f in t.findings if f.kind == "malware"]
        + [malware_file_json(s) for s in t.secrets if s.kind == "malware"],
        "ExperimentalModifiedFindings": [suppressed_json(s) for s in t.suppressed],
    })


def report_dict(result: ScanResult) -> dict:
    """The whole report as a JSON-ready dict (the API can embed it)."""
    os_info = _drop_empty({"Family": result.os.id, "Name": result.os.version_id}) if result.os else {}
    metadata = _drop_empty({
        "ImageDigest": result.digest,
        "RepoDigests": [f"{result.name}@{result.digest}"] if result.digest else [],
        "Platform": result.platform, "OS": os_info, "ToolVersion": result.tool_version,
        "Partial": bool(result.problems), "Problems": result.problems,
    })
    ranking = result.ranking()
    doc = {
        "SchemaVersion": 2, "CreatedAt": result.created_iso, "ArtifactName": result.reference,
        "ArtifactType": "container_image", "Metadata": metadata,
        "Results": [_target_json(t, ranking, result.sort == "priority") for t in build_targets(result)],
    }
    if result.eol:
        doc["EndOfLife"] = [_drop_empty({
            "Kind": e.kind, "Class": e.component, "Product": e.product, "Cycle": e.cycle, "Name": e.name,
            "Version": e.version, "EOL": e.eol, "ExtendedSupportUntil": e.extended_until,
            "Evidence": e.evidence, "Latest": e.latest}) for e in result.eol]
    plan = result.remediation()
    if plan.actions or plan.advice:
        doc["Remediation"] = _drop_empty({
            "Top": plan.top, "Advice": plan.advice,
            "Actions": [_drop_empty({
                "Kind": a.kind, "Ecosystem": a.ecosystem, "Package": a.package, "Packages": a.packages,
                "InstalledVersions": a.installed, "Target": a.target, "Command": a.command, "Layer": a.layer,
                "IDs": a.ids}) | {"Fixes": a.fixes, "Critical": a.critical, "High": a.high}
                for a in plan.actions],
            "Unfixed": [{"VulnerabilityID": u.advisory_id, "PkgName": u.package, "InstalledVersion": u.version,
                         "Severity": u.severity.upper()} for u in plan.unfixed],
        }) | {"Fixable": plan.fixable, "BaseFixable": plan.base_fixable, "AppFixable": plan.app_fixable}
    if result.coverage is not None:
        doc["Coverage"] = [_drop_empty({
            "Class": "os-pkgs" if e.kind == "os" else "lang-pkgs", "Ecosystem": e.ecosystem,
            "Packages": e.packages, "Records": e.records, "Sources": e.sources, "LastSync": e.last_sync,
            "Covered": e.covered}) | {"Covered": e.covered, "Records": e.records}
            for e in result.coverage.entries]
        doc["Warnings"] = list(result.coverage.warnings)
    return doc


class JsonFormat:
    """Trivy-compatible JSON report."""

    name = "json"
    media_type = "application/json"

    def render(self, result: ScanResult, *, color: bool = False) -> bytes:
        """Indented JSON, keys in a stable order, trailing newline."""
        return (json.dumps(report_dict(result), indent=2, ensure_ascii=False) + "\n").encode()
