"""Every machine-readable format validates against its official JSON schema."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest
from report.schema_check import cyclonedx_validator, errors, sarif_validator, spdx_validator

from imagewatch.models import Finding, Package
from imagewatch.report import ScanResult, render


def _doc(result: ScanResult, fmt: str) -> dict:
    return json.loads(render(result, fmt))


def _minimal() -> ScanResult:
    return ScanResult(reference="localhost:5000/scratch:latest",
                      created=datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone.utc))


@pytest.mark.parametrize("fmt,validator", [
    ("sarif", sarif_validator), ("cyclonedx", cyclonedx_validator), ("spdx", spdx_validator),
])
def test_full_result_validates(scan_result, fmt, validator):
    assert errors(validator(), _doc(scan_result, fmt)) == []


@pytest.mark.parametrize("fmt,validator", [
    ("sarif", sarif_validator), ("cyclonedx", cyclonedx_validator), ("spdx", spdx_validator),
])
def test_empty_result_validates(fmt, validator):
    assert errors(validator(), _doc(_minimal(), fmt)) == []


def test_schemas_reject_a_broken_document(scan_result):
    """The validators are not vacuous: a wrong enum value is caught in each format."""
    bom = _doc(scan_result, "cyclonedx")
    bom["vulnerabilities"][0]["ratings"][0]["severity"] = "severe"
    assert errors(cyclonedx_validator(), bom)
    sarif = _doc(scan_result, "sarif")
    sarif["runs"][0]["results"][0]["level"] = "fatal"
    assert errors(sarif_validator(), sarif)
    spdx = _doc(scan_result, "spdx")
    spdx["relationships"][0]["relationshipType"] = "HAS"
    assert errors(spdx_validator(), spdx)


def test_cyclonedx_content(scan_result):
    bom = _doc(scan_result, "cyclonedx")
    assert bom["specVersion"] == "1.5" and bom["bomFormat"] == "CycloneDX"
    image = bom["metadata"]["component"]
    assert image["type"] == "container" and image["purl"].startswith("pkg:oci/app@sha256")
    refs = [c["bom-ref"] for c in bom["components"]]
    assert len(refs) == len(set(refs)), "bom-refs are unique even for the same package twice"
    libc = next(c for c in bom["components"] if c["name"] == "libc6")
    props = {p["name"]: p["value"] for p in libc["properties"]}
    assert props["imagewatch:package:layer"].startswith("sha256:")
    assert props["imagewatch:package:path"] == "var/lib/dpkg/status"
    zlib = next(c for c in bom["components"] if c["name"] == "zlib1g")
    assert zlib["purl"] == "pkg:deb/debian/zlib1g@1:1.2.13.dfsg-1?arch=amd64&distro=debian-12"
    vulns = {v["id"]: v for v in bom["vulnerabilities"]}
    go = vulns["CVE-2023-39325"]
    assert {a["ref"] for a in go["affects"]} == {"pkg:golang/stdlib@v1.21.0", "pkg:golang/golang.org/x/net@v0.15.0"}
    assert go["ratings"] == [{"severity": "high", "score": 7.5}]
    assert "stdlib 1.21.3" in go["recommendation"] and "golang.org/x/net 0.17.0" in go["recommendation"]
    assert {r["id"] for r in go["references"]} == {"GO-2023-2102", "GHSA-4374-p667-p6c8"}
    assert "recommendation" not in vulns["CVE-2023-45853"]
    requests = vulns["CVE-2023-32681"]
    assert len(requests["affects"]) == 2, "both copies of requests are affected"
    all_refs = set(refs) | {image["bom-ref"]}
    assert all(a["ref"] in all_refs for v in bom["vulnerabilities"] for a in v["affects"])


def test_sarif_content(scan_result):
    run = _doc(scan_result, "sarif")["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    ids = [r["id"] for r in rules]
    assert len(ids) == len(set(ids))
    assert {"CVE-2023-39325", "CVE-2023-6246", "aws-access-key-id", "IW-CONFIG-ROOT-USER"} <= set(ids)
    assert "GO-2023-2102" not in ids, "one rule per vulnerability, named by its CVE"
    by_rule = {r["id"]: r for r in rules}
    assert by_rule["CVE-2023-45853"]["properties"]["security-severity"] == "9.8"
    assert by_rule["aws-access-key-id"]["properties"]["security-severity"] == "9.5"
    assert len(run["results"]) == len(scan_result.findings) + len(scan_result.secrets)
    for res in run["results"]:
        assert rules[res["ruleIndex"]]["id"] == res["ruleId"]
    secret = next(r for r in run["results"] if r["ruleId"] == "aws-access-key-id")
    loc = secret["locations"][0]["physicalLocation"]
    assert loc["artifactLocation"]["uri"] == "app/.env" and loc["region"]["startLine"] == 3
    assert secret["level"] == "error"
    assert "AKIA*****" in secret["message"]["text"]
    medium = next(r for r in run["results"] if r["ruleId"] == "CVE-2024-0727")
    assert medium["level"] == "warning"


def test_sarif_uses_cve_as_rule_and_keeps_advisory(scan_result):
    run = _doc(scan_result, "sarif")["runs"][0]
    glibc = next(r for r in run["results"] if r["properties"]["advisoryId"] == "DSA-5611-1")
    assert glibc["ruleId"] == "CVE-2023-6246"


def test_spdx_content(scan_result):
    doc = _doc(scan_result, "spdx")
    assert doc["spdxVersion"] == "SPDX-2.3" and doc["dataLicense"] == "CC0-1.0"
    assert scan_result.digest.split(":")[1] not in doc["documentNamespace"]
    assert doc["creationInfo"]["created"] == "2024-05-01T12:00:00Z"
    ids = [p["SPDXID"] for p in doc["packages"]]
    assert len(ids) == len(set(ids)) == len(scan_result.packages) + 2
    rels = doc["relationships"]
    assert rels[0] == {"spdxElementId": "SPDXRef-DOCUMENT", "relationshipType": "DESCRIBES",
                       "relatedSpdxElement": "SPDXRef-Image"}
    contained = {r["relatedSpdxElement"] for r in rels if r["relationshipType"] == "CONTAINS"}
    assert contained == set(ids) - {"SPDXRef-Image"}
    libssl = next(p for p in doc["packages"] if p["name"] == "libssl3")
    assert libssl["downloadLocation"] == "NOASSERTION"
    assert libssl["externalRefs"][0]["referenceType"] == "purl"
    assert libssl["externalRefs"][0]["referenceCategory"] == "PACKAGE-MANAGER"
    assert libssl["licenseDeclared"] == "Apache-2.0"
    libc = next(p for p in doc["packages"] if p["name"] == "libc6")
    ref = libc["licenseDeclared"].split(" AND ")[0]
    assert ref.startswith("LicenseRef-") and libc["licenseDeclared"].endswith(" AND LGPL-2.1")
    extracted = {e["licenseId"]: e["extractedText"] for e in doc["hasExtractedLicensingInfos"]}
    assert extracted[ref] == "GPL-2+", "a non-SPDX licence text becomes a LicenseRef"
    for p in doc["packages"]:  # the stricter SPDX 2.3.1 pattern
        assert all(c.isalnum() or c in ".-" for c in p["SPDXID"][len("SPDXRef-"):])


def test_spdx_namespace_unique_per_digest_and_time(scan_result):
    other_digest = ScanResult(**{**{f: getattr(scan_result, f) for f in scan_result.__struct_fields__},
                                 "digest": "sha256:" + "0" * 64})
    later = ScanResult(**{**{f: getattr(scan_result, f) for f in scan_result.__struct_fields__},
                          "created": datetime(2024, 5, 2, tzinfo=timezone.utc)})
    namespaces = {_doc(r, "spdx")["documentNamespace"] for r in (scan_result, other_digest, later)}
    assert len(namespaces) == 3
    assert _doc(scan_result, "spdx")["documentNamespace"] == _doc(scan_result, "spdx")["documentNamespace"]


def test_package_without_purl_gets_one():
    result = ScanResult(reference="r/x:1", packages=[
        Package(name="Flask_Login", version="0.6.3", ecosystem="PyPI"),
        Package(name="github.com/sirupsen/logrus", version="v1.9.3", ecosystem="Go"),
        Package(name="org.apache.logging.log4j:log4j-core", version="2.14.1", ecosystem="Maven"),
    ], findings=[Finding(advisory_id="GHSA-jfh8-c2jp-5v3q", package="org.apache.logging.log4j:log4j-core",
                         version="2.14.1", ecosystem="Maven", severity="critical", score=10.0)])
    bom = _doc(result, "cyclonedx")
    purls = [c["purl"] for c in bom["components"]]
    assert purls == ["pkg:pypi/flask-login@0.6.3", "pkg:golang/github.com/sirupsen/logrus@v1.9.3",
                     "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1"]
    assert bom["vulnerabilities"][0]["affects"][0]["ref"] == purls[2]
    assert errors(cyclonedx_validator(), bom) == []
    assert errors(spdx_validator(), _doc(result, "spdx")) == []
