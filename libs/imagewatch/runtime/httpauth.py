"""HTTP bearer checks shared by the api and the per-service health/metrics listeners.

A listener bound to a loopback address serves reads to anyone on the machine
(as before); bound anywhere else, every route but ``/healthz`` and
``/readyz`` that reads needs ``Authorization: Bearer <read token>`` (the
admin/webhook token is accepted too). Tokens are compared in constant time, as bytes.
"""

from __future__ import annotations

import hmac
import ipaddress

from aiohttp import web

OPEN_PATHS = frozenset({"/healthz", "/readyz"})


def is_loopback(host: str) -> bool:
    """Whether a listen host is a loopback address (``127.0.0.0/8``, ``::1``, ``localhost``)."""
    if host.strip("[]").lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def bearer_matches(request: web.Request, *tokens: str) -> bool:
    """Whether ``Authorization: Bearer <t>`` names exactly one of ``tokens`` (constant time per token)."""
    header = request.headers.get("Authorization", "")
    scheme, _, given = header.partition(" ")
    if scheme.lower() != "bearer":
        return False
    given_bytes = given.strip().encode()
    ok = False
    for token in tokens:
        if token:
            ok |= hmac.compare_digest(given_bytes, token.encode())
    return ok


def unauthorized() -> web.HTTPUnauthorized:
    """The 401 every bearer route answers."""
    return web.HTTPUnauthorized(
        text='{"error": "missing or invalid bearer token"}', content_type="application/json",
        headers={"WWW-Authenticate": 'Bearer realm="imagewatch"'},
    )


def read_guard(tokens: tuple[str, ...], exempt=lambda path: False):
    """Middleware: every read (GET, HEAD) but the health checks needs one of ``tokens``.

    Writes carry their own tokens (webhook/admin, admission) checked by their handlers.
    Paths for which ``exempt(path)`` is true have a guard of their own (the api's dashboard).
    """

    @web.middleware
    async def guard(request: web.Request, handler):
        if (request.method in ("GET", "HEAD") and request.path not in OPEN_PATHS
                and not exempt(request.path) and not bearer_matches(request, *tokens)):
            raise unauthorized()
        return await handler(request)

    return guard
