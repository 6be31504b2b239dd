"""CycloneDX 1.5 JSON: the image's components and, optionally, its vulnerabilities.

Hand-built dicts, checked against the official 1.5 schema in the tests: the
document uses a small, stable corner of the spec, and building it directly
avoids cyclonedx-python-lib's serialisation layer (and its dependencies) on a
path the API also serves for large images.

Layout: ``metadata.component`` is the image (type ``container``, purl
``pkg:oci``); an ``operating-system`` component stands for the distribution;
every package is a ``library`` component whose ``bom-ref`` is its purl (made
unique when two files hold the same package) with ``imagewatch:`` properties
for layer, path and ecosystem. ``dependencies`` links image -> OS -> OS
packages and image -> language packages. ``vulnerabilities`` holds one entry
per vulnerability id with every affected component; a Go vulnerability whose
code no binary links (``Finding.reachability`` ``not-linked``) carries the VEX
analysis ``not_affected`` / ``code_not_reachable`` and ``unaffected`` versions.
"""

from __future__ import annotations

import json

from imagewatch.models import Finding, Package
from imagewatch.report import severity as sev
from imagewatch.report.licenses import spdx_expression
from imagewatch.report.purls import image_purl, package_purl
from imagewatch.report.result import ScanResult

SCHEMA = "http://cyclonedx.org/schema/bom-1.5.schema.json"
NOT_LINKED_DETAIL = ("No function of the vulnerable Go packages is linked into the binary "
                     "(read from its function table).")


def serial_number(result: ScanResult) -> str:
    """``urn:uuid:`` stable for one image digest and creation time."""
    return f"urn:uuid:{result.document_uuid}"


def _props(pairs: dict[str, object]) -> list[dict]:
    return [{"name": f"imagewatch:{k}", "value": str(v)} for k, v in pairs.items() if v not in ("", None)]


def _licenses(p: Package) -> list[dict]:
    if len(p.licenses) == 1 and (expr := spdx_expression(p.licenses[0])):
        return [{"expression": expr}]
    return [{"license": {"name": lic}} for lic in dict.fromkeys(p.licenses) if lic]


def _component(p: Package, ref: str, purl: str) -> dict:
    comp: dict = {"bom-ref": ref, "type": "library", "name": p.name}
    if p.version:
        comp["version"] = p.version
    if purl:
        comp["purl"] = purl
    if licenses := _licenses(p):
        comp["licenses"] = licenses
    props = _props({
        "package:ecosystem": p.ecosystem, "package:kind": p.kind, "package:layer": p.layer,
        "package:path": p.path, "package:source_name": p.source_name,
        "package:source_version": p.source_version, "package:arch": p.arch, "package:epoch": p.epoch,
    })
    if props:
        comp["properties"] = props
    return comp


def _source(vid: str) -> dict:
    if vid.startswith("CVE-"):
        return {"name": "NVD", "url": f"https://nvd.nist.gov/vuln/detail/{vid}"}
    if vid.startswith("GHSA-"):
        return {"name": "GitHub", "url": f"https://github.com/advisories/{vid}"}
    return {"name": "OSV", "url": f"https://osv.dev/vulnerability/{vid}"}


def _vulnerability(vid: str, findings: list[Finding], refs: list[str]) -> dict:
    worst = max(findings, key=lambda f: (sev.rank(f.severity), f.score or 0.0))
    rating: dict = {"severity": worst.severity}
    if worst.score is not None:
        rating["score"] = worst.score
    aliases = list(dict.fromkeys(i for f in findings for i in [f.advisory_id, *f.ids] if i != vid))
    vuln: dict = {"bom-ref": f"vuln:{vid}", "id": vid, "source": _source(vid), "ratings": [rating]}
    if aliases:
        vuln["references"] = [{"id": a, "source": _source(a)} for a in aliases]
    if worst.summary:
        vuln["description"] = worst.summary
    fixes = [f"{f.package} {', '.join(f.fixed_versions)}" for f in findings if f.fixed_versions]
    if fixes:
        vuln["recommendation"] = "Upgrade " + "; ".join(dict.fromkeys(fixes))
    if all(not f.linked for f in findings):
        vuln["analysis"] = {"state": "not_affected", "justification": "code_not_reachable",
                            "detail": NOT_LINKED_DETAIL}
    affects: dict[str, dict] = {}
    for f, ref in zip(findings, refs):
        entry = affects.setdefault(ref, {"ref": ref, "versions": []})
        if f.version and all(v["version"] != f.version for v in entry["versions"]):
            entry["versions"].append({"version": f.version, "status": "affected" if f.linked else "unaffected"})
    vuln["affects"] = [a if a["versions"] else {"ref": a["ref"]} for a in affects.values()]
    return vuln


