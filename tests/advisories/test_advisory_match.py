"""Range evaluation rules, package matching, merging and severity."""

from __future__ import annotations

from pathlib import Path

import pytest

from imagewatch.advisories import (
    Advisory, AdvisoryIndex, Affected, Event, PackageRef, Range, SeverityScore, cvss_score,
    ecosystem_and_release, is_affected, load_path, match_package, normalise_name, severity_of,
)
from imagewatch.models import OSInfo, Package
from imagewatch.versions import scheme_for

from .shared_data import shared

DATA = Path(__file__).parent / "data"
PEP440 = scheme_for("PyPI")


def entry(*events: dict, kind: str = "ECOSYSTEM", versions: list[str] = (), eco: str = "PyPI",
          name: str = "pkg") -> Affected:
    return Affected(package=PackageRef(ecosystem=eco, name=name), versions=list(versions),
                    ranges=[Range(type=kind, events=[Event(**e) for e in events])])


@pytest.mark.parametrize(("version", "expected"), [
    ("0.1", False), ("1.0", True), ("1.5", True), ("2.0", False), ("2.5", False),
    ("3.0", True), ("3.1", True), ("3.2", False),
])
def test_events_introduced_fixed_last_affected(version: str, expected: bool) -> None:
    e = entry({"introduced": "1.0"}, {"fixed": "2.0"}, {"introduced": "3.0"}, {"last_affected": "3.1"})
    assert is_affected(e, version, PEP440) is expected


def test_events_are_sorted_before_evaluation() -> None:
    e = entry({"fixed": "2.0"}, {"introduced": "0"})
    assert is_affected(e, "1.9", PEP440) and not is_affected(e, "2.0", PEP440)


def test_limit_caps_the_range() -> None:
    e = entry({"introduced": "1.0"}, {"limit": "1.5"})
    assert is_affected(e, "1.4", PEP440) and not is_affected(e, "1.6", PEP440)


def test_git_ranges_never_match_versions_but_explicit_versions_do() -> None:
    e = entry({"introduced": "0"}, {"fixed": "abc123"}, kind="GIT", versions=["1.0.0"])
    assert not is_affected(e, "2.0", PEP440)
    assert is_affected(e, "1.0.0", PEP440) and is_affected(e, "1.0", PEP440)
    assert is_affected(e, "1.0.0", None)


def test_semver_range_in_a_non_semver_ecosystem_uses_semver() -> None:
    e = entry({"introduced": "1.0.0-alpha"}, {"fixed": "1.0.0"}, kind="SEMVER")
    assert is_affected(e, "1.0.0-beta", PEP440)


def test_unparsable_version_only_matches_the_list() -> None:
    e = entry({"introduced": "0"}, versions=["0.5m3"])
    assert is_affected(e, "0.5m3", PEP440) and not is_affected(e, "0.6m1", PEP440)


@pytest.mark.parametrize(("eco", "name", "expected"), [
    ("PyPI", "Django_Rest.framework", "django-rest-framework"), ("npm", "@Scope/Pkg", "@Scope/Pkg"),
    ("Go", "github.com/Foo/bar", "github.com/Foo/bar"), ("NuGet", "Newtonsoft.Json", "newtonsoft.json"),
    ("Maven", "org.apache.logging.log4j:log4j-core", "org.apache.logging.log4j:log4j-core"),
])
def test_normalise_name(eco: str, name: str, expected: str) -> None:
    assert normalise_name(eco, name) == expected


@pytest.mark.parametrize(("os", "expected"), [
    (OSInfo(id="debian", version_id="12"), "Debian:12"),
    (OSInfo(id="alpine", version_id="3.19.1"), "Alpine:v3.19"),
    (OSInfo(id="ubuntu", version_id="22.04"), "Ubuntu:22.04:LTS"),
    (OSInfo(id="ubuntu", version_id="23.10"), "Ubuntu:23.10"),
    (OSInfo(id="rocky", version_id="9.3"), "Rocky Linux:9"),
    (OSInfo(id="almalinux", version_id="8.9"), "AlmaLinux:8"),
    (OSInfo(id="wolfi", version_id="20230201"), "Wolfi"),
])
def test_ecosystem_and_release(os: OSInfo, expected: str) -> None:
    assert ecosystem_and_release(os) == expected


