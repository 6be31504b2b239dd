"""The api service: registry webhooks in, queries out."""

from __future__ import annotations

import ssl

from aiohttp import web

from imagewatch.config import Config, ConfigError
from imagewatch.runtime.runner import ServiceContext, serve

from imagewatch_services.api.app import build_app
from imagewatch_services.api.metrics import store_refresher


async def setup(ctx: ServiceContext) -> list:
    """Start the HTTP server; the api consumes no subject but reports every consumer's backlog."""
    ctx.scrape_hooks.append(store_refresher(ctx))
    ctx.watch_all_backlogs = True
    runner = web.AppRunner(build_app(ctx), access_log=None)
    await runner.setup()
    api = ctx.config.api
    await web.TCPSite(runner, api.host, api.port, ssl_context=tls_context(ctx.config)).start()
    ctx.cleanup.append(runner.cleanup)
    return []


def tls_context(config: Config) -> ssl.SSLContext | None:
    """HTTPS when ``api.tls_cert_file`` is set; client certificates required with ``tls_client_ca_file``."""
    api = config.api
    if not api.tls_cert_file:
        if api.tls_client_ca_file or api.tls_key_file:
            raise ConfigError("config: api.tls_client_ca_file / tls_key_file need api.tls_cert_file")
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(api.tls_cert_file, api.tls_key_file or None)
    if api.tls_client_ca_file:
        context.verify_mode = ssl.CERT_REQUIRED
        context.load_verify_locations(cafile=api.tls_client_ca_file)
    return context


async def run(config: Config) -> None:
    """Serve until stopped."""
    await serve("api", config, setup)
