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

``--scale inventory=3,secrets=2`` runs several processes of a service
(:mod:`imagewatch.cli.scale`); they share the stage's durable consumer. Each
process is a replica with its own name (``IMAGEWATCH_REPLICA=inventory-2``,
on every log line and its NATS connection) and its own metrics port: with
``metrics_port`` (``IMAGEWATCH_METRICS_PORT``) set, the non-api processes
get ``base``, ``base + 1``, … in start order, stable across restarts; unset, a
free port at each start. The api serves ``/metrics`` on its own port.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from dataclasses import dataclass
from pathlib import Path

from imagewatch.config import data_dir, load_config, webhook_token
from imagewatch.cli.embedded import EmbeddedNats, EmbeddedPostgres, free_port, port_open
from imagewatch.cli.scale import ScaleError, parse_scale, replica_names
from imagewatch.cli.services import SERVICES
from imagewatch.cli.supervisor import ProcessChild, ServerChild, Supervisor
from imagewatch.runtime.identity import REPLICA_ENV
from imagewatch.runtime.natsservers import redacted
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


def run_up(data: str | None = None, scale: str | None = None) -> int:
    """Start servers and services under supervision; block until interrupted. Returns the exit code."""
    if data:
        os.environ["IMAGEWATCH_DATA_DIR"] = data
    try:
        counts = parse_scale(scale or "", SERVICES)
    except ScaleError as exc:
        print(f"imagewatch: {exc}", file=sys.stderr)
        return 2
    config = load_config()
    root = data_dir(config)
    servers: list = []
    try:
        return _run(config, root, servers, counts)
    finally:
        for server in reversed(servers):
            server.stop()


def service_child(name: str, env: dict[str, str], replica: str | None = None,
                  metrics_port: int | None = None) -> ProcessChild:
    """The supervised process of one replica of a service.

    It runs as ``replica`` (``IMAGEWATCH_REPLICA``, default ``<name>-1``) on
    ``metrics_port``, or a fresh free port at each start when None; the api
    serves its metrics on its own port.
    """
    replica = replica or f"{name}-1"

    def child_env() -> dict[str, str]:
        out = dict(env, **{REPLICA_ENV: replica})
        out["IMAGEWATCH_METRICS_PORT"] = "0" if name == "api" else str(metrics_port or free_port())
        return out

    return ProcessChild(replica, [sys.executable, "-m", "imagewatch.cli", "service", name], child_env)


def plan_replicas(services: list[str], counts: dict[str, int], metrics_base: int = 0) -> list[Replica]:
    """Every process to run, in start order, with its fixed metrics port (``base + index``; None: free port)."""
    out = []
    index = 0
    for name, replica in replica_names(services, counts):
        port = None
        if name != "api":
            port = metrics_base + index if metrics_base else None
            index += 1
        out.append(Replica(name, replica, port))
    return out


@dataclass(frozen=True)
class Replica:
    """One process of a service: which service, its name (``inventory-2``), its fixed metrics port."""

    service: str
    name: str
    metrics_port: int | None


def _run(config, root: Path, servers: list, counts: dict[str, int] | None = None) -> int:
    env = dict(os.environ, IMAGEWATCH_DATA_DIR=str(root))
    children: list = []
    shown = {"nats": redacted(os.environ.get("IMAGEWATCH_NATS_URL", "")),
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
    counts = counts or {}
    missing = sorted(set(counts) - set(services))
    if missing:
        print(f"imagewatch: --scale names services not installed here: {', '.join(missing)}", file=sys.stderr)
        return 2
    replicas = plan_replicas(services, counts, config.metrics_port)
    processes = [service_child(r.service, env, r.name, r.metrics_port) for r in replicas]
    fixed = {r.name: r.metrics_port for r in replicas if r.metrics_port}
    busy = [f"{name}:{p}" for name, p in fixed.items() if p == port or p > 65535 or port_open(p)]
    if busy:
        print(f"imagewatch: metrics ports busy or invalid ({', '.join(busy)}); set IMAGEWATCH_METRICS_PORT "
              "to a base with enough free ports after it, or unset it for free ports", file=sys.stderr)
        return 2
    supervised = list(children)  # the servers are running already
    supervisor = Supervisor(supervised + processes)
    for child in supervisor.children[len(supervised):]:
        child.start()
    api = f"http://127.0.0.1:{port}"
    scaled = ", ".join(f"{name}×{n}" for name, n in counts.items() if n > 1)
    ports = ", ".join(f"{name}:{p}" for name, p in fixed.items()) or "a free port per process (IMAGEWATCH_METRICS_PORT unset)"
    print(f"""
imagewatch is up ({', '.join(services)}){f"; replicas {scaled}" if scaled else ""}
  data directory : {root}
  NATS           : {shown['nats']}
  PostgreSQL     : {shown['pg']}
  API            : {api}/v1/images
  dashboard      : {api}/
  webhook URL    : {api}/v1/events/distribution
  webhook token  : {token}
    (registry notifications: header "Authorization: Bearer <token>")
  metrics        : {ports}
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
