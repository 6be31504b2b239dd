"""``GET /v1/priorities``: the fleet's fix-first list, grouped by vulnerability."""

from __future__ import annotations

from aiohttp import web

from imagewatch.matcher.priority import rank_fleet

from imagewatch_services.api.keys import CTX
from imagewatch_services.api.vulnerabilities import _int, finding_json


async def fleet_priorities(request: web.Request) -> web.Response:
    """``GET /v1/priorities[?limit=N]``: the top N vulnerabilities across every image a tag points at now.

    Each item is one CVE (or advisory id without a CVE) with its best-placed
    finding (KEV, EPSS, priority with reasons), the number of images having
    it, their digests and tag names, and the packages it is found in.
    """
    limit = _int(request, "limit", 50, 1, 1000)
    async with request.app[CTX].pool.acquire() as conn:
        items = await rank_fleet(conn, limit)
    return web.json_response({"items": [
        {"id": i.id, "rank": i.best.priority.rank, "image_count": len(i.images), "images": i.images,
         "tags": i.names, "packages": i.packages, "finding": finding_json(i.best.finding, i.best)}
        for i in items]})
