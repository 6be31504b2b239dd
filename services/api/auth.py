"""Bearer-token check for webhook, scan, admin and admission requests, in constant time."""

from __future__ import annotations

from aiohttp import web

from imagewatch.runtime.httpauth import bearer_matches, unauthorized


def check_bearer(request: web.Request, token: str) -> None:
    """Raise 401 unless ``Authorization: Bearer <token>`` matches exactly."""
    if not token or not bearer_matches(request, token):
        raise unauthorized()
