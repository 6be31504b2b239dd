"""File kinds of ``db import`` beyond OSV: Debian tracker JSON, CVE JSON 5 (real records), NVD API 2.0."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from imagewatch.advisories import match_package
from imagewatch.advisories.cverecord import CveRecordFile
from imagewatch.advisories.load import load_records
from imagewatch.models import OSInfo, Package

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"

TRACKER = {
    "openssl": {
        "CVE-2099-1000": {"description": "test flaw", "releases": {
            "bookworm": {"status": "resolved", "fixed_version": "3.0.15-1~deb12u1", "urgency": "high"},
            "bullseye": {"status": "open", "urgency": "low", "nodsa": "Minor issue", "nodsa_reason": "postponed"},
            "trixie": {"status": "resolved", "fixed_version": "0", "urgency": "unimportant"},
            "sid": {"status": "resolved", "fixed_version": "3.1.0-1", "urgency": "high"}}}},
    "zlib": {"TEMP-0000001-ABCDEF": {"releases": {"bookworm": {"status": "open", "urgency": "unimportant"}}}},
}


def _deb(name: str, source: str, version: str) -> Package:
    return Package(name=name, version=version, ecosystem="Debian", source_name=source, kind="os")


def test_debian_tracker_json_becomes_per_release_records_with_urgency(tmp_path):
    path = tmp_path / "tracker.json"
    path.write_text(json.dumps(TRACKER))
    records = {r.id: r for r in load_records([path])}
    assert set(records) == {"DEBIAN-CVE-2099-1000", "DEBIAN-TEMP-0000001-ABCDEF"}
    adv = records["DEBIAN-CVE-2099-1000"]
    assert adv.upstream == ["CVE-2099-1000"] and "CVE-2099-1000" in adv.ids
    # trixie is <not-affected> (fixed 0), sid is no release: only bookworm and bullseye
    assert {e.package.ecosystem for e in adv.affected} == {"Debian:12", "Debian:11"}
    [f] = match_package(_deb("libssl3", "openssl", "3.0.11-1~deb12u2"), OSInfo(id="debian", version_id="12"),
                        [adv])
    assert (f.cve, f.fixed_versions, f.severity, f.severity_source) == (
        "CVE-2099-1000", ["3.0.15-1~deb12u1"], "high", "distro:DEBIAN-CVE-2099-1000")
    [f] = match_package(_deb("libssl1.1", "openssl", "1.1.1w-0+deb11u1"), OSInfo(id="debian", version_id="11"),
                        [adv])
    assert (f.fixed_versions, f.severity) == ([], "low")
    bullseye = next(e for e in adv.affected if e.package.ecosystem == "Debian:11")
    assert bullseye.database_specific["nodsa_reason"] == "postponed"
    assert not match_package(_deb("libssl3", "openssl", "3.0.11-1"), OSInfo(id="debian", version_id="13"), [adv])


def test_nvd_api_answer_gives_nvd_primary_ratings(tmp_path):
    doc = {"format": "NVD_CVE", "version": "2.0", "vulnerabilities": [
        {"cve": {"id": "CVE-2099-2000", "lastModified": "2030-01-01T00:00:00.000", "metrics": {
            "cvssMetricV31": [
                {"source": "other@example.org", "type": "Secondary",
                 "cvssData": {"vectorString": "CVSS:3.1/AV:L/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N", "baseScore": 1.8}},
                {"source": "nvd@nist.gov", "type": "Primary",
                 "cvssData": {"vectorString": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "baseScore": 9.8}}]}}},
        {"cve": {"id": "CVE-2099-2001", "vulnStatus": "Rejected", "metrics": {}}}]}
    path = tmp_path / "nvd.json"
    path.write_text(json.dumps(doc))
    files = [r for r in load_records([path]) if isinstance(r, CveRecordFile)]
    assert [(f.ids, [(r.provider, r.score, r.rating) for r in f.ratings]) for f in files] == [
        (["CVE-2099-2000"], [("nvd", 9.8, "critical")]), (["CVE-2099-2001"], [])]


def test_real_vulnrichment_record_gives_cisa_adp_rating():
    path = SHARED / "severity" / "cisa-vulnrichment" / "2023" / "45xxx" / "CVE-2023-45853.json"
    if not path.is_file():
        pytest.skip(f"{path} not found (see ../shared/data/README.md)")
    [f] = [r for r in load_records([path])]
    assert [(r.provider, r.score, r.rating) for r in f.ratings] == [("adp:CISA-ADP", 8.8, "high")]
