"""Fix-first order in the API: ``?sort=priority`` and the fleet view ``/v1/priorities``, on real KEV/EPSS records."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from imagewatch.models import Finding, LayerRef
from imagewatch.signals.epss import parse_epss
from imagewatch.signals.kev import parse_kev
from imagewatch.store import findings as finding_store
from imagewatch.store import images as image_store
from imagewatch.store import signals as signal_store

from .conftest import call, digest_of
from .test_admission_api import admit, pod

SHARED = Path(__file__).resolve().parents[3] / ".." / "shared" / "data"
pytestmark = pytest.mark.skipif(not (SHARED / "kev").is_dir(), reason=f"shared data missing at {SHARED}")
CVES = ["CVE-2023-4911", "CVE-2023-50387", "CVE-2005-2541", "CVE-2007-5686"]


@pytest.fixture(autouse=True)
def no_registry(config):
    config.fetcher.insecure_registries = ["127.0.0.1:9"]
    config.admission.tag_source = "database"  # reg.example does not exist: judge the tags recorded here


def vuln(cve: str, severity: str, package: str, fixed: bool = True) -> Finding:
    return Finding(advisory_id=f"DEBIAN-{cve}", ids=[f"DEBIAN-{cve}", cve], package=package, version="1",
                   ecosystem="Debian", severity=severity, fixed_versions=["2"] if fixed else [])


async def image(pool, name: str, config: dict, findings: list[Finding]) -> str:
    digest = digest_of(name)
    layer = LayerRef(digest=digest_of(name + "-l"), diff_id=digest_of(name + "-d"), size=1,
                     media_type="application/vnd.oci.image.layer.v1.tar+gzip")
    async with pool.acquire() as conn:
        await image_store.record_image(
            conn, digest=digest, registry="reg.example:5000", repository=f"team/{name}",
            media_type="application/vnd.oci.image.manifest.v1+json", platform="linux/amd64",
            config_digest=digest_of(name + "-c"), config=config, index_digest="", layers=[layer], tag="1")
        await image_store.init_stages(conn, digest)
        await image_store.set_stage(conn, digest, "matcher", "done")
        await finding_store.replace_findings(conn, digest, findings)
    return digest


async def import_signals(pool) -> None:
    kev = parse_kev(json.loads((SHARED / "kev" / "known_exploited_vulnerabilities.json").read_bytes()))
    scores = [s for y in ("2005", "2007", "2023")
              for s in parse_epss(SHARED / "epss" / "full" / f"CVE_{y}_EPSS.csv.gz").scores if s.cve in CVES]
    async with pool.acquire() as conn:
        await signal_store.replace_kev(conn, kev.entries)
        await signal_store.replace_epss(conn, scores)


async def test_image_vulnerabilities_sorted_by_priority_with_kev_and_epss(api, pool):
    await import_signals(pool)
    digest = await image(pool, "app", {"config": {"User": "", "ExposedPorts": {"8080/tcp": {}}}}, [
        vuln("CVE-2005-2541", "critical", "tar"), vuln("CVE-2007-5686", "low", "passwd"),
        vuln("CVE-2023-50387", "high", "libgnutls30"), vuln("CVE-2023-4911", "high", "libc6")])
    status, body = await call(api, "GET", f"/v1/images/{digest}/vulnerabilities?sort=priority")
    assert status == 200, body
    items = body["items"]
    assert [i["cve"] for i in items] == ["CVE-2023-4911", "CVE-2023-50387", "CVE-2005-2541", "CVE-2007-5686"]
    top = items[0]
    assert top["kev"] is True and top["kev_ransomware"] is False and top["kev_date_added"] == "2023-11-21"
    assert top["epss"] > 0.5 and top["priority"]["rank"] == 1 and top["priority"]["tier_name"] == "known exploited"
    assert "image runs as root" in top["priority"]["reasons"]
    assert "image exposes 8080/tcp" in top["priority"]["reasons"]
    assert items[1]["kev"] is False and items[1]["priority"]["tier"] == 2
    # the default order stays most severe first, still with the fields
    status, body = await call(api, "GET", f"/v1/images/{digest}/vulnerabilities")
    assert [i["cve"] for i in body["items"]][0] == "CVE-2005-2541" and "priority" in body["items"][0]
    status, body = await call(api, "GET", f"/v1/images/{digest}/vulnerabilities?sort=score")
    assert status == 400 and "sort" in body["error"]


async def test_fleet_view_groups_by_cve_and_ranks_images_in_use_first(api, pool):
    await import_signals(pool)
    app = await image(pool, "app", {"config": {"User": "1000"}}, [
        vuln("CVE-2005-2541", "high", "tar"), vuln("CVE-2007-5686", "low", "passwd")])
    worker = await image(pool, "worker", {"config": {"User": "1000"}}, [
        vuln("CVE-2005-2541", "high", "tar"), vuln("CVE-2023-4911", "high", "libc6")])
    status, body = await call(api, "GET", "/v1/priorities?limit=10")
    assert status == 200, body
    items = body["items"]
    assert [i["id"] for i in items] == ["CVE-2023-4911", "CVE-2005-2541", "CVE-2007-5686"]
    assert [i["rank"] for i in items] == [1, 2, 3]
    tar = items[1]
    assert tar["image_count"] == 2 and set(tar["images"]) == {app, worker}
    assert set(tar["tags"]) == {"reg.example:5000/team/app:1", "reg.example:5000/team/worker:1"}
    assert tar["packages"] == ["Debian/tar"] and tar["finding"]["kev"] is False

    # A pod runs the app image: its copy of the shared CVE becomes the best-placed one.
    assert tar["finding"]["priority"]["reasons"] == ["severity high", "fix available"]
    await admit(api, pod("reg.example:5000/team/app:1"))
    status, body = await call(api, "GET", "/v1/priorities?limit=2")
    assert [i["id"] for i in body["items"]] == ["CVE-2023-4911", "CVE-2005-2541"]
    assert "image used by a running workload" in body["items"][1]["finding"]["priority"]["reasons"]
