"""Harbor's Pluggable Scanner Adapter API v1.1/v1.2 under ``/harbor/api/v1``.

Register ``http://<imagewatch-api>/harbor`` in Harbor as a scanner with the
``harbor.token`` bearer token. ``POST /scan`` checks the request
(``imagewatch.harbor.spec``), records it, seals Harbor's pull authorization
into the in-memory KV bucket for the fetcher (``imagewatch.harbor.authorization``)
and publishes an ordinary push event (``event_id = harbor:<scan id>``), so the
scan goes through every stage and shares all work with a push of the same
digest. ``GET /scan/{id}/report`` answers 302 with ``Refresh-After`` until the
image's matcher stage finished after the request, 500 with the reason when the
fetch was given up or a stage failed, else the report (vulnerabilities, or the
SBOM for ``application/vnd.security.sbom.report+json``).
"""

from __future__ import annotations

import hmac
import json
import re
import time
import uuid
from datetime import datetime, timezone

from aiohttp import web

from imagewatch.harbor import authorization as harbor_auth
from imagewatch.harbor import spec
from imagewatch.harbor.report import vulnerability_report
from imagewatch.messages import SUBJECT_PUSH, PushEvent
from imagewatch.runtime.logs import get_logger
from imagewatch.store import advisories as advisory_store
from imagewatch.store import findings as finding_store
from imagewatch.store import harbor as store
from imagewatch.store import images as image_store
from imagewatch.store.installation import fingerprint_key

from imagewatch_services.api.keys import CTX, MAX_BODY
from imagewatch_services.api.packages import sbom_document

PREFIX = "/harbor/api/v1"
log = get_logger("api.harbor")
_SCAN_ID = re.compile(r"[0-9a-f]{32}")


def _json(status: int, body: dict, media_type: str = "application/json",
          headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(status=status, body=json.dumps(body).encode(),
                        headers={"Content-Type": media_type, **(headers or {})})


def _error(status: int, message: str) -> web.Response:
    return _json(status, {"error": {"message": message}}, spec.ERROR)


def _authorized(request: web.Request) -> bool:
    token = request.app[CTX].config.harbor.token
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    return bool(token) and scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())


def _unauthorized() -> web.Response:
    response = _error(401, "missing or invalid bearer token")
    response.headers["WWW-Authenticate"] = 'Bearer realm="imagewatch-harbor"'
    return response


async def get_metadata(request: web.Request) -> web.Response:
    """``GET /harbor/api/v1/metadata``: scanner, capabilities, advisory database age."""
    if not _authorized(request):
        return _unauthorized()
    async with request.app[CTX].pool.acquire() as conn:
        synced = [s.last_sync for s in await advisory_store.source_status(conn) if s.last_sync]
    updated = max(synced).astimezone(timezone.utc).isoformat().replace("+00:00", "Z") if synced else None
    return _json(200, spec.metadata(updated), spec.METADATA)


async def accept_scan(request: web.Request) -> web.Response:
    """``POST /harbor/api/v1/scan``: 202 ``{"id": ...}``; 400/422 naming what is wrong."""
    if not _authorized(request):
        return _unauthorized()
    ctx = request.app[CTX]
    limit = request.app[MAX_BODY]
    body = await request.content.read(limit + 1)
    if len(body) > limit:
        return _error(413, f"body: exceeds the limit of {limit} bytes")
    try:
        scan = spec.parse_scan_request(body, set(ctx.config.fetcher.insecure_registries))
    except spec.HarborRequestError as exc:
        return _error(exc.status, str(exc))
    scan_id = uuid.uuid4().hex
    try:
        async with ctx.pool.acquire() as conn:
            if scan.authorization:
                key = await fingerprint_key(conn)
                await harbor_auth.put(ctx.bus.js, ctx.config.harbor.authorization_ttl, key, scan_id,
                                      scan.authorization, ctx.config.bus.replicas)
            await store.record_scan(conn, scan_id=scan_id, registry=scan.registry, repository=scan.repository,
                                    digest=scan.digest, tag=scan.tag, mime_type=scan.mime_type)
        event = PushEvent(event_id=harbor_auth.EVENT_PREFIX + scan_id, source="harbor", registry=scan.registry,
                          repository=scan.repository, tag=scan.tag, digest=scan.digest,
                          media_type=scan.mime_type, received_at=time.time())
        await ctx.bus.publish(SUBJECT_PUSH, event, msg_id=event.event_id)
    except Exception as exc:  # noqa: BLE001 - Harbor retries a 500
        log.warning("harbor scan not queued", error=type(exc).__name__)
        return _error(500, "the scan could not be queued; retry later")
    log.info("harbor scan accepted", scan_id=scan_id, registry=scan.registry, repository=scan.repository,
             digest=scan.digest)
    return _json(202, {"id": scan_id}, spec.SCAN_RESPONSE)


