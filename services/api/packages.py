"""Query endpoints for an image's inventory: the package list and SBOM export."""

from __future__ import annotations

from datetime import datetime

import msgspec
from aiohttp import web

from imagewatch.models import OSInfo, Package
from imagewatch.report import ScanResult, media_type, render
from imagewatch.store import images as image_store
from imagewatch.store import packages as store

from imagewatch_services.api.keys import CTX

SBOM_FORMATS = ("cyclonedx", "spdx")
_FIELDS = ("ecosystem", "name", "version", "purl", "layer", "path", "source_name", "source_version",
           "arch", "epoch", "kind", "licenses")


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


def _int(request: web.Request, key: str, default: int | None) -> int | None:
    raw = request.query.get(key)
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise web.HTTPBadRequest(text=f'{{"error": "{key}: expected an integer"}}',
                                 content_type="application/json") from None


def package_json(pkg: Package) -> dict:
    """The API form of a package: every field, empty ones included, in a fixed order."""
    data = msgspec.to_builtins(pkg)
    return {f: data.get(f, getattr(pkg, f)) for f in _FIELDS}


async def list_packages(request: web.Request) -> web.Response:
    """``GET /v1/images/{digest}/packages[?ecosystem=&name=&limit=&cursor=]``."""
    digest = request.match_info["digest"]
    limit = max(1, min(1000, _int(request, "limit", 200)))
    after = _int(request, "cursor", None)
    async with request.app[CTX].pool.acquire() as conn:
        if not await image_store.get_image(conn, digest):
            return _error(404, "image not found")
        stage = (await image_store.stages_of(
            conn, digest, request.app[CTX].config.bus.stall_deadline))["inventory"]
        page = await store.list_image_packages(
            conn, digest, ecosystem=request.query.get("ecosystem") or None,
            name=request.query.get("name") or None, limit=limit, after=after)
    cursor = str(page[-1][0]) if len(page) == limit else None
    return web.json_response({"items": [package_json(p) for _, p in page], "next_cursor": cursor,
                              "inventory": stage["state"]})


def _reference(image: dict) -> str:
    if image["tags"]:
        t = image["tags"][0]
        return f"{t['registry']}/{t['repository']}:{t['tag']}"
    return f"{image['repositories'][0]}@{image['digest']}" if image["repositories"] else image["digest"]


async def sbom_document(conn, digest: str, fmt: str) -> bytes | None:
    """The SBOM of a stored image rendered as ``fmt`` (cyclonedx or spdx), or None for an unknown image."""
    image = await image_store.get_image(conn, digest)
    if image is None:
        return None
    pkgs = await store.image_packages(conn, digest)
    finished = image["stages"]["inventory"].get("finished_at")
    result = ScanResult(
        reference=_reference(image), digest=digest, platform=image["platform"],
        os=msgspec.convert(image["os"], OSInfo) if image["os"] else None, packages=pkgs,
        **({"created": datetime.fromisoformat(finished).replace(microsecond=0)} if finished else {}),
    )
    return render(result, fmt)


async def get_sbom(request: web.Request) -> web.Response:
    """``GET /v1/images/{digest}/sbom?format=cyclonedx|spdx``: CycloneDX 1.5 or SPDX 2.3 JSON."""
    fmt = request.query.get("format", "cyclonedx")
    if fmt not in SBOM_FORMATS:
        return _error(400, f"format: expected one of {', '.join(SBOM_FORMATS)}, got {fmt!r}")
    digest = request.match_info["digest"]
    async with request.app[CTX].pool.acquire() as conn:
        body = await sbom_document(conn, digest, fmt)
    if body is None:
        return _error(404, "image not found")
    return web.Response(body=body, headers={"Content-Type": media_type(fmt)})
