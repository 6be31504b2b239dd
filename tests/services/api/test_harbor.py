"""Harbor's Pluggable Scanner Adapter API against the spec's JSON schemas, with a token-auth registry as Harbor's.

Harbor sends exactly these requests: ``GET /metadata``, ``POST /scan`` with its
registry URL and a short-lived pull authorization, then polls
``GET /scan/{id}/report``. The registry here requires a token (distribution's
token auth, our token server), so a pull only works with the authorization the
scan request carried: the fetcher has no credentials of its own.
"""

from __future__ import annotations

import asyncio
import base64
import json
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp
import jsonschema
import nats
import pytest

from harness.images import ImageSpec, push_image, tools_missing
from harness.registry import run_registry, run_token_server
from harness.stack import Stack, query, wait_for
from imagewatch.harbor import spec
from imagewatch.store.db import connect_pool
from imagewatch.updater.sync import import_paths

from matcher.helpers import SECDB_319, URLLIB3

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(bool(tools_missing()), reason=f"missing tools: {tools_missing()}")]

SCHEMA = json.loads((Path(__file__).parent / "data" / "harbor_scanner_adapter_v1.2.schema.json").read_text())
HARBOR = {"Authorization": "Bearer harbor-scanner-token"}
USER, PASSWORD = "robot$harbor-scan", "pull-only-s3cret-Xq9"
APK_DB = ("C:Q1fakefakefakefakefakefakefakefake=\nP:libssl3\nV:3.1.4-r0\nA:x86_64\no:openssl\nL:Apache-2.0\n\n"
          "C:Q1fakefakefakefakefakefakefakefak2=\nP:busybox\nV:1.36.1-r20\nA:x86_64\no:busybox\nL:GPL-2.0-only\n\n")
SITE = "usr/lib/python3.11/site-packages"
IMAGE = ImageSpec(layers=[
    {"etc/os-release": b"ID=alpine\nVERSION_ID=3.19.1\n", "lib/apk/db/installed": APK_DB.encode()},
    {f"{SITE}/urllib3-1.24.1.dist-info/METADATA": b"Metadata-Version: 2.1\nName: urllib3\nVersion: 1.24.1\n\n"},
])


def check(name: str, document) -> None:
    """Validate ``document`` against the spec's schema ``name``."""
    jsonschema.validate(document, {"$defs": SCHEMA["$defs"], "$ref": f"#/$defs/{name}"})


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def scan_request(registry_url: str, repository: str, digest: str, authorization: str, **artifact) -> dict:
    return {"registry": {"url": registry_url, "authorization": authorization},
            "artifact": {"repository": repository, "digest": digest, "tag": "v1",
                         "mime_type": spec.OCI_MANIFEST, **artifact}}


async def _scan(http, body) -> str:
    async with http.post("/harbor/api/v1/scan", json=body, headers={
            **HARBOR, "Content-Type": "application/vnd.scanner.adapter.scan.request+json; version=1.0"}) as resp:
        answer = await resp.json(content_type=None)
        assert resp.status == 202, answer
        assert resp.headers["Content-Type"] == spec.SCAN_RESPONSE
    check("ScanResponse", answer)
    return answer["id"]


async def _report(http, scan_id: str, accept: str = spec.VULN_REPORT, **params):
    async with http.get(f"/harbor/api/v1/scan/{scan_id}/report", headers={**HARBOR, "Accept": accept},
                        params=params, allow_redirects=False) as resp:
        return resp.status, dict(resp.headers), await resp.read()


async def _finished(http, scan_id: str, accept: str = spec.VULN_REPORT):
    status, headers, body = await _report(http, scan_id, accept)
    return None if status == 302 else (status, headers, body)


async def _push_messages(nats_url: str) -> list[bytes]:
    nc = await nats.connect(nats_url)
    out: list[bytes] = []
    try:
        sub = await nc.jetstream().subscribe("iw.push", ordered_consumer=True)
        while True:
            try:
                out.append((await sub.next_msg(timeout=0.5)).data)
            except (asyncio.TimeoutError, nats.errors.TimeoutError):
                return out
    finally:
        await nc.close()


def _bearer_token(realm: str, service: str, repository: str) -> str:
    """A pull token from the token server, as Harbor would mint for its scanner."""
    request = urllib.request.Request(f"{realm}?service={service}&scope=repository:{repository}:pull",
                                     headers={"Authorization": basic(USER, PASSWORD)})
    with urllib.request.urlopen(request, timeout=10) as resp:
        return json.loads(resp.read())["token"]


