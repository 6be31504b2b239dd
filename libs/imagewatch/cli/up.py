"""``imagewatch up``: everything on one machine, each service its own process.

With no ``IMAGEWATCH_NATS_URL`` / ``IMAGEWATCH_DATABASE_URL`` it starts an
embedded NATS (JetStream) and PostgreSQL under the data directory first.
Ctrl-C (or SIGTERM) stops the services, then the embedded servers; a second
run reuses the data.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from imagewatch.config import data_dir, load_config, webhook_token
from imagewatch.cli.embedded import EmbeddedNats, EmbeddedPostgres, free_port, port_open
from imagewatch.cli.services import SERVICES
from imagewatch.store.db import apply_migrations


def _available_services() -> list[str]:
    import importlib.util

    found = []
    for name in SERVICES:
        try:
            if importlib.util.find_spec(f"imagewatch_services.{name}.main") is not None:
                found.append(name)
        except ModuleNotFoundError:
            continue
    return found


def run_up(data: str | None = None) -> int:
    """Start servers and services; block until interrupted. Returns the exit code."""
    if data:
        os.environ["IMAGEWATCH_DATA_DIR"] = data
    config = load_config()
    root = data_dir(config)
    started: list = []
    try:
        return _run(config, root, started)
    finally:
        _stop_servers(started)


def _run(config, root: Path, started: list) -> int:
    env = dict(os.environ, IMAGEWATCH_DATA_DIR=str(root))
    if not os.environ.get("IMAGEWATCH_NATS_URL"):
        nats = EmbeddedNats(root / "nats", port=4222 if not port_open(4222) else None).start()
        started.append(nats)
        env["IMAGEWATCH_NATS_URL"] = nats.url
    if not os.environ.get("IMAGEWATCH_DATABASE_URL"):
        pg = EmbeddedPostgres(root / "postgres").start()
        started.append(pg)
        env["IMAGEWATCH_DATABASE_URL"] = pg.url
    asyncio.run(apply_migrations(env["IMAGEWATCH_DATABASE_URL"]))
    token = webhook_token(config)
    env["IMAGEWATCH_WEBHOOK_TOKEN"] = token
    port = config.api.port
    if port_open(port):
        print(f"imagewatch: port {port} is busy; set IMAGEWATCH_API_PORT", file=sys.stderr)
        return 2

    procs: dict[str, subprocess.Popen] = {}

    def spawn(name: str) -> None:
        child_env = dict(env)
        if name != "api":
            child_env["IMAGEWATCH_METRICS_PORT"] = str(free_port())
        procs[name] = subprocess.Popen(
            [sys.executable, "-m", "imagewatch.cli", "service", name], env=child_env)

    services = _available_services()
    for name in services:
        spawn(name)
    api = f"http://127.0.0.1:{port}"
    print(f"""
imagewatch is up ({', '.join(services)})
  data directory : {root}
  NATS           : {env['IMAGEWATCH_NATS_URL']}
  PostgreSQL     : {env['IMAGEWATCH_DATABASE_URL']}
  API            : {api}/v1/images
  webhook URL    : {api}/v1/events/distribution
  webhook token  : {token}
    (registry notifications: header "Authorization: Bearer <token>")
Press Ctrl-C to stop.
""", flush=True)

    stopping = False

    def stop(*_):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    restarts: dict[str, float] = {}
    while not stopping:
        time.sleep(0.5)
        for name, proc in list(procs.items()):
            if proc.poll() is not None and not stopping:
                if time.monotonic() - restarts.get(name, 0) > 5:
                    print(f"imagewatch: {name} exited ({proc.returncode}); restarting", file=sys.stderr)
                    restarts[name] = time.monotonic()
                    spawn(name)
    for proc in procs.values():
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 30
    for proc in procs.values():
        try:
            proc.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
    print("imagewatch stopped", flush=True)
    return 0


def _stop_servers(started: list) -> None:
    for server in reversed(started):
        server.stop()


def embedded_root(data: str | None) -> Path:
    """The data directory a command should use."""
    from imagewatch.paths import default_data_dir

    return Path(data or os.environ.get("IMAGEWATCH_DATA_DIR") or default_data_dir()).resolve()


__all__ = ["SERVICES", "run_up", "embedded_root", "EmbeddedPostgres"]
