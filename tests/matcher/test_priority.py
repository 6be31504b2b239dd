"""The fix-first rules (docs/prioritisation.md) on real CISA KEV and FIRST EPSS records."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import msgspec
import pytest

from imagewatch.matcher.priority import ImageFacts, finding_signals, image_facts, priority_of, rank
from imagewatch.models import Finding
from imagewatch.signals.epss import parse_epss
from imagewatch.signals.kev import parse_kev
from imagewatch.store.signals import Signals

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
pytestmark = pytest.mark.skipif(not (SHARED / "kev").is_dir(), reason=f"shared data missing at {SHARED}")

# Real records: Log4Shell and Citrix CVE-2019-19781 are KEV-listed with known ransomware use;
# glibc "Looney Tunables" CVE-2023-4911 and sudo CVE-2021-3156 are KEV-listed without;
# CVE-2023-50387 (DNSSEC KeyTrap) is not in KEV but EPSS scores it 0.99995;
# CVE-2024-2961 (glibc iconv) is not in KEV, EPSS 0.88; CVE-2005-2541 (tar) EPSS 0.04, percentile 0.90.
WANTED = {"CVE-2021-44228", "CVE-2019-19781", "CVE-2023-4911", "CVE-2021-3156", "CVE-2023-50387",
          "CVE-2024-2961", "CVE-2005-2541", "CVE-2023-6246", "CVE-2007-5686"}


@cache
def real_signals() -> dict[str, Signals]:
    kev = parse_kev(json.loads((SHARED / "kev" / "known_exploited_vulnerabilities.json").read_bytes()))
    out: dict[str, Signals] = {}
    for e in kev.entries:
        if e.cve in WANTED:
            out[e.cve] = Signals(kev=True, kev_ransomware=e.ransomware, kev_date_added=e.date_added)
    for year in sorted({c.split("-")[1] for c in WANTED}):
        for s in parse_epss(SHARED / "epss" / "full" / f"CVE_{year}_EPSS.csv.gz").scores:
            if s.cve in WANTED:
                out[s.cve] = msgspec.structs.replace(out.get(s.cve) or Signals(), epss=s.probability,
                                                     epss_percentile=s.percentile)
    return out


def vuln(cve: str, severity: str = "medium", fixed: bool = True, package: str = "libc6", **extra) -> Finding:
    return Finding(advisory_id=f"DEBIAN-{cve}", ids=[f"DEBIAN-{cve}", cve], package=package, version="1",
                   ecosystem="Debian", severity=severity, fixed_versions=["2"] if fixed else [], **extra)


def test_real_records_say_what_the_tests_assume():
    s = real_signals()
    assert s["CVE-2021-44228"].kev and s["CVE-2021-44228"].kev_ransomware
    assert s["CVE-2019-19781"].kev and s["CVE-2019-19781"].kev_ransomware
    assert s["CVE-2023-4911"].kev and not s["CVE-2023-4911"].kev_ransomware
    assert not s["CVE-2023-50387"].kev and s["CVE-2023-50387"].epss > 0.99
    assert s["CVE-2005-2541"].epss < 0.10 and s["CVE-2005-2541"].epss_percentile < 0.95


def test_tiers_kev_then_epss_then_severity():
    facts = ImageFacts()
    s = real_signals()
    tiers = {cve: priority_of(f, finding_signals(f, s), facts).tier for cve, f in {
        "CVE-2023-4911": vuln("CVE-2023-4911", "low"),            # KEV beats a low rating
        "CVE-2023-50387": vuln("CVE-2023-50387", "low"),          # EPSS 0.99995 beats a low rating
        "CVE-2005-2541": vuln("CVE-2005-2541", "critical"),       # low EPSS: severity decides
        "CVE-2023-6246": vuln("CVE-2023-6246", "unknown"),        # unknown sits with medium
        "CVE-2007-5686": vuln("CVE-2007-5686", "low"),
    }.items()}
    assert tiers == {"CVE-2023-4911": 1, "CVE-2023-50387": 2, "CVE-2005-2541": 3, "CVE-2023-6246": 4,
                     "CVE-2007-5686": 5}


def test_fix_first_order_on_real_records():
    findings = [
        vuln("CVE-2005-2541", "critical", package="tar"),
        vuln("CVE-2024-2961", "high", package="libc6"),
        vuln("CVE-2023-50387", "high", fixed=False, package="libgnutls30"),
        vuln("CVE-2023-4911", "high", package="libc6"),
        vuln("CVE-2021-44228", "critical", fixed=False, package="log4j-core"),
        vuln("CVE-2007-5686", "low", package="passwd"),
        vuln("CVE-2021-3156", "high", fixed=False, package="sudo"),
    ]
    ranked = rank(findings, real_signals(), ImageFacts(runs_as_root=True))
    assert [r.finding.cve for r in ranked] == [
        "CVE-2021-44228",   # tier 1, ransomware use
        "CVE-2023-4911",    # tier 1, high, fixable
        "CVE-2021-3156",    # tier 1, high, no fix yet
        "CVE-2024-2961",    # tier 2, high, fixable
        "CVE-2023-50387",   # tier 2, high, no fix
        "CVE-2005-2541",    # tier 3 (critical, EPSS 0.04)
        "CVE-2007-5686",    # tier 5
    ]
    assert [r.priority.rank for r in ranked] == list(range(1, 8))
    top = ranked[0].priority
    assert top.tier_name == "known exploited"
    assert any("ransomware" in r for r in top.reasons) and "image runs as root" in top.reasons


def test_not_linked_reachability_lowers_one_tier_when_the_attribute_exists():
    s = real_signals()
    linked = msgspec.structs.replace(vuln("CVE-2023-4911", "high"), reachability="reachable")
    unlinked = msgspec.structs.replace(linked, reachability="not-linked")
    assert priority_of(linked, finding_signals(linked, s), ImageFacts()).tier == 1
    p = priority_of(unlinked, finding_signals(unlinked, s), ImageFacts())
    assert p.tier == 2 and any("not linked" in r for r in p.reasons)
    low = msgspec.structs.replace(vuln("CVE-2007-5686", "low"), reachability="not-linked")
    assert priority_of(low, finding_signals(low, s), ImageFacts()).tier == 5


def test_image_facts_break_ties_between_images_and_come_from_the_config():
    assert image_facts({"config": {"User": ""}}).runs_as_root
    assert image_facts({"config": {"User": "0:0"}}).runs_as_root
    assert not image_facts({"config": {"User": "1000", "ExposedPorts": {"8080/tcp": {}}}}).runs_as_root
    assert image_facts({"config": {"ExposedPorts": {"8080/tcp": {}, "443/tcp": {}}}}).exposed_ports == [
        "443/tcp", "8080/tcp"]
    from imagewatch.matcher.priority import Ranked, rank_rows
    s = real_signals()
    f = vuln("CVE-2005-2541", "high")
    rows = []
    for facts in (ImageFacts(), ImageFacts(exposed_ports=["80/tcp"]), ImageFacts(runs_as_root=True),
                  ImageFacts(in_use=True)):
        sig = finding_signals(f, s)
        rows.append(Ranked(finding=f, signals=sig, priority=priority_of(f, sig, facts), facts=facts))
    ordered = rank_rows(rows)
    assert [r.facts for r in ordered] == [ImageFacts(in_use=True), ImageFacts(runs_as_root=True),
                                          ImageFacts(exposed_ports=["80/tcp"]), ImageFacts()]
