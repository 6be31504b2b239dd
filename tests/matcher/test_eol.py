"""End of life on the real endoflife.date records: OS releases and runtimes the inventory shows."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from imagewatch.advisories.load import load_records
from imagewatch.matcher.eol import eol_findings, runtimes
from imagewatch.models import OSInfo, Package
from imagewatch.signals.eol import EolCatalog

EOL = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "eol"
pytestmark = pytest.mark.skipif(not EOL.is_dir(), reason=f"shared data missing at {EOL}")
TODAY = dt.date(2026, 12, 1)


def catalog(path: Path) -> dict:
    [found] = [r for r in load_records([path]) if isinstance(r, EolCatalog)]
    return found.products


def os_pkg(name: str, version: str) -> Package:
    return Package(name=name, version=version, ecosystem="Debian", kind="os")


def test_summary_and_product_yaml_read_alike():
    summary = catalog(EOL / "eol-summary.json")
    assert len(summary) == 16
    assert catalog(EOL / "products" / "debian.yaml")["debian"] == summary["debian"]
    buster = next(r for r in summary["debian"] if r.cycle == "10")
    assert (buster.codename, buster.eol, buster.eoes) == ("Buster", "2022-09-10", "2024-06-30")


@pytest.mark.parametrize(("os", "product", "cycle", "date"), [
    (OSInfo(id="debian", version_id="10"), "debian", "10", "2024-06-30"),       # Debian: LTS end counts
    (OSInfo(id="debian", version_id="11"), "debian", "11", "2026-08-31"),
    (OSInfo(id="alpine", version_id="3.17.3"), "alpine-linux", "3.17", "2024-11-22"),
    (OSInfo(id="ubuntu", version_id="18.04"), "ubuntu", "18.04", "2023-05-31"),  # ESM is paid: standard end
])
def test_os_releases_past_end_of_life(os, product, cycle, date):
    releases = catalog(EOL / "eol-summary.json")
    [f] = eol_findings([], os, releases, TODAY)
    assert (f.kind, f.component, f.product, f.cycle, f.eol) == ("eol", "os", product, cycle, date)
    assert f.latest and f.latest != cycle


def test_supported_releases_give_nothing():
    releases = catalog(EOL / "eol-summary.json")
    for os in (OSInfo(id="debian", version_id="12"), OSInfo(id="alpine", version_id="3.22.1"),
               OSInfo(id="ubuntu", version_id="24.04")):
        assert eol_findings([], os, releases, TODAY) == [], os


def test_runtimes_from_packages_and_paths():
    packages = [
        os_pkg("python3.7-minimal", "3.7.3-2+deb10u7"), os_pkg("nodejs", "16.20.2-1nodesource1"),
        os_pkg("php8.0-cli", "8.0.30-1"), os_pkg("dotnet-runtime-6.0", "6.0.36-1"),
        os_pkg("temurin-11-jdk", "11.0.25.0.0+9"), os_pkg("golang-1.19-go", "1.19.8-2"),
        os_pkg("python3.11", "3.11.2-6"),
        Package(name="rack", version="2.2.3", ecosystem="RubyGems",
                path="usr/local/bundle/ruby/gems/2.7.0/specifications/rack-2.2.3.gemspec"),
        Package(name="django", version="2.2", ecosystem="PyPI",
                path="usr/local/lib/python3.8/site-packages/Django-2.2.dist-info/METADATA"),
        Package(name="stdlib", version="v1.20.14", ecosystem="Go", path="usr/local/bin/app"),
    ]
    found = runtimes(packages, OSInfo(id="debian", version_id="12"))
    assert set(found) == {("python", "3.7"), ("nodejs", "16.20.2"), ("php", "8.0"), ("dotnet", "6.0"),
                          ("eclipse-temurin", "11"), ("go", "1.19"), ("python", "3.11"), ("ruby", "2.7"),
                          ("python", "3.8"), ("go", "1.20.14")}
    got = {(f.product, f.cycle): f for f in eol_findings(packages, OSInfo(id="debian", version_id="12"),
                                                          catalog(EOL / "eol-summary.json"), TODAY)}
    # Python 3.11 (to 2027-10) and Temurin 11 (to 2027-10) are still supported in December 2026.
    assert set(got) == {("python", "3.7"), ("python", "3.8"), ("nodejs", "16"), ("php", "8.0"), ("dotnet", "6"),
                        ("go", "1.19"), ("go", "1.20"), ("ruby", "2.7")}
    assert (got["python", "3.7"].eol, got["python", "3.7"].evidence) == ("2023-06-27", "python3.7-minimal")
    assert got["python", "3.8"].evidence == "usr/local/lib/python3.8"
    assert got["nodejs", "16"].eol == "2023-09-11" and got["nodejs", "16"].name == "Node.js 16"
    assert got["go", "1.20"].evidence == "usr/local/bin/app"
    assert all(f.kind == "eol" and f.component == "runtime" and f.eol for f in got.values())
