"""Query endpoints for images: list and detail."""

from __future__ import annotations

import msgspec
from aiohttp import web

from imagewatch.store import coverage as coverage_store
from imagewatch.store import images as store

from imagewatch_services.api import pagination
from imagewatch_services.api.keys import CTX


def _limit(request: web.Request) -> int:
    try:
        return max(1, min(500, int(request.query.get("limit", "100"))))
    except ValueError:
        raise web.HTTPBadRequest(text='{"error": "limit: expected an integer"}',
                                 content_type="application/json") from None


async def list_images(request: web.Request) -> web.Response:
    """``GET /v1/images[?repository=&tag=&severity=&fixable=&since=&limit=&cursor=]``."""
    limit = _limit(request)
    severity, fixable = pagination.severity_param(request), pagination.bool_param(request, "fixable")
    since = pagination.time_param(request, "since")
    async with request.app[CTX].pool.acquire() as conn:
        items = await store.list_images(
            conn, repository=request.query.get("repository") or None,
            tag=request.query.get("tag") or None, limit=limit,
            after=request.query.get("cursor") or None, severity=severity, fixable=fixable, since=since)
    return web.json_response(pagination.page(items, limit, lambda item: item["digest"]))


async def get_image(request: web.Request) -> web.Response:
    """``GET /v1/images/{digest}``: the image with tags, layers, stage status and coverage.

    ``coverage`` lists the OS release and ecosystems the image was matched
    against (sources, record counts, last sync; null before the first match);
    ``warnings`` say what was not covered, so an empty findings list is never
    read as clean when nothing was checked.
    """
    ctx = request.app[CTX]
    async with ctx.pool.acquire() as conn:
        image = await store.get_image(conn, request.match_info["digest"], ctx.config.bus.stall_deadline)
        coverage = await coverage_store.image_coverage(conn, image["digest"]) if image else None
    if image is None:
        return web.json_response({"error": "image not found"}, status=404)
    image["coverage"] = None if coverage is None else {"entries": [msgspec.structs.asdict(e) for e in coverage.entries]}
    image["warnings"] = list(coverage.warnings) if coverage is not None else []
    return web.json_response(image)
