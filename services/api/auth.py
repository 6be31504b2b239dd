"""Bearer-token check for webhook and scan requests, in constant time."""

from __future__ import annotations

import hmac

from aiohttp import web


def check_bearer(request: web.Request, token: str) -> None:
    """Raise 401 unless ``Authorization: Bearer <token>`` matches."""
    header = request.headers.get("Authorization", "")
    scheme, _, given = header.partition(" ")
    ok = scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())
    if not ok:
        raise web.HTTPUnauthorized(
            text='{"error": "missing or invalid bearer token"}', content_type="application/json",
            headers={"WWW-Authenticate": 'Bearer realm="imagewatch"'},
        )