async def test_harbor_adapter_scans_through_the_pipeline_with_harbors_token(config, pg_dsn, nats_url, tmp_path):
    config.harbor.token = "harbor-scanner-token"
    pool = await connect_pool(pg_dsn, 1, 4, migrate=False)
    await import_paths(pool, [URLLIB3, SECDB_319])
    stack = Stack(config)
    try:
        (tmp_path / "token").mkdir()
        with run_token_server(tmp_path / "token", {USER: PASSWORD}) as tokens, \
                run_registry(tmp_path / "registry", token=tokens) as reg:
            config.fetcher.insecure_registries += [reg.host, urlsplit(tokens.realm).netloc]  # realm on loopback http
            pushed = await asyncio.to_thread(push_image, reg.host, "team/py", "v1", IMAGE, creds=(USER, PASSWORD))
            await stack.start("api", "fetcher", "inventory")
            async with aiohttp.ClientSession(base_url=stack.api_url) as http:
                # metadata: token required, then valid against the spec
                async with http.get("/harbor/api/v1/metadata") as resp:
                    assert resp.status == 401
                async with http.get("/harbor/api/v1/metadata", headers={"Authorization": "Bearer nope"}) as resp:
                    assert resp.status == 401
                async with http.get("/harbor/api/v1/metadata", headers=HARBOR) as resp:
                    assert resp.status == 200 and resp.headers["Content-Type"].startswith(
                        "application/vnd.scanner.adapter.metadata+json")
                    meta = await resp.json(content_type=None)
                check("ScannerAdapterMetadata", meta)
                check("ScannerAdapterMetadata", SCHEMA["x-spec-examples"]["ScannerAdapterMetadata"])
                vuln, sbom = meta["capabilities"]
                assert vuln["type"] == "vulnerability" and set(vuln["consumes_mime_types"]) == {
                    spec.OCI_MANIFEST, spec.DOCKER_MANIFEST}
                assert spec.VULN_REPORT in vuln["produces_mime_types"]
                assert sbom["produces_mime_types"] == [spec.SBOM_REPORT]
                assert meta["scanner"]["name"] == "imagewatch"
                assert meta["properties"]["harbor.scanner-adapter/vulnerability-database-updated-at"]

                # invalid requests are refused and name the field
                url = f"http://{reg.host}"
                good = scan_request(url, "team/py", pushed.digest, basic(USER, PASSWORD))
                check("ScanRequest", good)
                check("ScanRequest", SCHEMA["x-spec-examples"]["ScanRequest"])
                bad = [
                    (400, b"{not json"),
                    (400, json.dumps({"registry": {"url": url}}).encode()),
                    (422, scan_request("ftp://x", "team/py", pushed.digest, "")),
                    (422, scan_request(f"http://u:p@{reg.host}", "team/py", pushed.digest, "")),
                    (422, scan_request(f"http://{reg.host}/v2/?x=1", "team/py", pushed.digest, "")),
                    (422, scan_request("http://not-insecure.example:5000", "team/py", pushed.digest, "")),
                    (422, scan_request(url, "Team/../py", pushed.digest, "")),
                    (422, scan_request(url, "team/py", "sha256:1234", "")),
                    (422, scan_request(url, "team/py", pushed.digest, "Digest abc")),
                    (422, scan_request(url, "team/py", pushed.digest, "Basic !!!")),
                    (422, scan_request(url, "team/py", pushed.digest, "",
                                       mime_type="application/vnd.oci.image.index.v1+json")),
                ]
                for status, body in bad:
                    data = body if isinstance(body, bytes) else json.dumps(body).encode()
                    async with http.post("/harbor/api/v1/scan", data=data, headers=HARBOR) as resp:
                        answer = await resp.json(content_type=None)
                        assert resp.status == status, (body, answer)
                    check("ErrorResponse", answer)
                    assert answer["error"]["message"]
                async with http.post("/harbor/api/v1/scan", json=good) as resp:
                    assert resp.status == 401

                # unknown id
                for unknown in ("0" * 32, "nope"):
                    status, _, _ = await _report(http, unknown)
                    assert status == 404

                # a scan with Harbor's Basic robot credentials: running until the matcher has run
                tokens.requests.clear()
                scan_id = await _scan(http, good)
                await wait_for(lambda: _stage_done(pg_dsn, pushed.digest, "inventory"), what="inventory done")
                status, headers, _ = await _report(http, scan_id)
                assert status == 302 and int(headers["Refresh-After"]) > 0
                assert any(user == USER and "repository:team/py:pull" in scopes for user, scopes in tokens.requests)

                await stack.start("matcher")
                status, headers, body = await wait_for(lambda: _finished(http, scan_id), what="report")
                assert status == 200, body
                assert headers["Content-Type"] == spec.VULN_REPORT
                report = json.loads(body)
                check("HarborVulnerabilityReport", report)
                assert report["artifact"] == {"repository": "team/py", "digest": pushed.digest, "tag": "v1",
                                              "mime_type": spec.OCI_MANIFEST}
                assert report["scanner"]["name"] == "imagewatch"

                # the report is the API's findings for the same digest
                async with http.get(f"/v1/images/{pushed.digest}/vulnerabilities", params={"limit": "1000"}) as resp:
                    api_items = (await resp.json())["items"]
                assert api_items and len(report["vulnerabilities"]) == len(api_items)
                harbor_rows = sorted((v["id"], v["package"], v["version"], v["fix_version"], v["severity"].lower())
                                     for v in report["vulnerabilities"])
                api_rows = sorted((i["cve"] or i["id"], i["package"], i["installed_version"],
                                   ", ".join(i["fixed_versions"]),
                                   "negligible" if i["severity"] == "info" else i["severity"]) for i in api_items)
                assert harbor_rows == api_rows
                by_id = {v["vendor_attributes"]["advisory_id"]: v for v in report["vulnerabilities"]}
                urllib3 = by_id["PYSEC-2019-133"]
                assert urllib3["id"] == "CVE-2019-11324" and urllib3["fix_version"] == "1.24.2"
                assert urllib3["links"] and all(link.startswith("http") for link in urllib3["links"])
                assert urllib3["layer"]["diff_id"].startswith("sha256:")
                async with http.get(f"/v1/images/{pushed.digest}") as resp:
                    layers = {(layer["digest"], layer["diff_id"]) for layer in (await resp.json())["layers"]}
                assert (urllib3["layer"]["digest"], urllib3["layer"]["diff_id"]) in layers
                assert by_id["CVE-2023-5678"]["package"] == "libssl3"
                order = ["Unknown", "Negligible", "Low", "Medium", "High", "Critical"]
                assert report["severity"] == max((v["severity"] for v in report["vulnerabilities"]), key=order.index)

                # the SBOM report of v1.2
                status, _, body = await _report(http, scan_id, spec.SBOM_REPORT)
                assert status == 400
                check("ErrorResponse", json.loads(body))
                status, headers, body = await _report(http, scan_id, spec.SBOM_REPORT,
                                                      sbom_media_type="application/spdx+json")
                assert status == 200 and headers["Content-Type"] == spec.SBOM_REPORT
                sbom_report = json.loads(body)
                check("HarborSbomReport", sbom_report)
                assert sbom_report["sbom"]["spdxVersion"].startswith("SPDX-")
                assert {"libssl3", "urllib3"} <= {p["name"] for p in sbom_report["sbom"]["packages"]}
                status, _, _ = await _report(http, scan_id, "application/vnd.scanner.adapter.vuln.report.raw")
                assert status == 501

                # a ready Bearer token (what Harbor hands out for one repository) works as is
                token = await asyncio.to_thread(_bearer_token, tokens.realm, tokens.service, "team/py")
                tokens.requests.clear()
                bearer_id = await _scan(http, scan_request(url, "team/py", pushed.digest, f"Bearer {token}"))
                status, _, body = await wait_for(lambda: _finished(http, bearer_id), what="bearer report")
                assert status == 200
                assert tokens.requests == []  # the fetcher used Harbor's token, it asked for none
                assert len(json.loads(body)["vulnerabilities"]) == len(api_items)

                # refused credentials: the scan fails with the registry's reason
                failed_id = await _scan(http, scan_request(url, "team/py", pushed.digest, basic(USER, "wrong")))
                status, headers, body = await wait_for(lambda: _finished(http, failed_id), what="failed report")
                assert status == 500 and headers["Content-Type"] == spec.ERROR
                error = json.loads(body)
                check("ErrorResponse", error)
                assert "refused" in error["error"]["message"]

            # Harbor's authorization is stored nowhere in clear: not in PostgreSQL, not on the bus
            for secret in (PASSWORD, base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode(), token):
                for table in ("harbor_scans", "scan_failures", "images"):
                    rows = await query(pg_dsn, f"SELECT t::text AS row FROM {table} t")
                    assert not any(secret in r["row"] for r in rows), table
                assert not any(secret.encode() in m for m in await _push_messages(nats_url))
    finally:
        await stack.stop()
        await pool.close()


async def _stage_done(dsn: str, digest: str, stage: str) -> bool:
    rows = await query(dsn, "SELECT state FROM scan_stages WHERE image_digest = $1 AND stage = $2", digest, stage)
    return bool(rows) and rows[0]["state"] == "done"
