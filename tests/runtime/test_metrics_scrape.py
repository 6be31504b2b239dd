"""``/metrics`` of every service after a real push: the series exist and their values match what happened.

registry push → api → fetcher → inventory + secrets → matcher → notifier, each
service with its own metrics port, scraped over HTTP and parsed with
prometheus_client's own text parser.
"""

from __future__ import annotations

import asyncio
import importlib

import aiohttp
import msgspec
import pytest
from prometheus_client.parser import text_string_to_metric_families

from harness.images import ImageSpec, push_image, tools_missing
from harness.registry import run_registry
from harness.stack import query, wait_for
from imagewatch.cli.embedded import free_port
from imagewatch.runtime.runner import start_service
from imagewatch.store.db import connect_pool
from imagewatch.updater.sync import import_paths

from matcher.helpers import SECDB_319, URLLIB3
from services.secrets.planted import Planted

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(bool(tools_missing()), reason=f"missing tools: {tools_missing()}")]

APK_DB = ("C:Q1fakefakefakefakefakefakefakefake=\nP:libssl3\nV:3.1.4-r0\nA:x86_64\no:openssl\nL:Apache-2.0\n\n")
SERVICES = ("api", "fetcher", "inventory", "secrets", "matcher", "notifier", "updater")


def samples(text: str) -> dict[tuple[str, frozenset], float]:
    """Every sample of an exposition as (name, labels) → value."""
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, frozenset(s.labels.items()))] = s.value
    return out


def value(found: dict, name: str, **labels) -> float | None:
    return found.get((name, frozenset(labels.items())))


def total(found: dict, name: str, **labels) -> float:
    return sum(v for (n, ls), v in found.items() if n == name and set(labels.items()) <= ls)


async def scrape(port: int) -> dict:
    async with aiohttp.ClientSession() as http:
        async with http.get(f"http://127.0.0.1:{port}/metrics") as resp:
            assert resp.status == 200
            return samples(await resp.text())


