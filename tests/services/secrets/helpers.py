"""Helpers of the secrets service tests: wait for a stage, read the API, a chat receiver."""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass, field

import aiohttp
from aiohttp import web

from harness.stack import query, wait_for
from imagewatch.cli.embedded import free_port


def have_service(name: str) -> bool:
    """Whether ``services/<name>/main.py`` exists (other stages are written in parallel)."""
    return importlib.util.find_spec(f"imagewatch_services.{name}") is not None and \
        importlib.util.find_spec(f"imagewatch_services.{name}.main") is not None


async def stage_state(dsn: str, digest: str, stage: str) -> dict | None:
    rows = await query(dsn, "SELECT state, reason FROM scan_stages WHERE image_digest = $1 AND stage = $2",
                       digest, stage)
    return dict(rows[0]) if rows else None


async def wait_stage(dsn: str, digest: str, stage: str, states=("done",), timeout: float = 60) -> dict:
    """Wait until ``stage`` of the image is in one of ``states``; returns its row."""
    async def check():
        row = await stage_state(dsn, digest, stage)
        return row if row and row["state"] in states else None
    return await wait_for(check, timeout=timeout, what=f"{stage} of {digest} in {states}")


async def get_json(http: aiohttp.ClientSession, url: str, **params) -> tuple[int, object, str]:
    """Status, parsed JSON body and raw text of a GET."""
    async with http.get(url, params=params or None) as resp:
        text = await resp.text()
        try:
            body = await resp.json(content_type=None)
        except ValueError:
            body = None
        return resp.status, body, text


@dataclass
class Receiver:
    """A local stand-in for a chat service: records every POST body."""

    port: int = field(default_factory=free_port)
    bodies: list[bytes] = field(default_factory=list)
    _runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    async def _handle(self, request: web.Request) -> web.Response:
        self.bodies.append(await request.read())
        return web.Response(text="ok")

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


async def dump_database(dsn: str) -> dict[str, list[str]]:
    """Every row of every table of the public schema, each row cast to text."""
    tables = await query(dsn, "SELECT table_name FROM information_schema.tables "
                              "WHERE table_schema = 'public' AND table_type = 'BASE TABLE'")
    out = {}
    for t in tables:
        name = t["table_name"]
        rows = await query(dsn, f'SELECT t::text AS row FROM public."{name}" AS t')
        out[name] = [r["row"] for r in rows]
    return out