def bom_dict(result: ScanResult, *, vulnerabilities: bool = True) -> dict:
    """The BOM as a JSON-ready dict; ``vulnerabilities=False`` gives a plain SBOM."""
    image_ref = image_purl(result.reference, result.digest, result.platform) or f"image:{result.reference}"
    image = {"bom-ref": image_ref, "type": "container", "name": result.name}
    if result.digest:
        image["version"] = result.digest
        image["purl"] = image_ref
    image["properties"] = _props({"image:reference": result.reference, "image:digest": result.digest,
                                  "image:platform": result.platform})
    components: list[dict] = []
    os_ref = ""
    if result.os is not None:
        os_ref = f"os:{result.os.id}@{result.os.version_id}"
        os_comp = {"bom-ref": os_ref, "type": "operating-system", "name": result.os.id}
        if result.os.version_id:
            os_comp["version"] = result.os.version_id
        if result.os.pretty_name:
            os_comp["description"] = result.os.pretty_name
        components.append(os_comp)

    seen: set[str] = {image_ref, os_ref}
    by_exact: dict[tuple, str] = {}
    by_loose: dict[tuple, str] = {}
    os_deps: list[str] = []
    image_deps: list[str] = [os_ref] if os_ref else []
    for p in result.packages:
        purl = package_purl(p, result.os)
        ref, n = purl, 1
        while ref in seen:
            n += 1
            ref = f"{purl}#{n}"
        seen.add(ref)
        components.append(_component(p, ref, purl))
        by_exact.setdefault((p.ecosystem, p.name, p.version, p.path), ref)
        by_loose.setdefault((p.ecosystem, p.name, p.version), ref)
        by_loose.setdefault((p.ecosystem, p.name), ref)
        (os_deps if p.kind == "os" and os_ref else image_deps).append(ref)

    bom: dict = {
        "$schema": SCHEMA, "bomFormat": "CycloneDX", "specVersion": "1.5",
        "serialNumber": serial_number(result), "version": 1,
        "metadata": {
            "timestamp": result.created_iso,
            "tools": {"components": [{"type": "application", "name": "imagewatch",
                                      "version": result.tool_version}]},
            "component": image,
        },
        "components": components,
        "dependencies": [{"ref": image_ref, "dependsOn": image_deps}]
        + ([{"ref": os_ref, "dependsOn": os_deps}] if os_ref else []),
    }
    if vulnerabilities:
        groups: dict[str, tuple[list[Finding], list[str]]] = {}
        for f in result.findings:
            ref = (by_exact.get((f.ecosystem, f.package, f.version, f.path))
                   or by_loose.get((f.ecosystem, f.package, f.version))
                   or by_loose.get((f.ecosystem, f.package)) or image_ref)
            fs, refs = groups.setdefault(f.cve or f.advisory_id, ([], []))
            fs.append(f)
            refs.append(ref)
        bom["vulnerabilities"] = [_vulnerability(vid, fs, refs) for vid, (fs, refs) in groups.items()]
    return bom


class CycloneDxFormat:
    """CycloneDX 1.5 JSON with components and vulnerabilities."""

    name = "cyclonedx"
    media_type = "application/vnd.cyclonedx+json; version=1.5"

    def render(self, result: ScanResult, *, color: bool = False) -> bytes:
        """Indented CycloneDX JSON with a trailing newline."""
        return (json.dumps(bom_dict(result), indent=2, ensure_ascii=False) + "\n").encode()