async def test_every_service_exports_its_series_after_a_push(config, pg_dsn, tmp_path, capsys):
    planted = Planted.make(19)
    config.metrics.refresh_seconds = 0
    config.updater.run_at_start = False
    config.api.port, config.api.host = free_port(), "127.0.0.1"
    pool = await connect_pool(pg_dsn, 1, 4, migrate=False)
    await import_paths(pool, [URLLIB3, SECDB_319])
    running, ports = {}, {}
    try:
        with run_registry(tmp_path / "registry", notify_url=f"http://127.0.0.1:{config.api.port}/v1/events/distribution",
                          notify_headers={"Authorization": "Bearer test-token-0123456789abcdef"},
                          notify_ignore_media_types=["application/octet-stream"]) as reg:
            config.fetcher.insecure_registries.append(reg.host)
            for name in SERVICES:
                ports[name] = free_port()
                cfg = msgspec.structs.replace(config, metrics_port=ports[name])
                module = importlib.import_module(f"imagewatch_services.{name}.main")
                running[name] = await start_service(name, cfg, module.setup)
            ports["api-own"] = config.api.port
            spec = ImageSpec(layers=[
                {"etc/os-release": b"ID=alpine\nVERSION_ID=3.19.1\n", "lib/apk/db/installed": APK_DB.encode()},
                {"app/.env": planted.env_file()}])
            pushed = await asyncio.to_thread(push_image, reg.host, "team/metrics", "v1", spec)
            await wait_for(lambda: _all_done(pg_dsn, pushed.digest), timeout=60, what="every stage done")

            async with aiohttp.ClientSession() as http:
                async with http.get(f"http://127.0.0.1:{config.api.port}/v1/images/{pushed.digest}/vulnerabilities",
                                    params={"limit": "1000"}) as resp:
                    vulns = (await resp.json())["items"]
                async with http.get(f"http://127.0.0.1:{config.api.port}/v1/images/{pushed.digest}/secrets") as resp:
                    secrets = (await resp.json())["items"]
            assert vulns and any(s["kind"] == "secret" for s in secrets)

            fetcher = await wait_for(lambda: _handled(ports["fetcher"], "fetcher", "iw.push"), what="fetcher count")
            assert value(fetcher, "imagewatch_message_handling_seconds_count", stage="fetcher", subject="iw.push") >= 1
            assert value(fetcher, "imagewatch_messages_in_flight", stage="fetcher", subject="iw.push") == 0
            for gauge in ("pending", "ack_pending", "redelivered"):
                assert value(fetcher, f"imagewatch_consumer_{gauge}_messages", stage="fetcher", subject="iw.push") \
                    is not None, gauge
            assert total(fetcher, "imagewatch_messages_dead_lettered_total") == 0

            for name, subject in (("inventory", "iw.fetched"), ("secrets", "iw.fetched"), ("matcher", "iw.inventory"),
                                  ("notifier", "iw.findings"), ("notifier", "iw.secrets")):
                found = await wait_for(lambda n=name, s=subject: _handled(ports[n], n, s), what=f"{name} {subject}")
                assert value(found, "imagewatch_messages_handled_total", stage=name, subject=subject, outcome="ok") == 1

            matcher = await scrape(ports["matcher"])
            assert value(matcher, "imagewatch_images_scanned_total") == 1
            secrets_found = await scrape(ports["secrets"])
            assert total(secrets_found, "imagewatch_secrets_found_total") == len(secrets)
            assert total(secrets_found, "imagewatch_secrets_found_total", kind="secret") == \
                sum(1 for s in secrets if s["kind"] == "secret")

            api = await scrape(config.api.port)
            assert value(api, "imagewatch_http_requests_total", route="/v1/events/{source}", method="POST",
                         status="202") >= 1
            assert value(api, "imagewatch_http_request_duration_seconds_count", route="/v1/events/{source}",
                         method="POST", status="202") >= 1
            assert value(api, "imagewatch_fleet_images") == 1
            assert total(api, "imagewatch_fleet_findings", kind="vulnerability") == len(vulns)
            for severity in {v["severity"] for v in vulns}:
                assert value(api, "imagewatch_fleet_findings", severity=severity, kind="vulnerability") == \
                    sum(1 for v in vulns if v["severity"] == severity)
            assert total(api, "imagewatch_fleet_findings", kind="secret") == sum(1 for s in secrets if s["kind"] == "secret")
            sources = await query(pg_dsn, "SELECT name, records FROM advisory_sources")
            assert sources
            for row in sources:
                assert value(api, "imagewatch_advisory_records", source=row["name"]) == row["records"]
                assert 0 <= value(api, "imagewatch_advisory_sync_age_seconds", source=row["name"]) < 3600
                assert value(api, "imagewatch_advisory_last_sync_timestamp_seconds", source=row["name"]) > 0
            assert value(api, "imagewatch_outbox_pending_notifications") == 0
            assert value(api, "imagewatch_outbox_oldest_pending_age_seconds") == 0

            # the admission decision is counted by outcome and reason class
            review = {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {
                "uid": "u1", "kind": {"group": "", "version": "v1", "kind": "Pod"}, "namespace": "team",
                "object": {"kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": [
                    {"name": "c", "image": f"{reg.host}/team/metrics@{pushed.digest}"}]}}}}
            async with aiohttp.ClientSession() as http:
                admission_auth = {"Authorization": "Bearer admission-test-0123456789abcdef"}
                async with http.post(f"http://127.0.0.1:{config.api.port}/v1/admission", json=review,
                                     headers=admission_auth) as resp:
                    decision = (await resp.json())["response"]
            api = await scrape(config.api.port)
            outcome = "denied" if not decision["allowed"] else "warned" if decision.get("warnings") else "allowed"
            assert total(api, "imagewatch_admission_decisions_total", outcome=outcome) == 1

            # one access log line per request, without the query string
            async with aiohttp.ClientSession() as http:
                async with http.get(f"http://127.0.0.1:{config.api.port}/v1/images",
                                    params={"repository": "team/metrics", "access_token": "S3CRET-in-query"}) as resp:
                    assert resp.status == 200
                async with http.get(f"http://127.0.0.1:{config.api.port}/no/such/S3CRET-path") as resp:
                    assert resp.status == 404
            logged = capsys.readouterr()
            lines = [ln for ln in (logged.out + logged.err).splitlines() if "http request" in ln]
            assert any("route=/v1/images " in ln and "status=200" in ln for ln in lines)
            assert any("route=unmatched" in ln and "status=404" in ln for ln in lines)
            assert "S3CRET" not in logged.out + logged.err
            assert value(await scrape(config.api.port), "imagewatch_http_requests_total",
                         route="unmatched", method="GET", status="404") == 1

            for name in SERVICES:
                await scrape(ports[name])  # a scrape is counted once answered: the next one shows it
                found = await scrape(ports[name])
                assert value(found, "imagewatch_build_info", version=_version(found), service=name) == 1
                assert total(found, "process_cpu_seconds_total") > 0
                assert value(found, "imagewatch_http_requests_total", route="/metrics", method="GET",
                             status="200") >= 1, name
                labels = {k for (n, ls) in found for k, _ in ls if n.startswith("imagewatch_")}
                assert labels <= {"stage", "subject", "outcome", "service", "version", "route", "method", "status",
                                  "kind", "severity", "source", "channel_kind", "reason", "le"}, labels
    finally:
        for service in reversed(list(running.values())):
            await service.stop()
        await pool.close()


def _version(found: dict) -> str:
    return next(dict(ls)["version"] for (n, ls) in found if n == "imagewatch_build_info")


async def _handled(port: int, stage: str, subject: str):
    found = await scrape(port)
    return found if value(found, "imagewatch_messages_handled_total", stage=stage, subject=subject, outcome="ok") else None


async def _all_done(dsn: str, digest: str) -> bool:
    rows = await query(dsn, "SELECT stage, state FROM scan_stages WHERE image_digest = $1", digest)
    states = {r["stage"]: r["state"] for r in rows}
    return all(states.get(s) == "done" for s in ("fetcher", "inventory", "secrets", "matcher", "notifier"))
