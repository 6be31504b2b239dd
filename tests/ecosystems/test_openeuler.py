"""openEuler end to end in the library: os-release → OS package → OSV record of its branch.

Before the ecosystems catalog, ``advisories/release.py`` keyed ``openEuler``
while os-release IDs are lower-cased, so no openEuler package was ever matched.
The record below has the shape of osv.dev's openEuler export (``OESA-…``,
ecosystem ``openEuler:<branch>-<service pack>``).
"""

from __future__ import annotations

from imagewatch.advisories import from_dict, match_package
from imagewatch.ecosystems.catalog import ecosystem_and_release, os_ecosystem
from imagewatch.ecosystems.osrelease import _from_os_release
from imagewatch.ecosystems.purls import os_package
from imagewatch.models import Package

OS_RELEASE = '''NAME="openEuler"
VERSION="22.03 (LTS-SP3)"
ID="openEuler"
VERSION_ID="22.03"
PRETTY_NAME="openEuler 22.03 (LTS-SP3)"
ANSI_COLOR="0;31"
'''

RECORD = {
    "schema_version": "1.6.0",
    "id": "OESA-2024-1488",
    "modified": "2024-04-26T12:00:00Z",
    "published": "2024-04-26T12:00:00Z",
    "summary": "golang security update",
    "upstream": ["CVE-2023-45288"],
    "affected": [{
        "package": {"ecosystem": "openEuler:22.03-LTS-SP3", "name": "golang",
                    "purl": "pkg:rpm/openEuler/golang&distro=openEuler-22.03-LTS-SP3"},
        "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.17.3-29"}]}],
    }, {
        "package": {"ecosystem": "openEuler:20.03-LTS-SP4", "name": "golang"},
        "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.15.7-40"}]}],
    }],
    "database_specific": {"severity": "High"},
}


def test_openeuler_os_release_gives_its_osv_ecosystem() -> None:
    os = _from_os_release(OS_RELEASE)
    assert os is not None and os.id == "openeuler"
    assert os_ecosystem(os) == "openEuler"
    assert ecosystem_and_release(os) == "openEuler:22.03-LTS-SP3"


def test_openeuler_package_matches_the_advisory_of_its_branch() -> None:
    os = _from_os_release(OS_RELEASE)
    raw = Package(name="golang", version="1.17.3-26.oe2203sp3", ecosystem="Red Hat", kind="os",
                  source_name="golang", source_version="1.17.3-26.oe2203sp3")
    pkg = os_package(raw, os)
    assert pkg.ecosystem == "openEuler"
    assert pkg.purl.startswith("pkg:rpm/openeuler/golang@")
    findings = match_package(pkg, os, [from_dict(RECORD)])
    assert [f.advisory_id for f in findings] == ["OESA-2024-1488"]
    assert findings[0].fixed_versions == ["1.17.3-29"]
    fixed = Package(name="golang", version="1.17.3-29.oe2203sp3", ecosystem="openEuler", kind="os")
    assert match_package(fixed, os, [from_dict(RECORD)]) == []
