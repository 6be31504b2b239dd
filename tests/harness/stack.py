"""In-process service stacks for tests: the real service setups on real servers."""

from __future__ import annotations

import asyncio
import importlib
import time
from collections.abc import Awaitable, Callable

import asyncpg

from imagewatch.config import Config
from imagewatch.cli.embedded import free_port
from imagewatch.runtime.runner import RunningService, start_service


class Stack:
    """Named services started with ``start_service``; ``stop()`` stops them in reverse."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.services: dict[str, RunningService] = {}

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.config.api.port}"

    def reserve_api_port(self) -> int:
        """Choose the api's port now (a registry's notification URL needs it first)."""
        if self.config.api.port == 8080:
            self.config.api.port = free_port()
            self.config.api.host = "127.0.0.1"
        return self.config.api.port

    async def start(self, *names: str) -> "Stack":
        self.reserve_api_port()
        for name in names:
            module = importlib.import_module(f"imagewatch_services.{name}.main")
            self.services[name] = await start_service(name, self.config, module.setup)
        return self

    async def stop(self, *names: str) -> None:
        for name in reversed(names or list(self.services)):
            service = self.services.pop(name, None)
            if service is not None:
                await service.stop()


async def wait_for(predicate: Callable[[], Awaitable[object]], timeout: float = 30.0,
                   interval: float = 0.1, what: str = "condition"):
    """Poll ``predicate`` until it returns something truthy; fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = await predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(interval)


async def query(dsn: str, sql: str, *args):
    """Rows of one query on a fresh connection."""
    conn = await asyncpg.connect(dsn)
    try:
        return await conn.fetch(sql, *args)
    finally:
        await conn.close()
