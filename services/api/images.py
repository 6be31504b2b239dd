"""Query endpoints for images: list and detail."""

from __future__ import annotations

from aiohttp import web

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
    """``GET /v1/images/{digest}``: the image with tags, layers and stage status."""
    ctx = request.app[CTX]
    async with ctx.pool.acquire() as conn:
        image = await store.get_image(conn, request.match_info["digest"], ctx.config.bus.stall_deadline)
    if image is None:
        return web.json_response({"error": "image not found"}, status=404)
    return web.json_response(image)
