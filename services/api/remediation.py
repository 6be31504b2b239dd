"""``GET /v1/images/{digest}/remediation``: the image's remediation plan (``matcher.remediation``)."""

from __future__ import annotations

import msgspec
from aiohttp import web

from imagewatch.matcher.remediation import image_plan

from imagewatch_services.api.keys import CTX


async def image_remediation(request: web.Request) -> web.Response:
    """The upgrades that remove an image's fixable findings, grouped as people fix them, with advice."""
    digest = request.match_info["digest"]
    async with request.app[CTX].pool.acquire() as conn:
        plan = await image_plan(conn, digest)
    if plan is None:
        return web.json_response({"error": "image not found"}, status=404)
    body = msgspec.structs.asdict(plan)
    body["actions"] = [msgspec.structs.asdict(a) | {"text": a.text} for a in plan.actions]
    body["unfixed"] = [msgspec.structs.asdict(u) for u in plan.unfixed]
    return web.json_response({"image": digest, **body})
