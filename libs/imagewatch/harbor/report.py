"""An image's findings as Harbor's vulnerability report (``HarborVulnerabilityReport``).

One item per finding. ``id`` is the CVE when the vulnerability has one (what
Harbor's CVE allowlist and UI key on), else the advisory id; every id goes to
``vendor_attributes.ids``. ``severity`` uses Harbor's names (``info`` is
``Negligible``); ``fix_version`` joins the fixed versions; ``description``,
``links``, ``preferred_cvss`` and ``cwe_ids`` come from the stored advisory;
``layer`` names the layer (digest and diff_id) that brought the package in.
"""

from __future__ import annotations

from datetime import datetime, timezone

from imagewatch.advisories.model import Advisory
from imagewatch.advisories.severity import cvss_score
from imagewatch.harbor.spec import scanner
from imagewatch.models import SEVERITY_ORDER, Finding

HARBOR_SEVERITY = {"critical": "Critical", "high": "High", "medium": "Medium", "low": "Low",
                   "info": "Negligible", "unknown": "Unknown"}
MAX_LINKS = 20


def _links(finding: Finding, advisory: Advisory | None) -> list[str]:
    urls = [r.url for r in (advisory.references if advisory else []) if r.url.startswith(("https://", "http://"))]
    if not urls and finding.cve:
        urls = [f"https://nvd.nist.gov/vuln/detail/{finding.cve}"]
    if not urls:
        urls = [f"https://osv.dev/vulnerability/{finding.advisory_id}"]
    return list(dict.fromkeys(urls))[:MAX_LINKS]


def _cvss(finding: Finding, advisory: Advisory | None) -> dict:
    out: dict = {}
    scores = list((advisory.severity if advisory else None) or [])
    for affected in (advisory.affected if advisory else []):
        scores.extend(affected.severity or [])
    for s in scores:
        for kind, suffix in (("CVSS_V3", "v3"), ("CVSS_V2", "v2")):
            if s.type == kind and f"vector_{suffix}" not in out:
                try:
                    score, _ = cvss_score(kind, s.score)
                except ValueError:
                    continue
                out[f"vector_{suffix}"], out[f"score_{suffix}"] = s.score, score
    if "score_v3" not in out and finding.score is not None:
        out["score_v3"] = finding.score
    return out


def _cwes(advisory: Advisory | None) -> list[str]:
    found = ((advisory.database_specific or {}).get("cwe_ids") if advisory else None) or []
    return [c for c in found if isinstance(c, str)]


def vulnerability_item(finding: Finding, advisory: Advisory | None, layer_digests: dict[str, str]) -> dict:
    """One ``VulnerabilityItem``."""
    item = {
        "id": finding.cve or finding.advisory_id,
        "package": finding.package,
        "version": finding.version,
        "fix_version": ", ".join(finding.fixed_versions),
        "severity": HARBOR_SEVERITY.get(finding.severity, "Unknown"),
        "description": (advisory.details or advisory.summary if advisory else "") or finding.summary,
        "links": _links(finding, advisory),
        "preferred_cvss": _cvss(finding, advisory),
        "cwe_ids": _cwes(advisory),
        "vendor_attributes": {"advisory_id": finding.advisory_id, "ids": finding.ids or [finding.advisory_id],
                              "ecosystem": finding.ecosystem, "purl": finding.purl, "path": finding.path},
    }
    if finding.layer:
        item["layer"] = {"digest": layer_digests.get(finding.layer, ""), "diff_id": finding.layer}
    return item


def vulnerability_report(artifact: dict, findings: list[Finding], advisories: dict[str, Advisory],
                         layer_digests: dict[str, str], generated_at: datetime | None = None) -> dict:
    """The ``HarborVulnerabilityReport`` of an artifact; ``severity`` is the highest of its items."""
    worst = max(findings, key=lambda f: SEVERITY_ORDER.get(f.severity, 0), default=None)
    when = (generated_at or datetime.now(timezone.utc)).astimezone(timezone.utc)
    return {
        "generated_at": when.isoformat().replace("+00:00", "Z"),
        "artifact": artifact,
        "scanner": scanner(),
        "severity": HARBOR_SEVERITY.get(worst.severity, "Unknown") if worst else "Unknown",
        "vulnerabilities": [vulnerability_item(f, advisories.get(f.advisory_id), layer_digests)
                            for f in findings],
    }
