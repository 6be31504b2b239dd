"""Query endpoint for an image's secret and misconfiguration findings (redacted by construction)."""

from __future__ import annotations

from aiohttp import web

from imagewatch.models import SecretFinding
from imagewatch.store import images as image_store
from imagewatch.store import secrets as store

from imagewatch_services.api import pagination
from imagewatch_services.api.keys import CTX

KINDS = ("secret", "misconfiguration", "malware")


def secret_json(f: SecretFinding) -> dict:
    """The API form of a finding: fingerprint and preview, never a value."""
    return {"kind": f.kind, "rule": f.rule_id, "title": f.title, "severity": f.severity, "path": f.path,
            "line": f.line, "layer": f.layer or None, "layer_index": f.layer_index, "removed_in": f.removed_in,
            "fingerprint": f.fingerprint or None, "preview": f.preview or None, "remediation": f.remediation}


async def image_secrets(request: web.Request) -> web.Response:
    """``GET /v1/images/{digest}/secrets[?kind=secret|misconfiguration|malware&severity=high,critical]``."""
    digest = request.match_info["digest"]
    kinds = pagination.list_param(request, "kind", KINDS)
    if kinds and len(kinds) > 1:
        raise pagination.bad_request("kind: give one of secret, misconfiguration, malware")
    severity = pagination.severity_param(request)
    async with request.app[CTX].pool.acquire() as conn:
        if not await image_store.image_exists(conn, digest):
            return web.json_response({"error": "image not found"}, status=404)
        stage = (await image_store.stages_of(
            conn, digest, request.app[CTX].config.bus.stall_deadline))["secrets"]
        found = await store.image_secrets(conn, digest, kind=kinds[0] if kinds else None, severity=severity)
    return web.json_response({"items": [secret_json(f) for f in found], "secrets": stage["state"],
                              **({"reason": stage["reason"]} if stage.get("reason") else {})})
