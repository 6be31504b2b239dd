"""SARIF 2.1.0 output for code-scanning dashboards (GitHub, GitLab, Azure DevOps).

One rule per vulnerability id (the CVE when known) and per secret or
misconfiguration rule; one result per finding. ``level`` follows severity
(critical/high error, medium warning, else note) and every rule carries a
``security-severity`` score (the advisory's, else a stand-in per severity) as
GitHub expects. Locations are the package file, or the secret's file and line.
"""

from __future__ import annotations

import json
from urllib.parse import quote

from imagewatch.models import Finding, SecretFinding
from imagewatch.report import severity as sev
from imagewatch.report.result import ScanResult
from imagewatch.report.targets import OS_ECOSYSTEMS

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def level(severity: str) -> str:
    """SARIF result level for an imagewatch severity."""
    return {"critical": "error", "high": "error", "medium": "warning"}.get(severity, "note")


def _location(path: str, line: int, message: str) -> dict:
    uri = quote(path.lstrip("/"), safe="/@._-~+") or "image"
    return {
        "physicalLocation": {
            "artifactLocation": {"uri": uri, "uriBaseId": "ROOTPATH"},
            "region": {"startLine": max(line, 1), "endLine": max(line, 1),
                       "startColumn": 1, "endColumn": 1},
        },
        "message": {"text": message},
    }


def _rule(rule_id: str, name: str, title: str, help_text: str, severity: str,
          score: float, tags: list[str], help_uri: str = "") -> dict:
    rule = {
        "id": rule_id, "name": name,
        "shortDescription": {"text": title or rule_id},
        "fullDescription": {"text": title or rule_id},
        "defaultConfiguration": {"level": level(severity)},
        "help": {"text": help_text, "markdown": help_text},
        "properties": {"precision": "very-high", "security-severity": f"{score:.1f}",
                       "tags": [*tags, severity.upper()]},
    }
    if help_uri:
        rule["helpUri"] = help_uri
    return rule


def _vuln_help_uri(vid: str) -> str:
    if vid.startswith("CVE-"):
        return f"https://nvd.nist.gov/vuln/detail/{vid}"
    return f"https://osv.dev/vulnerability/{vid}"


class _Rules:
    """Rules in first-seen order; a rule's severity and score are the highest seen."""

    def __init__(self) -> None:
        self.rules: list[dict] = []
        self.index: dict[str, int] = {}

    def add(self, rule: dict, severity: str, score: float) -> int:
        rid = rule["id"]
        if rid not in self.index:
            self.index[rid] = len(self.rules)
            self.rules.append(rule)
        r = self.rules[self.index[rid]]
        if score > float(r["properties"]["security-severity"]):
            r["properties"]["security-severity"] = f"{score:.1f}"
        if sev.rank(severity) > sev.rank(r["properties"]["tags"][-1].lower()):
            r["properties"]["tags"][-1] = severity.upper()
            r["defaultConfiguration"]["level"] = level(severity)
        return self.index[rid]


def _vuln_result(rules: _Rules, f: Finding, image: str, os_pkg: bool) -> dict:
    vid = f.cve or f.advisory_id
    score = sev.score_of(f.severity, f.score)
    fixed = ", ".join(f.fixed_versions) or "none"
    help_text = (f"Vulnerability {vid}\nSeverity: {f.severity.upper()}\nPackage: {f.package}\n"
                 f"Fixed version: {fixed}\nAliases: {', '.join(f.ids) or f.advisory_id}\n{f.summary}")
    kind = "OsPackageVulnerability" if os_pkg else "LanguageSpecificPackageVulnerability"
    tags = ["vulnerability", "security"]
    if f.kind == "malware":
        kind, tags = "MaliciousPackage", ["malware", "security"]
        help_text = f"Known-malicious package {f.package} ({f.ecosystem})\n{vid}\n{f.summary}"
    rule = _rule(vid, kind, f.summary or vid, help_text, f.severity, score, tags, _vuln_help_uri(vid))
    idx = rules.add(rule, f.severity, score)
    text = (f"Package: {f.package}\nInstalled Version: {f.version}\nVulnerability {vid}\n"
            f"Severity: {f.severity.upper()}\nFixed Version: {fixed}")
    return {
        "ruleId": vid, "ruleIndex": idx, "level": level(f.severity), "message": {"text": text},
        "locations": [_location(f.path or image, 1, f"{image}: {f.package}@{f.version}")],
        "properties": {"security-severity": f"{score:.1f}", "advisoryId": f.advisory_id,
                       "aliases": list(f.ids), "purl": f.purl, "layer": f.layer},
    }


def _secret_result(rules: _Rules, s: SecretFinding, image: str) -> dict:
    score = sev.DEFAULT_SCORES.get(s.severity, 0.0)
    tags = [s.kind, "security"]
    help_text = f"{s.title}\nSeverity: {s.severity.upper()}" + (f"\n{s.remediation}" if s.remediation else "")
    name = {"secret": "Secret", "misconfiguration": "Misconfiguration", "malware": "Malware"}[s.kind]
    idx = rules.add(_rule(s.rule_id, name,
                          s.title, help_text, s.severity, score, tags), s.severity, score)
    where = f"{s.path}:{s.line}" if s.line else s.path
    text = f"{s.title} in {where}" + (f" ({s.preview}*****)" if s.preview else "")
    props = {"security-severity": f"{score:.1f}", "layer": s.layer}
    if s.layer_index is not None:
        props["layerIndex"] = s.layer_index
    if s.removed_in is not None:
        props["removedInLayer"] = s.removed_in
    result = {
        "ruleId": s.rule_id, "ruleIndex": idx, "level": level(s.severity), "message": {"text": text},
        "locations": [_location(s.path or image, s.line, f"{image}: {where}")], "properties": props,
    }
    if s.fingerprint:
        result["partialFingerprints"] = {"imagewatch/v1": s.fingerprint}
    return result


def sarif_dict(result: ScanResult) -> dict:
    """The SARIF log as a JSON-ready dict."""
    rules = _Rules()
    image = result.reference
    os_ecosystems = OS_ECOSYSTEMS | {p.ecosystem for p in result.packages if p.kind == "os"}
    results = [_vuln_result(rules, f, image, f.ecosystem in os_ecosystems) for f in result.findings]
    results += [_secret_result(rules, s, image) for s in result.secrets]
    run_props = {"imageName": result.reference, "imageDigest": result.digest,
                 "platform": result.platform}
    if result.os is not None:
        run_props["os"] = f"{result.os.id} {result.os.version_id}".strip()
    return {
        "$schema": SCHEMA, "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "imagewatch", "fullName": "imagewatch container image scanner",
                "version": result.tool_version,
                "semanticVersion": result.tool_version, "rules": rules.rules,
            }},
            "results": results, "columnKind": "utf16CodeUnits",
            "originalUriBaseIds": {"ROOTPATH": {"uri": "file:///"}},
            "invocations": [{"executionSuccessful": True, "endTimeUtc": result.created_iso}],
            "properties": {k: v for k, v in run_props.items() if v},
        }],
    }


class SarifFormat:
    """SARIF 2.1.0 log."""

    name = "sarif"
    media_type = "application/sarif+json"

    def render(self, result: ScanResult, *, color: bool = False) -> bytes:
        """Indented SARIF JSON with a trailing newline."""
        return (json.dumps(sarif_dict(result), indent=2, ensure_ascii=False) + "\n").encode()
