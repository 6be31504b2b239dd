"""``GET /v1/notifications``: the notifier's outbox, to see what was sent and what failed.

Rows name their channel and kind, never the channel URL (a secret that lives
only in the notifier's configuration).
"""

from __future__ import annotations

import json

from aiohttp import web

from imagewatch.store import outbox

from imagewatch_services.api.keys import CTX


def _bad(reason: str) -> web.HTTPBadRequest:
    return web.HTTPBadRequest(text=json.dumps({"error": reason}), content_type="application/json")


async def list_notifications(request: web.Request) -> web.Response:
    """``GET /v1/notifications[?state=pending|sent|failed&limit=&cursor=]``, newest first."""
    state = request.query.get("state") or None
    if state is not None and state not in outbox.STATES:
        raise _bad(f"state: expected one of {', '.join(outbox.STATES)}")
    try:
        limit = max(1, min(500, int(request.query.get("limit", "100"))))
        cursor = int(request.query["cursor"]) if request.query.get("cursor") else None
    except ValueError:
        raise _bad("limit and cursor: expected integers") from None
    async with request.app[CTX].pool.acquire() as conn:
        items = await outbox.list_outbox(conn, state=state, limit=limit, before=cursor)
    next_cursor = items[-1]["id"] if len(items) == limit else None
    return web.json_response({"items": items, "next_cursor": next_cursor})
