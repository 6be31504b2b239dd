"""A scan that could not read everything is shown as partial, never as clean.

An image whose rpm database is a hostile view (the analyser errs) is
inventoried with its other packages, and the scan is ``partial``: the stage
carries the problems in the API (``scan_status``, ``problems``), the admission
summary knows (``deny_partial`` denies, else a warning), the alert says so,
and ``imagewatch scan`` exits 4 with ``Metadata.Partial`` in its JSON.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path

import aiohttp
import pytest

from harness.images import ImageSpec, build_image, layer_tar, push_image, tools_missing
from harness.registry import run_registry
from harness.stack import Stack, query, wait_for
from imagewatch.admission.policy import ContainerImage, ImageStatus, decide
from imagewatch.cli.main import main
from imagewatch.config import AdmissionConfig
from imagewatch.notify.alert import ImageRef, build_alert
from imagewatch.notify.channels import wording
from imagewatch.store import images as store
from imagewatch.store.db import connect_pool

pytestmark = pytest.mark.skipif(bool(tools_missing()), reason=f"missing tools: {tools_missing()}")
AUTH = {"Authorization": "Bearer test-token-0123456789abcdef"}
APK_DB = b"P:musl\nV:1.2.4_git20230717-r4\nA:x86_64\n\n"


def hostile_rpmdb(tmp: Path) -> bytes:
    path = tmp / "rpmdb.sqlite"
    conn = sqlite3.connect(path)
    conn.execute("CREATE VIEW Packages AS WITH RECURSIVE n(hnum, blob) AS (SELECT 1, x'00' UNION ALL "
                 "SELECT hnum + 1, blob FROM n) SELECT hnum, blob FROM n")
    conn.commit()
    conn.close()
    return path.read_bytes()


def spec(tmp: Path) -> ImageSpec:
    return ImageSpec(layers=[{"etc/os-release": b"ID=alpine\nVERSION_ID=3.19.1\n", "lib/apk/db/installed": APK_DB},
                             {"var/lib/rpm/rpmdb.sqlite": hostile_rpmdb(tmp)}])


async def _inventory(dsn: str, digest: str):
    rows = await query(dsn, "SELECT state, problems FROM scan_stages WHERE image_digest = $1 "
                            "AND stage = 'inventory'", digest)
    return rows[0] if rows and rows[0]["state"] in ("done", "failed") else None


async def test_service_scan_is_partial_in_api_admission_and_alert(config, pg_dsn, tmp_path):
    with run_registry(tmp_path / "registry") as reg:
        config.fetcher.insecure_registries.append(reg.host)
        pushed = await asyncio.to_thread(push_image, reg.host, "team/partial", "1", spec(tmp_path))
        stack = await Stack(config).start("api", "fetcher", "inventory")
        try:
            async with aiohttp.ClientSession() as http:
                async with http.post(f"{stack.api_url}/v1/scans", json={"reference": pushed.reference},
                                     headers=AUTH) as resp:
                    assert resp.status == 202
                row = await wait_for(lambda: _inventory(pg_dsn, pushed.digest), what="inventory finished")
                assert row["state"] == "done"
                assert any("analysers.rpm" in p and "not a table" in p for p in row["problems"])
                async with http.get(f"{stack.api_url}/v1/images/{pushed.digest}") as resp:
                    detail = await resp.json()
                inventory = detail["stages"]["inventory"]
                assert inventory["state"] == "done" and inventory["partial"] is True
                assert detail["scan_status"] in ("partial", "pending")  # matcher and others not run here
                assert any(p.startswith("inventory: layer 1 (") for p in detail["problems"])
                async with http.get(f"{stack.api_url}/v1/images/{pushed.digest}/packages") as resp:
                    assert {p["name"] for p in (await resp.json())["items"]} == {"musl"}  # the rest still read
        finally:
            await stack.stop()
    pool = await connect_pool(pg_dsn, 1, 2, migrate=False)
    try:
        async with pool.acquire() as conn:
            summary = (await store.scan_summary(conn, [pushed.digest]))[pushed.digest]
            stages = await store.stages_of(conn, pushed.digest)
    finally:
        await pool.close()
    assert summary["problems"] and summary["problems"][0].startswith("inventory: layer 1")
    status = ImageStatus(image=ContainerImage("main", "containers", pushed.reference), digest=pushed.digest, scanned=True,
                         partial=bool(summary["problems"]))
    denied = decide(AdmissionConfig(deny_partial=True), [status])
    assert not denied.allowed and "scan partial" in denied.message
    allowed = decide(AdmissionConfig(), [status])
    assert allowed.allowed and any("scan partial" in w for w in allowed.warnings)
    for stage in stages.values():
        stage["state"] = "done"
    assert store.scan_status(stages) == "partial"
    alert = build_alert(image=ImageRef(repository="team/partial", tag="1", digest=pushed.digest),
                        api_base="http://x", problems=summary["problems"])
    assert alert.partial and "scan partial" in wording.title(alert) and "scan partial" in wording.fallback_text(alert)


def test_cli_exits_4_on_a_partial_scan_and_says_why(tmp_path, pg_dsn, monkeypatch, capsys):
    layout = tmp_path / "oci"
    build_image(layout, "app", spec(tmp_path))
    monkeypatch.setenv("IMAGEWATCH_DATABASE_URL", pg_dsn)
    monkeypatch.setenv("IMAGEWATCH_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("IMAGEWATCH_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)
    args = ["scan", f"oci:{layout}:app", "--format", "json", "--cache-dir", str(tmp_path / "cache")]
    code = main(args)
    out, err = capsys.readouterr()
    assert code == 4
    doc = json.loads(out)
    assert doc["Metadata"]["Partial"] is True and "not a table" in doc["Metadata"]["Problems"][0]
    assert "scan partial" in err and "analysers.rpm" in err
    assert main([*args, "--allow-partial"]) == 0  # from the cache: still partial, and still said
    assert "scan partial" in capsys.readouterr().err


def test_cli_clean_image_is_complete(tmp_path, pg_dsn, monkeypatch, capsys):
    layout = tmp_path / "oci"
    build_image(layout, "app", ImageSpec(layers=[{"etc/os-release": b"ID=alpine\nVERSION_ID=3.19.1\n",
                                                  "lib/apk/db/installed": APK_DB}]))
    monkeypatch.setenv("IMAGEWATCH_DATABASE_URL", pg_dsn)
    monkeypatch.setenv("IMAGEWATCH_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("IMAGEWATCH_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)
    assert main(["scan", f"oci:{layout}:app", "--format", "json", "--cache-dir", str(tmp_path / "c")]) == 0
    assert json.loads(capsys.readouterr().out)["Metadata"]["Partial"] is False