def _wanted(request: web.Request) -> str | web.Response:
    accept = request.headers.get("Accept", "")
    offered = [spec.split_accept(a) for a in accept.split(",") if a.strip()]
    known = {spec.split_accept(m): m for m in (spec.VULN_REPORT, spec.VULN_REPORT_1_1, spec.SBOM_REPORT)}
    for media in offered:
        if media in known:
            return known[media]
        if media.split(";")[0] in ("*/*", "application/*", "application/json"):
            return spec.VULN_REPORT
    if not offered:
        return spec.VULN_REPORT
    return _error(501, f"no report of type {accept[:200]!r}; this scanner produces "
                       f"{spec.VULN_REPORT}, {spec.VULN_REPORT_1_1} and {spec.SBOM_REPORT}")


async def get_report(request: web.Request) -> web.Response:
    """``GET /harbor/api/v1/scan/{scan_request_id}/report``: 302 while running, 200, 404, 500."""
    if not _authorized(request):
        return _unauthorized()
    wanted = _wanted(request)
    if isinstance(wanted, web.Response):
        return wanted
    sbom_format = None
    if wanted == spec.SBOM_REPORT:
        sbom_format = spec.SBOM_MEDIA_TYPES.get(request.query.get("sbom_media_type", ""))
        if sbom_format is None:
            return _error(400, "sbom_media_type: expected one of " + ", ".join(spec.SBOM_MEDIA_TYPES))
    scan_id = request.match_info["scan_request_id"]
    ctx = request.app[CTX]
    if not _SCAN_ID.fullmatch(scan_id):
        return _error(404, "unknown scan request id")
    async with ctx.pool.acquire() as conn:
        scan = await store.get_scan(conn, scan_id)
        if scan is None:
            return _error(404, "unknown scan request id")
        finished = await store.stages_since(conn, scan.digest, scan.requested_at)
        done = finished.get("matcher", ("", None))[0] == "done"
        if not done:
            failed = [f"{stage}: {reason or 'failed'}" for stage, (state, reason) in sorted(finished.items())
                      if state == "failed"]
            if scan.error:
                failed.insert(0, f"fetcher: {scan.error}")
            if failed:
                return _error(500, "scan failed: " + "; ".join(failed))
            return web.Response(status=302, headers={"Refresh-After": str(ctx.config.harbor.refresh_after)})
        image = await image_store.get_image(conn, scan.digest)
        artifact = {"repository": scan.repository, "digest": scan.digest, "tag": scan.tag,
                    "mime_type": scan.mime_type or (image or {}).get("media_type", "")}
        if sbom_format is not None:
            sbom = await sbom_document(conn, scan.digest, sbom_format)
            return _json(200, {
                "generated_at": datetime.now(timezone.utc).isoformat().replace("+00:00", "Z"),
                "artifact": artifact, "scanner": spec.scanner(),
                "media_type": request.query["sbom_media_type"], "sbom": json.loads(sbom or b"{}"),
            }, spec.SBOM_REPORT)
        findings = await finding_store.image_findings(conn, scan.digest)
        advisories = await advisory_store.get_advisories(conn, [f.advisory_id for f in findings])
    layers = {layer["diff_id"]: layer["digest"] for layer in (image or {}).get("layers", [])}
    return _json(200, vulnerability_report(artifact, findings, advisories, layers), wanted)


ROUTES = [
    web.get(PREFIX + "/metadata", get_metadata),
    web.post(PREFIX + "/scan", accept_scan),
    web.get(PREFIX + "/scan/{scan_request_id}/report", get_report),
]
