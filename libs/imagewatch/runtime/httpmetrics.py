"""HTTP requests of every service: count and latency per route template and status, one access log line each.

The route label is the aiohttp route template (``/v1/images/{digest}``), or
``unmatched`` for a path no route serves, so that the label set stays bounded
whatever clients ask for. The access log line (JSON under the json log format)
names method, route, path, status, seconds, remote address and user agent; it
never carries the query string (tokens and signed URLs live there) nor any
request header but the user agent, and an unmatched path is not echoed.
"""

from __future__ import annotations

import time

from aiohttp import web

from imagewatch.runtime.logs import get_logger

log = get_logger("access")
UNMATCHED = "unmatched"
_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}


def route_of(request: web.Request) -> str:
    """The route template serving ``request``, or ``unmatched``."""
    resource = request.match_info.route.resource if request.match_info.route else None
    if resource is None or request.match_info.http_exception is not None:
        return UNMATCHED
    return resource.canonical


def observe_requests(metrics):
    """An aiohttp middleware counting and timing requests into ``metrics`` and logging each one."""

    @web.middleware
    async def middleware(request: web.Request, handler):
        started = time.perf_counter()
        status = 500
        try:
            response = await handler(request)
            status = response.status
            return response
        except web.HTTPException as exc:
            status = exc.status
            raise
        finally:
            elapsed = time.perf_counter() - started
            route = route_of(request)
            method = request.method if request.method in _METHODS else "OTHER"
            metrics.http.labels(route, method, str(status)).inc()
            metrics.http_seconds.labels(route, method, str(status)).observe(elapsed)
            log.info("http request", method=method, route=route,
                     path=request.path[:300] if route != UNMATCHED else None,
                     status=status, seconds=round(elapsed, 4), remote=request.remote,
                     user_agent=request.headers.get("User-Agent", "")[:200])

    return middleware
