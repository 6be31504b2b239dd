"""End to end with real wheels: Django 2.2 and urllib3 1.24.1 from PyPI, real PyPA advisories.

The advisories for django and urllib3 are imported first (as ``imagewatch db
import`` does); an image holding the pip-installed tree is pushed to a real
registry and scanned by the real services. The stored findings must be the
ones the records' explicit version lists predict (``oracle.py``). Then, with
the registry and the fetcher stopped, a new advisory for urllib3 is imported
and announced on ``iw.vulndb``: the matcher must publish ``iw.findings`` with
reason ``advisory`` naming it, from the stored package list alone.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
from pathlib import Path

import aiohttp
import pytest
from packaging.version import Version

from harness.images import ImageSpec, push_image, tools_missing
from harness.registry import run_registry
from harness.stack import Stack, query
from imagewatch.runtime.bus import Bus
from imagewatch.messages import SUBJECT_FINDINGS, FindingsReady
from imagewatch.models import SEVERITY_ORDER
from imagewatch.store.db import connect_pool
from imagewatch.updater.sync import import_paths
from matcher.helpers import Tap

from .oracle import Expected, predicted
from .wheels import installed_wheels, layer_files

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
VULNS = SHARED / "osv" / "PyPI" / "vulns"
INSTALLED = {"django": "2.2", "urllib3": "1.24.1"}
SITE = "usr/local/lib/python3.11/site-packages"
SERVICES = ["api", "fetcher", "inventory", "matcher", "secrets", "notifier"]
NEW_ID = "IMAGEWATCH-TEST-0001"

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(bool(tools_missing()), reason=f"missing tools: {tools_missing()}"),
    pytest.mark.skipif(not all(importlib.util.find_spec(f"imagewatch_services.{s}.main") for s in SERVICES[:4]),
                       reason="the api, fetcher, inventory and matcher services are needed"),
]


def _advisory_folders() -> list[Path]:
    folders = [VULNS / name for name in INSTALLED]
    missing = [str(f) for f in folders if not f.is_dir()]
    if missing:
        pytest.skip(f"shared PyPI advisories not found ({', '.join(missing)}); see ../shared/data/README.md")
    return folders


def _image(tree: Path) -> ImageSpec:
    base = {"etc/os-release": b'ID=debian\nVERSION_ID="12"\nPRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\n'}
    return ImageSpec(layers=[base, layer_files(tree, SITE, "usr/local/bin")],
                     env={"PATH": "/usr/local/bin:/usr/bin:/bin"}, cmd=["django-admin"])


def _new_advisory(folder: Path) -> Path:
    doc = {
        "id": NEW_ID, "modified": "2030-01-01T00:00:00Z", "published": "2030-01-01T00:00:00Z",
        "aliases": ["CVE-2099-24001"], "summary": "urllib3 test advisory published after the push",
        "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
        "affected": [{"package": {"ecosystem": "PyPI", "name": "urllib3", "purl": "pkg:pypi/urllib3"},
                      "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "1.24"}, {"fixed": "1.24.2"}]}],
                      "versions": ["1.24", "1.24.1"]}],
    }
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{NEW_ID}.json"
    path.write_text(json.dumps(doc))
    return folder


async def _vulnerabilities(api_url: str, digest: str) -> list[dict]:
    async with aiohttp.ClientSession(base_url=api_url) as http:
        async with http.get(f"/v1/images/{digest}/vulnerabilities", params={"limit": "1000"}) as resp:
            assert resp.status == 200, await resp.text()
            body = await resp.json()
    assert body["next_cursor"] is None
    return body["items"]


def _check_package(items: list[dict], package: str, version: str, expected: dict[str, Expected]) -> None:
    """The findings on ``package`` are exactly the predicted records, aliases merged into one finding."""
    mine = [i for i in items if i["package"].lower() == package]
    got_ids = {i for f in mine for i in f["ids"]}
    assert {i for i in got_ids if i.startswith("PYSEC-")} == set(expected), package
    for f in mine:
        group = [expected[i] for i in f["ids"] if i in expected]
        assert group, f"{package}: finding {f['id']} names no predicted record"
        assert set(f["ids"]) <= {i for e in group for i in (e.id, *e.aliases)}, f["ids"]
        assert f["installed_version"] == version
        assert f["severity"] in SEVERITY_ORDER
        assert f["path"].startswith(f"{SITE}/") and ".dist-info/" in f["path"], f["path"]
        fixes = {e.fixed for e in group if e.fixed}
        assert set(f["fixed_versions"]) == fixes, (f["id"], f["fixed_versions"], fixes)
        assert f["fixable"] == bool(fixes)
        assert all(Version(v) > Version(version) for v in f["fixed_versions"])
    assert sum(1 for f in mine if f["fixable"]) == len(mine), f"{package}: every PyPA record here names a fix"


async def test_real_wheels_get_the_findings_the_osv_lists_predict(config, pg_dsn, nats_url, tmp_path):
    folders = _advisory_folders()
    tree = await asyncio.to_thread(installed_wheels, *(f"{n}=={v}" for n, v in INSTALLED.items()))
    expected = {name: predicted(VULNS / name, name, version) for name, version in INSTALLED.items()}
    assert len(expected["django"]) >= 20 and len(expected["urllib3"]) >= 5  # the data is what we think

    pool = await connect_pool(pg_dsn, 1, 4, migrate=False)
    await import_paths(pool, folders)  # `imagewatch db import`, before the push
    services = [s for s in SERVICES if importlib.util.find_spec(f"imagewatch_services.{s}.main")]
    stack = Stack(config)
    stack.reserve_api_port()
    tap = Tap(nats_url, SUBJECT_FINDINGS, FindingsReady)
    bus = None
    try:
        with run_registry(tmp_path / "registry", notify_url=f"{stack.api_url}/v1/events/distribution",
                          notify_headers={"Authorization": "Bearer test-token-0123456789abcdef"},
                          notify_ignore_media_types=["application/octet-stream"]) as reg:
            config.fetcher.insecure_registries.append(reg.host)
            await stack.start(*services)
            await tap.start()
            pushed = await asyncio.to_thread(push_image, reg.host, "team/django-app", "2.2", _image(tree))
            [ready] = await tap.wait(lambda m: m.image_digest == pushed.digest, timeout=90, what="push findings")
        assert ready.reason == "push" and ready.repository == "team/django-app" and ready.tag == "2.2"

        items = await _vulnerabilities(stack.api_url, pushed.digest)
        assert {i["package"].lower() for i in items} == set(INSTALLED)
        for name, version in INSTALLED.items():
            _check_package(items, name, version, expected[name])
        assert set(ready.new) == {i["id"] for i in items}
        print(f"\nservices {services}; predicted records {({n: len(e) for n, e in expected.items()})}; "
              f"findings {len(items)}: {sorted(i['id'] for i in items)}")

        # Registry gone, fetcher stopped: only the stored package list can produce a new finding.
        await stack.stop("fetcher")
        images_before = await query(pg_dsn, "SELECT digest FROM images")
        bus = await Bus.connect(config.bus, name="test-import")
        [result] = await import_paths(pool, [_new_advisory(tmp_path / "new")], bus)
        assert result.state == "changed" and result.changed == [("PyPI", "urllib3")]
        [alert] = await tap.wait(lambda m: m.reason == "advisory", timeout=30, what="advisory findings")
        assert alert.image_digest == pushed.digest and alert.repository == "team/django-app" and alert.tag == "2.2"
        assert alert.advisories == [NEW_ID] and alert.new == [NEW_ID]
        assert [m.reason for m in tap.messages] == ["push", "advisory"]
        assert await query(pg_dsn, "SELECT digest FROM images") == images_before

        [added] = [i for i in await _vulnerabilities(stack.api_url, pushed.digest) if i["id"] == NEW_ID]
        assert added["package"] == "urllib3" and added["cve"] == "CVE-2099-24001"
        assert added["fixed_versions"] == ["1.24.2"]
        assert (added["severity"], added["score"]) == ("critical", 9.8)
    finally:
        if bus is not None:
            await bus.close()
        await tap.close()
        await stack.stop()
        await pool.close()
