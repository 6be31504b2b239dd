"""The api's aiohttp application: routes and middleware."""

from __future__ import annotations

from aiohttp import web

from imagewatch.config import webhook_token
from imagewatch.runtime.runner import ServiceContext, health_routes

from imagewatch_services.api import events, images, notifications
from imagewatch_services.api import packages as image_packages
from imagewatch_services.api import secrets as image_secrets
from imagewatch_services.api import priorities, vulnerabilities
from imagewatch_services.api import admission, dlq, openapi
from imagewatch_services.api.keys import CTX, MAX_BODY, TOKEN


@web.middleware
async def count_requests(request: web.Request, handler):
    """Count requests per route and status for /metrics."""
    route = request.match_info.route.resource.canonical if request.match_info.route.resource else "?"
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        request.app[CTX].metrics.http.labels("api", route, str(exc.status)).inc()
        raise
    request.app[CTX].metrics.http.labels("api", route, str(response.status)).inc()
    return response


def build_app(ctx: ServiceContext) -> web.Application:
    """The api application bound to a service context."""
    app = web.Application(middlewares=[count_requests], client_max_size=ctx.config.api.max_body_bytes + 1024)
    app[CTX] = ctx
    app[TOKEN] = webhook_token(ctx.config)
    app[MAX_BODY] = ctx.config.api.max_body_bytes
    app.add_routes(health_routes(ctx))
    app.add_routes([
        web.post("/v1/events/{source}", events.receive_event),
        web.post("/v1/scans", events.request_scan),
        web.get("/v1/images", images.list_images),
        web.get("/v1/images/{digest}", images.get_image),
        web.get("/v1/images/{digest}/vulnerabilities", vulnerabilities.image_vulnerabilities),
        web.get("/v1/findings", vulnerabilities.findings_by_vulnerability),
        web.get("/v1/priorities", priorities.fleet_priorities),
        web.get("/v1/images/{digest}/packages", image_packages.list_packages),
        web.get("/v1/images/{digest}/sbom", image_packages.get_sbom),
        web.get("/v1/images/{digest}/secrets", image_secrets.image_secrets),
        web.get("/v1/notifications", notifications.list_notifications),
        web.get("/v1/dlq", dlq.list_dead_letters),
        web.post("/v1/dlq/{id}/retry", dlq.retry_dead_letter),
        web.get("/v1/openapi.json", openapi.serve_openapi),
        web.post("/v1/admission", admission.admission_review),
    ])
    return app