def test_cvss_vectors() -> None:
    assert cvss_score("CVSS_V3", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H") == (9.8, "critical")
    assert cvss_score("CVSS_V2", "AV:N/AC:L/Au:N/C:P/I:P/A:P") == (7.5, "high")
    score, rating = cvss_score("CVSS_V4", "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N")
    assert (score, rating) == (9.3, "critical")
    with pytest.raises(ValueError, match="^advisories.severity"):
        cvss_score("CVSS_V3", "CVSS:3.1/AV:X")


def test_severity_falls_back_to_database_specific() -> None:
    adv = Advisory(id="GHSA-x", database_specific={"severity": "MODERATE"})
    assert severity_of(adv) == (None, "medium")
    adv = Advisory(id="X", severity=[SeverityScore(type="CVSS_V3", score="CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N")],
                   database_specific={"severity": "LOW"})
    assert severity_of(adv) == (7.5, "high")
    assert severity_of(Advisory(id="Y")) == (None, "unknown")


def _adv(id: str, aliases: list[str], fixed: str, severity: str = "", withdrawn: str = "") -> Advisory:
    return Advisory(
        id=id, aliases=aliases, withdrawn=withdrawn,
        database_specific={"severity": severity} if severity else None,
        affected=[entry({"introduced": "0"}, {"fixed": fixed}, name="Demo_Pkg")],
    )


def test_findings_sharing_an_id_merge() -> None:
    pkg = Package(name="demo-pkg", version="1.0", ecosystem="PyPI", layer="sha256:l1")
    advisories = [
        _adv("PYSEC-1", ["CVE-1"], "1.2", "LOW"),
        _adv("GHSA-1", ["CVE-1"], "1.1", "HIGH"),
        _adv("CVE-1", [], "1.1"),
        _adv("PYSEC-2", ["CVE-2"], "0.9"),
        _adv("PYSEC-3", ["CVE-3"], "2.0", withdrawn="2024-01-01T00:00:00Z"),
    ]
    findings = match_package(pkg, None, advisories)
    assert len(findings) == 1
    f = findings[0]
    assert f.advisory_id == "PYSEC-1"
    assert set(f.ids) == {"PYSEC-1", "CVE-1", "GHSA-1"} and f.ids[0] == "PYSEC-1"
    assert f.cve == "CVE-1"
    assert f.severity == "high" and f.fixed_versions == ["1.1", "1.2"] and f.fixable
    assert f.layer == "sha256:l1"


def test_os_package_matches_source_name_and_release() -> None:
    advisories = list(load_path(DATA / "secdb"))
    os = OSInfo(id="alpine", version_id="3.19.1")
    pkg = Package(name="libcrypto3", source_name="openssl", version="3.1.7-r0", ecosystem="Alpine", kind="os")
    findings = match_package(pkg, os, advisories)
    assert [f.advisory_id for f in findings] == ["CVE-2024-9143"]
    assert findings[0].fixed_versions == ["3.1.7-r1"] and findings[0].package == "libcrypto3"
    other_release = OSInfo(id="alpine", version_id="3.17.0")
    assert match_package(pkg, other_release, advisories) == []


def test_go_stdlib_at_toolchain_version() -> None:
    index = AdvisoryIndex(load_path(DATA / "GO-2023-1840.json"))
    hits = index.match([Package(name="stdlib", version="go1.20.4", ecosystem="Go")])
    assert [(f.advisory_id, f.fixed_versions) for f in hits] == [("GO-2023-1840", ["1.20.5"])]
    assert index.match([Package(name="stdlib", version="go1.20.5", ecosystem="Go")]) == []
    assert index.match([Package(name="stdlib", version="go1.20rc1", ecosystem="Go")])


def test_old_wheels_against_real_pypi_data() -> None:
    index = AdvisoryIndex(load_path(shared("osv/PyPI")))
    packages = [
        Package(name="Django", version="2.2", ecosystem="PyPI"),
        Package(name="urllib3", version="1.24.1", ecosystem="PyPI"),
        Package(name="urllib3", version="2.2.3", ecosystem="PyPI"),
    ]
    findings = index.match(packages)
    django = [f for f in findings if f.package == "Django"]
    urllib3 = [f for f in findings if f.package == "urllib3"]
    assert len(django) > 20
    assert {f.version for f in urllib3} == {"1.24.1"}
    by_cve = {f.cve: f for f in urllib3}
    assert by_cve["CVE-2019-11324"].fixed_versions == ["1.24.2"]
    assert "GHSA-mh33-7rrq-662w" in by_cve["CVE-2019-11324"].ids
    assert all(len(set(f.ids)) == len(f.ids) for f in findings)
