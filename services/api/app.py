"""The api's aiohttp application: routes and middleware."""

from __future__ import annotations

from aiohttp import web

from imagewatch.dashboard.session import SessionKeys
from imagewatch.dashboard.ratelimit import FailureLimiter
from imagewatch.config import admission_token, read_token, webhook_token
from imagewatch.runtime.httpauth import is_loopback, read_guard
from imagewatch.runtime.httpmetrics import observe_requests
from imagewatch.runtime.runner import ServiceContext, health_routes

from imagewatch_services.api import events, images, notifications
from imagewatch_services.api import packages as image_packages
from imagewatch_services.api import malware
from imagewatch_services.api import secrets as image_secrets
from imagewatch_services.api import priorities, remediation, vulnerabilities
from imagewatch_services.api import admission, dashboard, dashboard_auth, dlq, harbor, openapi
from imagewatch_services.api.keys import CTX, MAX_BODY, TOKEN


def build_app(ctx: ServiceContext) -> web.Application:
    """The api application bound to a service context.

    Every token is checked for strength at start (an empty, short or
    placeholder token stops the service). Reads need the read token (or the
    admin token) when the api listens beyond loopback or a read token is set.
    """
    config = ctx.config
    token = webhook_token(config)
    middlewares = [observe_requests(ctx.metrics)]
    guarded = not is_loopback(config.api.host) or bool(config.api.read_token) or config.api.require_read_token
    reader = read_token(config) if guarded else ""
    if config.dashboard.enabled:
        middlewares.append(dashboard_auth.dashboard_middleware())
    if guarded:
        middlewares.append(read_guard((reader, token), exempt=dashboard_auth.is_dashboard_path
                                      if config.dashboard.enabled else lambda path: False))
    app = web.Application(middlewares=middlewares, client_max_size=config.api.max_body_bytes + 1024)
    app[CTX] = ctx
    app[TOKEN] = token
    app[admission.ADMISSION_TOKEN] = admission_token(config)
    app[MAX_BODY] = ctx.config.api.max_body_bytes
    app.add_routes(health_routes(ctx))
    if config.dashboard.enabled:
        app[dashboard_auth.KEYS] = SessionKeys(token, reader, lifetime=int(config.dashboard.session_hours * 3600))
        app[dashboard_auth.GATE] = dashboard_auth.Gate(guarded, (reader,), token)
        app[dashboard_auth.LOGIN_LIMIT] = FailureLimiter(config.dashboard.login_failures_per_minute)
        app[dashboard_auth.TRUST_FORWARDED_PROTO] = config.dashboard.trust_forwarded_proto
        app[dashboard.TRENDS] = dashboard.TrendCache(config.dashboard.trend_cache_seconds)
        app.add_routes(dashboard.ROUTES)
        app.add_routes(dashboard_auth.ROUTES)
    app.add_routes([
        web.post("/v1/events/{source}", events.receive_event),
        web.post("/v1/scans", events.request_scan),
        web.get("/v1/images", images.list_images),
        web.get("/v1/images/{digest}", images.get_image),
        web.get("/v1/images/{digest}/vulnerabilities", vulnerabilities.image_vulnerabilities),
        web.get("/v1/images/{digest}/remediation", remediation.image_remediation),
        web.get("/v1/findings", vulnerabilities.findings_by_vulnerability),
        web.get("/v1/priorities", priorities.fleet_priorities),
        web.get("/v1/images/{digest}/packages", image_packages.list_packages),
        web.get("/v1/images/{digest}/sbom", image_packages.get_sbom),
        web.get("/v1/images/{digest}/secrets", image_secrets.image_secrets),
        web.get("/v1/images/{digest}/malware", malware.image_malware),
        web.get("/v1/notifications", notifications.list_notifications),
        web.get("/v1/dlq", dlq.list_dead_letters),
        web.post("/v1/dlq/{id}/retry", dlq.retry_dead_letter),
        web.get("/v1/openapi.json", openapi.serve_openapi),
        web.post("/v1/admission", admission.admission_review),
        *harbor.ROUTES,
    ])
    return app
