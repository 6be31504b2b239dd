"""``imagewatch up``: everything on one machine, each service its own process.

With no ``IMAGEWATCH_NATS_URL`` / ``IMAGEWATCH_DATABASE_URL`` it starts an
embedded NATS (JetStream) and PostgreSQL under the data directory first, both
on 127.0.0.1 with generated passwords (0600 files in the data directory) that
every service gets through its environment; passwords are never printed. The
api listens on ``api.host`` (127.0.0.1 by default). Every process it starts,
the servers included, is supervised (``imagewatch.cli.supervisor``): one that
dies is restarted with backoff, the reason logged; services wait out a
server's absence on their own.
Ctrl-C (or SIGTERM) stops the services, then the embedded servers; a second
run reuses the data.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

from imagewatch.config import data_dir, load_config, webhook_token
from imagewatch.cli.embedded import EmbeddedNats, EmbeddedPostgres, free_port, port_open
from imagewatch.cli.services import SERVICES
from imagewatch.cli.supervisor import ProcessChild, ServerChild, Supervisor
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
    """Start servers and services under supervision; block until interrupted. Returns the exit code."""
    if data:
        os.environ["IMAGEWATCH_DATA_DIR"] = data
    config = load_config()
    root = data_dir(config)
    servers: list = []
    try:
        return _run(config, root, servers)
    finally:
        for server in reversed(servers):
            server.stop()


def service_child(name: str, env: dict[str, str]) -> ProcessChild:
    """The supervised process of one service (each start gets a fresh metrics port)."""
    def child_env() -> dict[str, str]:
        out = dict(env)
        if name != "api":
            out["IMAGEWATCH_METRICS_PORT"] = str(free_port())
        return out

    return ProcessChild(name, [sys.executable, "-m", "imagewatch.cli", "service", name], child_env)


def _run(config, root: Path, servers: list) -> int:
    env = dict(os.environ, IMAGEWATCH_DATA_DIR=str(root))
    children: list = []
    shown = {"nats": _without_password(os.environ.get("IMAGEWATCH_NATS_URL", "")),
             "pg": _without_password(os.environ.get("IMAGEWATCH_DATABASE_URL", ""))}
    if not os.environ.get("IMAGEWATCH_NATS_URL"):
        nats = EmbeddedNats(root / "nats", port=4222 if not port_open(4222) else None).start()
        servers.append(nats)
        children.append(ServerChild("nats", nats))
        env["IMAGEWATCH_NATS_URL"], shown["nats"] = nats.url, nats.public_url
    if not os.environ.get("IMAGEWATCH_DATABASE_URL"):
        pg = EmbeddedPostgres(root / "postgres").start()
        servers.append(pg)
        children.append(ServerChild("postgres", pg))
        env["IMAGEWATCH_DATABASE_URL"], shown["pg"] = pg.url, pg.public_url
    asyncio.run(apply_migrations(env["IMAGEWATCH_DATABASE_URL"]))
    token = webhook_token(config)
    env["IMAGEWATCH_WEBHOOK_TOKEN"] = token
    port = config.api.port
    if port_open(port):
        print(f"imagewatch: port {port} is busy; set IMAGEWATCH_API_PORT", file=sys.stderr)
        return 2

    services = _available_services()
    supervised = list(children)  # the servers are running already
    supervisor = Supervisor(supervised + [service_child(name, env) for name in services])
    for child in supervisor.children[len(supervised):]:
        child.start()
    api = f"http://127.0.0.1:{port}"
    print(f"""
imagewatch is up ({', '.join(services)})
  data directory : {root}
  NATS           : {shown['nats']}
  PostgreSQL     : {shown['pg']}
  API            : {api}/v1/images
  dashboard      : {api}/
  webhook URL    : {api}/v1/events/distribution
  webhook token  : {token}
    (registry notifications: header "Authorization: Bearer <token>")
Every process above is supervised: one that dies is restarted (with backoff) and logged.
Press Ctrl-C to stop.
""", flush=True)

    stopping = False

    def stop(*_):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    supervisor.run(lambda: stopping, interval=0.5)
    # services first (each finishes its in-flight messages), then the servers (in run_up)
    for child in reversed(supervisor.children[len(supervised):]):
        if child.pid:
            child.proc.send_signal(signal.SIGTERM)
    for child in supervisor.children[len(supervised):]:
        child.stop(timeout=30)
    print("imagewatch stopped", flush=True)
    return 0


def _without_password(url: str) -> str:
    """``scheme://user:***@host`` for printing a URL that may carry a password."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.password is None:
        return url
    return url.replace(f":{parts.password}@", ":***@", 1)


def embedded_root(data: str | None) -> Path:
    """The data directory a command should use."""
    from imagewatch.paths import default_data_dir

    return Path(data or os.environ.get("IMAGEWATCH_DATA_DIR") or default_data_dir()).resolve()


__all__ = ["SERVICES", "run_up", "embedded_root", "EmbeddedPostgres"]
