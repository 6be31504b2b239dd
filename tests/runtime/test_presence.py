"""Presence on a real nats-server: runner instances announce themselves, a clean stop withdraws, a kill expires."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import nats
import pytest

from harness.stack import wait_for
from imagewatch.runtime import presence
from imagewatch.runtime.identity import REPLICA_ENV
from imagewatch.runtime.runner import start_service


async def _nothing(_ctx):
    return []


async def _keys(url: str) -> dict[str, presence.LiveProcess]:
    nc = await nats.connect(url)
    try:
        return {f"{p.service}.{p.identity}": p for p in await presence.live(nc.jetstream())}
    finally:
        await nc.close()


def test_keys_hold_only_the_key_charset():
    assert presence.entry_key("inventory", "inventory-2") == "inventory.inventory-2"
    assert presence.entry_key("api", "<script>.x y/z") == "api._script__x_y_z"
    assert presence.entry_key("api", "") == "api._"
    assert len(presence.key_part("a" * 500)) == 64


async def test_two_runner_instances_appear_and_a_clean_stop_withdraws(config, nats_url, monkeypatch):
    config.bus.presence_interval = 0.3
    monkeypatch.setenv(REPLICA_ENV, "inventory-1")
    first = await start_service("inventory", config, _nothing)
    monkeypatch.setenv(REPLICA_ENV, "inventory-2")
    second = await start_service("inventory", config, _nothing)
    try:
        found = await wait_for(lambda: _both(nats_url), what="both replicas announced")
        one = found["inventory.inventory-1"].presence
        assert one.service == "inventory" and one.replica == "inventory-1" and one.pid == os.getpid()
        assert one.started_at > 0 and one.version and one.in_flight == 0
        async with _kv(nats_url) as js:
            info = await js.stream_info(f"KV_{presence.BUCKET}")
            assert info.config.max_age == pytest.approx(0.9) and info.config.num_replicas == 1
        await first.stop()
        left = await _keys(nats_url)  # the delete is done when stop() returns
        assert "inventory.inventory-1" not in left and "inventory.inventory-2" in left
    finally:
        await second.stop()
    assert await _keys(nats_url) == {}


async def _both(url: str):
    found = await _keys(url)
    return found if {"inventory.inventory-1", "inventory.inventory-2"} <= set(found) else None


class _kv:
    def __init__(self, url: str) -> None:
        self.url = url

    async def __aenter__(self):
        self.nc = await nats.connect(self.url)
        return self.nc.jetstream()

    async def __aexit__(self, *_):
        await self.nc.close()


async def test_a_killed_process_drops_out_after_the_ttl(config, nats_url, tmp_path):
    conf = tmp_path / "imagewatch.toml"
    conf.write_text("[bus]\npresence_interval = 0.5\n")
    env = {**os.environ, "IMAGEWATCH_CONFIG": str(conf), "IMAGEWATCH_NATS_URL": nats_url,
           "IMAGEWATCH_DATABASE_URL": config.database.url, "IMAGEWATCH_DATA_DIR": str(tmp_path / "data"),
           "IMAGEWATCH_WEBHOOK_TOKEN": "test-token-0123456789abcdef", REPLICA_ENV: "fetcher-9"}
    proc = subprocess.Popen([sys.executable, "-m", "imagewatch.cli.main", "service", "fetcher"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        async def announced():
            if proc.poll() is not None:
                raise AssertionError(f"the service exited with {proc.returncode}")
            return (await _keys(nats_url)).get("fetcher.fetcher-9")

        entry = await wait_for(announced, timeout=60, what="the process announced")
        assert entry.presence.pid == proc.pid and entry.name == "fetcher-9"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)

        async def gone():
            return "fetcher.fetcher-9" not in await _keys(nats_url)

        await wait_for(gone, timeout=30, what="the killed process's entry expired")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)


async def test_hostile_values_are_kept_without_their_content(nats_url):
    async with _kv(nats_url) as js:
        kv = await presence.bucket(js, 10.0)
        await kv.put("matcher.bad", b"\xff not json")
        await kv.put("matcher.odd", b'{"service": "matcher", "replica": "<b>x</b>", "extra": 1}')
        found = {p.identity: p for p in await presence.live(js)}
    assert found["bad"].presence is None and found["bad"].name == "bad"
    assert found["odd"].name == "<b>x</b>"  # kept as text; the page escapes it
