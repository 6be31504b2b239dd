"""SPDX 2.3 tag-value (``--format spdx``, as Trivy names it): the SPDX JSON document written as tags.

The document is the one ``report.spdx`` builds (so both spellings describe
the same packages, ids, licences and relationships); this module only
changes its notation, following the SPDX 2.3 specification's tag names.
"""

from __future__ import annotations

import json

from imagewatch.report.catalog import render
from imagewatch.report.result import ScanResult

_DOC_TAGS = (("spdxVersion", "SPDXVersion"), ("dataLicense", "DataLicense"), ("SPDXID", "SPDXID"),
             ("name", "DocumentName"), ("documentNamespace", "DocumentNamespace"))
_PACKAGE_TAGS = (("name", "PackageName"), ("SPDXID", "SPDXID"), ("versionInfo", "PackageVersion"),
                 ("supplier", "PackageSupplier"), ("downloadLocation", "PackageDownloadLocation"),
                 ("filesAnalyzed", "FilesAnalyzed"), ("licenseConcluded", "PackageLicenseConcluded"),
                 ("licenseDeclared", "PackageLicenseDeclared"), ("copyrightText", "PackageCopyrightText"),
                 ("primaryPackagePurpose", "PrimaryPackagePurpose"))


def _value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    return f"<text>{text}</text>" if "\n" in text else text


def tag_value(doc: dict) -> str:
    """An SPDX JSON document (as a dict) in tag-value notation."""
    lines = [f"{tag}: {_value(doc[key])}" for key, tag in _DOC_TAGS if key in doc]
    info = doc.get("creationInfo") or {}
    lines += [f"Creator: {c}" for c in info.get("creators", [])]
    if "created" in info:
        lines.append(f"Created: {info['created']}")
    for rel in doc.get("relationships", []):
        if rel.get("spdxElementId") == doc.get("SPDXID"):
            lines.append(f"Relationship: {rel['spdxElementId']} {rel['relationshipType']} "
                         f"{rel['relatedSpdxElement']}")
    for pkg in doc.get("packages", []):
        lines += ["", "##### Package: " + str(pkg.get("name", ""))]
        lines += [f"{tag}: {_value(pkg[key])}" for key, tag in _PACKAGE_TAGS if key in pkg]
        for ref in pkg.get("externalRefs", []):
            lines.append(f"ExternalRef: {ref['referenceCategory']} {ref['referenceType']} {ref['referenceLocator']}")
    lines.append("")
    for rel in doc.get("relationships", []):
        if rel.get("spdxElementId") != doc.get("SPDXID"):
            lines.append(f"Relationship: {rel['spdxElementId']} {rel['relationshipType']} "
                         f"{rel['relatedSpdxElement']}")
    for lic in doc.get("hasExtractedLicensingInfos", []):
        lines += ["", f"LicenseID: {lic['licenseId']}", f"ExtractedText: <text>{lic['extractedText']}</text>",
                  f"LicenseName: {lic.get('name', lic['licenseId'])}"]
    return "\n".join(lines) + "\n"


def render_tag_value(result: ScanResult) -> bytes:
    """``result`` as an SPDX 2.3 tag-value document."""
    return tag_value(json.loads(render(result, "spdx"))).encode()
