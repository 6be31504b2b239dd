"""SPDX 2.3 JSON: the image as a package that CONTAINS every installed package.

Hand-built (the spdx-tools package pulls rdflib and friends for a document this
small); checked against the official 2.3 schema in the tests. The document
namespace is unique per image digest and creation time. Licenses that are valid
SPDX expressions are declared as such; other license texts become
``LicenseRef-`` entries in ``hasExtractedLicensingInfos``.
"""

from __future__ import annotations

import hashlib
import json
import re

from imagewatch.models import Package
from imagewatch.report.licenses import spdx_expression
from imagewatch.report.purls import image_purl, package_purl
from imagewatch.report.result import ScanResult

NAMESPACE_BASE = "https://spdx.org/spdxdocs/imagewatch"
_UNSAFE = re.compile(r"[^A-Za-z0-9.-]+")


def document_namespace(result: ScanResult) -> str:
    """A URI unique per image digest and creation time, as SPDX asks."""
    name = _UNSAFE.sub("-", result.name).strip("-") or "image"
    return f"{NAMESPACE_BASE}/{name}-{result.document_uuid}"


def _spdx_id(kind: str, text: str) -> str:
    return f"SPDXRef-{kind}-{hashlib.sha256(text.encode()).hexdigest()[:16]}"


class _Licenses:
    """Declared-license expressions, collecting LicenseRefs for non-SPDX texts."""

    def __init__(self) -> None:
        self.extracted: dict[str, dict] = {}

    def declared(self, p: Package) -> str:
        parts = []
        for lic in dict.fromkeys(x for x in p.licenses if x.strip()):
            expr = spdx_expression(lic)
            if expr is None:
                ref = "LicenseRef-" + hashlib.sha256(lic.encode()).hexdigest()[:16]
                self.extracted.setdefault(ref, {"licenseId": ref, "extractedText": lic, "name": lic[:80]})
                expr = ref
            parts.append(f"({expr})" if " " in expr else expr)
        return " AND ".join(parts) or "NOASSERTION"


def _package(p: Package, spdx_id: str, purl: str, licenses: _Licenses) -> dict:
    pkg: dict = {
        "SPDXID": spdx_id, "name": p.name, "versionInfo": p.version or "NOASSERTION",
        "downloadLocation": "NOASSERTION", "filesAnalyzed": False,
        "licenseConcluded": "NOASSERTION", "licenseDeclared": licenses.declared(p),
        "copyrightText": "NOASSERTION", "primaryPackagePurpose": "LIBRARY"
        if p.kind == "lang" else "INSTALL",
    }
    if p.source_name:
        pkg["sourceInfo"] = f"built package from: {p.source_name} {p.source_version}".strip()
    if purl:
        pkg["externalRefs"] = [{"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl",
                                "referenceLocator": purl}]
    notes = [f"{k}: {v}" for k, v in (("ecosystem", p.ecosystem), ("layer", p.layer),
                                      ("path", p.path)) if v]
    if notes:
        pkg["comment"] = "; ".join(notes)
    return pkg


def spdx_dict(result: ScanResult) -> dict:
    """The SPDX document as a JSON-ready dict."""
    image_id = "SPDXRef-Image"
    image: dict = {
        "SPDXID": image_id, "name": result.name, "versionInfo": result.digest or "NOASSERTION",
        "downloadLocation": "NOASSERTION", "filesAnalyzed": False,
        "licenseConcluded": "NOASSERTION", "licenseDeclared": "NOASSERTION",
        "copyrightText": "NOASSERTION", "primaryPackagePurpose": "CONTAINER",
        "comment": f"reference: {result.reference}"
        + (f"; platform: {result.platform}" if result.platform else ""),
    }
    if purl := image_purl(result.reference, result.digest, result.platform):
        image["externalRefs"] = [{"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl",
                                  "referenceLocator": purl}]
    packages = [image]
    relationships = [{"spdxElementId": "SPDXRef-DOCUMENT", "relationshipType": "DESCRIBES",
                      "relatedSpdxElement": image_id}]
    if result.os is not None:
        os_id = "SPDXRef-OperatingSystem"
        packages.append({
            "SPDXID": os_id, "name": result.os.id, "versionInfo": result.os.version_id or "NOASSERTION",
            "downloadLocation": "NOASSERTION", "filesAnalyzed": False,
            "primaryPackagePurpose": "OPERATING_SYSTEM",
        })
        relationships.append({"spdxElementId": image_id, "relationshipType": "CONTAINS",
                              "relatedSpdxElement": os_id})
    licenses = _Licenses()
    seen: set[str] = set()
    for p in result.packages:
        purl = package_purl(p, result.os)
        spdx_id = base = _spdx_id("Package", f"{purl}|{p.path}|{p.layer}")
        n = 1
        while spdx_id in seen:
            n += 1
            spdx_id = f"{base}-{n}"
        seen.add(spdx_id)
        packages.append(_package(p, spdx_id, purl, licenses))
        relationships.append({"spdxElementId": image_id, "relationshipType": "CONTAINS",
                              "relatedSpdxElement": spdx_id})
    doc: dict = {
        "spdxVersion": "SPDX-2.3", "dataLicense": "CC0-1.0", "SPDXID": "SPDXRef-DOCUMENT",
        "name": result.reference, "documentNamespace": document_namespace(result),
        "creationInfo": {"created": result.created_iso,
                         "creators": [f"Tool: imagewatch-{result.tool_version}"]},
        "packages": packages, "relationships": relationships,
    }
    if licenses.extracted:
        doc["hasExtractedLicensingInfos"] = list(licenses.extracted.values())
    return doc


class SpdxFormat:
    """SPDX 2.3 JSON document."""

    name = "spdx"
    media_type = "application/spdx+json"

    def render(self, result: ScanResult, *, color: bool = False) -> bytes:
        """Indented SPDX JSON with a trailing newline."""
        return (json.dumps(spdx_dict(result), indent=2, ensure_ascii=False) + "\n").encode()
