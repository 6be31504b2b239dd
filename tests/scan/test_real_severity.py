"""Severities from the real shared data: distro urgency, advisory CVSS, CVE records; never silently unknown.

A Debian 12 image of real ``.deb`` files is matched against the Debian slice:
the findings are exactly those ``dpkg --compare-versions`` predicts from the
records, each carrying its CVE as an alias and a severity from the tracker
urgency or a CVSS source. The Django image fails the usual CI gate.
"""

from __future__ import annotations

import json
import sys

import pytest

from harness.images import tools_missing
from imagewatch.advisories import load_path
from imagewatch.cli.main import main
from imagewatch.store.db import connect_pool
from imagewatch.updater.sync import import_paths

from .realimages import SHARED, debian_layout, django_layout, dpkg_less, shared_paths

pytestmark = pytest.mark.skipif("umoci" in tools_missing(), reason="umoci is not installed")


@pytest.fixture(scope="module")
async def shared_dsn(_db_factory):
    paths = shared_paths()
    dsn = await _db_factory.create()
    pool = await connect_pool(dsn, 1, 2, migrate=False)
    try:
        await import_paths(pool, paths)
    finally:
        await pool.close()
    yield dsn
    await _db_factory.drop(dsn)


@pytest.fixture
def scan(monkeypatch, tmp_path, shared_dsn, capsys):
    monkeypatch.setenv("IMAGEWATCH_DATABASE_URL", shared_dsn)
    monkeypatch.setenv("IMAGEWATCH_DATA_DIR", str(tmp_path / "data"))
    for name in ("IMAGEWATCH_CONFIG", "NO_COLOR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)

    def run(layout, *options: str) -> tuple[int, str, str]:
        code = main(["scan", f"oci:{layout}:app", "--scanners", "vuln", "--cache-dir", str(tmp_path / "c"),
                     *options])
        out, err = capsys.readouterr()
        return code, out, err
    return run


def _vulns(out: str) -> list[dict]:
    return [v for r in json.loads(out)["Results"] for v in r.get("Vulnerabilities", [])]


def _predicted(manifest: list[dict[str, str]]) -> set[tuple[str, str]]:
    """(record id, binary package) the Debian slice says affect the image, by dpkg's own comparison."""
    by_source: dict[str, list[tuple[str, str]]] = {}
    for control in manifest:
        source, _, version = control.get("Source", control["Package"]).partition(" ")
        version = version.strip("()") or control["Version"]
        by_source.setdefault(source, []).append((control["Package"], version))
    out = set()
    for adv in load_path(SHARED / "debian" / "osv"):
        for entry in adv.affected:
            for binary, version in by_source.get(entry.package.name, ()):
                fixed = [e.fixed for r in entry.ranges for e in r.events if e.fixed]
                if not fixed or dpkg_less(version, fixed[0]):
                    out.add((adv.id, binary))
    return out


def _rated_anywhere(cve: str) -> bool:
    """Whether any shared record rates ``cve``: a CVE record with metrics, or a tracker urgency."""
    from imagewatch.advisories.cverecord import ratings_of
    for path in (SHARED / "severity").rglob(f"{cve}.json"):
        if any(f.ratings for f in ratings_of(json.loads(path.read_bytes()))):
            return True
    record = SHARED / "debian" / "osv" / f"DEBIAN-{cve}.json"
    return record.is_file() and '"not yet assigned"' not in record.read_text()


def test_debian_and_django_images_have_rated_severities_and_the_predicted_findings(scan, tmp_path):
    layout, manifest = debian_layout(tmp_path / "debian")
    code, out, err = scan(layout, "--format", "json")
    assert code == 0, err
    vulns = _vulns(out)
    got = {(v["AdvisoryID"], v["PkgName"]) for v in vulns}
    assert got == _predicted(manifest)
    assert len(got) > 20
    for v in vulns:  # the CVE the record tracks is the finding's id, the Debian record an alias
        assert v["VulnerabilityID"] == v["AdvisoryID"].removeprefix("DEBIAN-")
    sources = {v.get("SeveritySource", "").split(":", 1)[0] for v in vulns}
    assert "distro" in sources  # tracker urgency (unimportant, low ...)
    assert sources & {"cve", "nvd"}  # "not yet assigned": the CVE record's CVSS
    unknown = [v for v in vulns if v["Severity"] == "UNKNOWN"]
    assert all("SeveritySource" not in v for v in unknown)
    assert not [v["VulnerabilityID"] for v in unknown if _rated_anywhere(v["VulnerabilityID"])]
    # tar's CVE-2005-2541 is "unimportant" in the tracker: low, from the distribution
    tar = [v for v in vulns if v["AdvisoryID"] == "DEBIAN-CVE-2005-2541"]
    if tar:
        assert (tar[0]["Severity"], tar[0]["SeveritySource"]) == ("LOW", "distro:DEBIAN-CVE-2005-2541")

    django = django_layout(tmp_path / "django")
    code, out, err = scan(django, "--format", "json")
    assert code == 0, err
    py = _vulns(out)
    py_unknown = [v for v in py if v["Severity"] == "UNKNOWN"]
    print(f"debian 12: {len(vulns)} findings, {len(unknown)} unknown; "
          f"django image: {len(py)} findings, {len(py_unknown)} unknown", file=sys.__stderr__)
    assert len(py) > 30 and len(py_unknown) < 0.10 * len(py)
    assert len(unknown) + len(py_unknown) < 0.10 * (len(vulns) + len(py))
    sql = [v for v in py if v["VulnerabilityID"] == "CVE-2020-7471"]
    assert sql and sql[0]["Severity"] == "CRITICAL"
    code, out, err = scan(django, "--severity", "HIGH,CRITICAL", "--exit-code", "1")
    assert code == 1, err


def test_sort_priority_puts_kev_and_high_epss_first_with_columns(scan, tmp_path):
    layout, _ = debian_layout(tmp_path / "debian")
    code, out, err = scan(layout, "--format", "json", "--sort", "priority")
    assert code == 0, err
    vulns = _vulns(out)  # one Result (the OS packages): its order is the fix-first order
    ranks = [v["Priority"]["Rank"] for v in vulns]
    assert ranks == list(range(1, len(vulns) + 1))
    tiers = [v["Priority"]["Tier"] for v in vulns]
    assert tiers == sorted(tiers)
    for v in vulns:
        assert v["Priority"]["Tier"] != 1 or v["KEV"]["Listed"]
        if v["KEV"]["Listed"]:
            assert v["Priority"]["Tier"] == 1 and "listed in CISA KEV" in v["Priority"]["Reasons"][0]
    scored = [v for v in vulns if "EPSS" in v]
    assert scored and all(0 <= v["EPSS"]["Probability"] <= 1 for v in scored)
    # EPSS >= 0.10 outranks every non-listed finding whatever its severity
    likely = [v["Priority"]["Rank"] for v in scored if v["EPSS"]["Probability"] >= 0.10 and not v["KEV"]["Listed"]]
    rest = [v["Priority"]["Rank"] for v in vulns if v["Priority"]["Tier"] >= 3]
    assert likely and rest and max(likely) < min(rest)
    print(f"debian 12 fix-first: {len(vulns)} findings, tiers "
          f"{ {t: tiers.count(t) for t in sorted(set(tiers))} }", file=sys.__stderr__)

    code, out, err = scan(layout, "--sort", "priority")
    header = next(line for line in out.splitlines() if "Vulnerability" in line)
    assert [c.strip() for c in header.strip("│").split("│")][:6] == [
        "Priority", "Package", "Vulnerability", "Severity", "KEV", "EPSS"]
    first = next(line for line in out.splitlines() if line.startswith("│ 1 · "))
    assert vulns[0]["VulnerabilityID"] in first
