"""The chaos stack: the whole pipeline as supervised processes on loopback, and its fault injectors.

Everything is real: an embedded NATS and PostgreSQL and one process per
service, all under the ``imagewatch up`` supervisor (so a killed process comes
back the way it does in production), Debian's registry sending push
notifications to the api, a blob directory on a small tmpfs (for the disk-full
case), and a local HTTP receiver standing in for the chat service.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import asyncpg
from aiohttp import web

from harness.images import ImageSpec, push_image
from harness.registry import run_registry
from imagewatch.cli.embedded import EmbeddedNats, EmbeddedPostgres, _pg_bin, free_port
from imagewatch.cli.supervisor import ProcessChild, ServerChild, Supervisor, SupervisorThread
from imagewatch.store.db import apply_migrations

TOKEN = "chaos-token-0123456789abcdef"
SERVICES = ("api", "fetcher", "inventory", "secrets", "matcher", "notifier")
ACK_WAIT = 4.0
MAX_DELIVER = 3
BLOB_FS_BYTES = 64 * 1024 * 1024

ADVISORY = {
    "id": "GHSA-x84v-xcm2-53pg", "aliases": ["CVE-2018-18074"],
    "summary": "Insecure HTTP redirect handling in requests",
    "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N"}],
    "affected": [{"package": {"ecosystem": "PyPI", "name": "requests"},
                  "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.20.0"}]}]}],
}


def image(case: str, n: int, extra: dict | None = None) -> ImageSpec:
    """A distinct small image with one vulnerable package (so one alert per push)."""
    return ImageSpec(layers=[
        {"etc/os-release": b"ID=alpine\nVERSION_ID=3.19.1\n"},
        {"usr/lib/python3.11/site-packages/requests-2.19.0.dist-info/METADATA":
            b"Metadata-Version: 2.1\nName: requests\nVersion: 2.19.0\n",
         f"app/{case}-{n}.txt": f"{case} {n}\n".encode(), **(extra or {})},
    ])


@dataclass
class Chat:
    """The stand-in chat service: records each alert; ``down()`` refuses connections."""

    port: int = field(default_factory=free_port)
    alerts: list[tuple[float, dict]] = field(default_factory=list)
    _runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/chaos"

    async def _handle(self, request: web.Request) -> web.Response:
        self.alerts.append((time.monotonic(), json.loads(await request.read())["alert"]))
        return web.Response(text="ok")

    async def up(self) -> None:
        app = web.Application()
        app.router.add_post("/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def down(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def received(self, digest: str) -> list[float]:
        """When each alert for image ``digest`` arrived."""
        return [at for at, alert in self.alerts if alert["image"]["digest"] == digest]


@dataclass
class CaseResult:
    """One row of the printed table."""

    case: str
    pushes: int
    faults: int
    completed: int
    lost: int
    duplicates: int
    worst_recovery: float | None


RESULTS: list[CaseResult] = []


def table() -> str:
    """The results as a text table."""
    head = ("case", "pushes", "faults injected", "completed", "lost", "duplicates", "worst recovery (s)")
    rows = [(r.case, str(r.pushes), str(r.faults), str(r.completed), str(r.lost), str(r.duplicates),
             "-" if r.worst_recovery is None else f"{r.worst_recovery:.1f}") for r in RESULTS]
    widths = [max(len(x) for x in col) for col in zip(head, *rows)]
    line = lambda cells: "  ".join(c.ljust(w) for c, w in zip(cells, widths))  # noqa: E731
    return "\n".join([line(head), line(["-" * w for w in widths]), *map(line, rows)])


class Pipeline:
    """The running chaos stack (see the module docstring)."""

    def __init__(self, root: Path, ack_wait: float = ACK_WAIT, *, replicas: int = 1,
                 blob_fs_bytes: int | None = BLOB_FS_BYTES, extra_config: str = "") -> None:
        self.root = root
        self.ack_wait = ack_wait
        self.replicas = replicas  # processes per pipeline stage (the api runs once)
        self.blob_fs_bytes = blob_fs_bytes  # None: a plain directory instead of a small tmpfs
        self.extra_config = extra_config
        self.exits = ExitStack()
        self.chat = Chat()
        self.api_port = free_port()
        self.nats = EmbeddedNats(root / "nats")
        self.pg = EmbeddedPostgres(root / "postgres")
        self.blob_dir = root / "blobs"
        self.registry = None
        self.supervisor: Supervisor | None = None

    @property
    def api(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    @property
    def dsn(self) -> str:
        return self.pg.url

    def _mount_blob_fs(self) -> None:
        self.blob_dir.mkdir(parents=True)
        if self.blob_fs_bytes is None:
            return
        subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={self.blob_fs_bytes}", "tmpfs", str(self.blob_dir)],
                       check=True, capture_output=True)
        self.exits.callback(subprocess.run, ["umount", "-l", str(self.blob_dir)], capture_output=True)

    def _config(self) -> Path:
        path = self.root / "imagewatch.toml"
        path.write_text(f"""
[bus]
ack_wait = {self.ack_wait}
max_deliver = {MAX_DELIVER}
nak_delay = 0.3

[blobs]
kind = "directory"
directory = "{self.blob_dir}"

[fetcher]
insecure_registries = ["{self.registry.host}"]

[notifier]
poll_interval = 0.2
retry_base = 0.5
retry_cap = 2.0
max_attempts = 100

[[notifier.channels]]
name = "chat"
kind = "webhook"
url = "{self.chat.url}"
secret = "chaos-signing-key"

[[notifier.routes]]
channels = ["chat"]
{self.extra_config}
""")
        return path

    async def start(self) -> None:
        self._mount_blob_fs()
        await self.chat.up()
        self.nats.start()
        self.exits.callback(self.nats.stop)
        self.pg.start()
        self.exits.callback(self.pg.stop)
        await apply_migrations(self.pg.url)
        await self._add_advisory()
        self.registry = self.exits.enter_context(run_registry(
            self.root / "registry", notify_url=f"{self.api}/v1/events/distribution",
            notify_headers={"Authorization": f"Bearer {TOKEN}"}))
        env = dict(os.environ, IMAGEWATCH_CONFIG=str(self._config()), IMAGEWATCH_NATS_URL=self.nats.url,
                   IMAGEWATCH_DATABASE_URL=self.pg.url, IMAGEWATCH_WEBHOOK_TOKEN=TOKEN,
                   IMAGEWATCH_DATA_DIR=str(self.root / "data"), IMAGEWATCH_API_PORT=str(self.api_port),
                   IMAGEWATCH_API_HOST="127.0.0.1", IMAGEWATCH_LOG_FORMAT="json", IMAGEWATCH_LOG_LEVEL="warning")
        env.pop("IMAGEWATCH_BLOB_STORE", None)
        children = [ServerChild("nats", self.nats), ServerChild("postgres", self.pg)]
        children += [ProcessChild(name if k == 0 else f"{name}-{k + 1}",
                                  [sys.executable, "-m", "imagewatch.cli", "service", name], env)
                     for name in SERVICES for k in range(1 if name == "api" else self.replicas)]
        # the servers run already; the supervisor starts the services and watches everything
        self.supervisor = Supervisor(children, base=0.2, cap=3.0, healthy_after=20)
        for child in children[2:]:
            child.start()
        watcher = SupervisorThread(self.supervisor, interval=0.1)
        watcher.start(children=False)
        self.exits.callback(self._stop_services, watcher)
        await self.wait_ready()

    def _stop_services(self, watcher: SupervisorThread) -> None:
        watcher.stop(children=False)
        for child in self.supervisor.children[2:]:
            child.stop(timeout=15)

    async def _add_advisory(self) -> None:
        import msgspec

        from imagewatch.advisories.model import Advisory
        from imagewatch.store.advisories import upsert_advisories
        from imagewatch.store.db import connect_pool

        pool = await connect_pool(self.pg.url, 1, 1, migrate=False)
        try:
            async with pool.acquire() as conn:
                await upsert_advisories(conn, "test", [msgspec.convert(ADVISORY, Advisory)])
        finally:
            await pool.close()

    async def stop(self) -> None:
        await self.chat.down()
        self.exits.close()

    # ------------------------------------------------------------------ observing

    async def ready(self) -> bool:
        """The api is ready and every stage's consumers exist."""
        try:
            async with aiohttp.ClientSession() as http:
                async with http.get(f"{self.api}/readyz", timeout=aiohttp.ClientTimeout(total=3)) as resp:
                    if resp.status != 200:
                        return False
            rows = await self.query("SELECT count(*) AS n FROM stage_versions")
            return rows[0]["n"] >= 2 and await self._consumers() >= 6
        except (OSError, asyncio.TimeoutError, aiohttp.ClientError, asyncpg.PostgresError):
            return False

    async def _consumers(self) -> int:
        import nats

        nc = await nats.connect(self.nats.url, connect_timeout=2, max_reconnect_attempts=0)
        try:
            return len(await nc.jetstream().consumers_info("IMAGEWATCH"))
        except Exception:  # noqa: BLE001 - not there yet
            return 0
        finally:
            await nc.close()

    async def wait_ready(self, timeout: float = 90) -> None:
        await wait_until(self.ready, timeout, "the pipeline ready")

    async def query(self, sql: str, *args):
        conn = await asyncpg.connect(self.pg.url, timeout=5)
        try:
            return await conn.fetch(sql, *args)
        finally:
            await conn.close()

    async def push(self, repository: str, tag: str, spec: ImageSpec) -> str:
        """Push an image; its (platform image) digest."""
        pushed = await asyncio.to_thread(push_image, self.registry.host, repository, tag, spec)
        return pushed.digest

    async def stage_rows(self, stage: str, state: str = "running") -> list[str]:
        rows = await self.query("SELECT image_digest FROM scan_stages WHERE stage = $1 AND state = $2",
                                stage, state)
        return [r["image_digest"] for r in rows]

    def pid(self, service: str) -> int | None:
        return self.supervisor.child(service).pid

    def kill(self, service: str) -> float:
        """``kill -9`` the service's process; when it happened (monotonic)."""
        pid = self.nats.proc.pid if service == "nats" else self.pid(service)
        assert pid is not None, f"{service} is not running"
        os.kill(pid, signal.SIGKILL)
        return time.monotonic()

    def pg_fast_restart(self) -> float:
        """Stop PostgreSQL in fast mode (clients cut off); the supervisor starts it again."""
        subprocess.run([_pg_bin("pg_ctl"), "-D", str(self.pg.pgdata), "-m", "fast", "-w", "stop"],
                       check=True, capture_output=True, **self.pg._as_user())
        return time.monotonic()

    async def completed(self, digests: list[str]) -> bool:
        """Every image has its alert (and its notifier stage is done)."""
        if not all(self.chat.received(d) for d in digests):
            return False
        rows = await self.query("""SELECT count(*) AS n FROM scan_stages WHERE stage = 'notifier'
                                   AND state = 'done' AND image_digest = ANY($1::text[])""", digests)
        return rows[0]["n"] == len(set(digests))

    async def findings_duplicates(self) -> int:
        rows = await self.query("""SELECT count(*) - count(DISTINCT (image_digest, advisory_id, package, version))
                                   AS n FROM findings""")
        return rows[0]["n"]

    def result(self, case: str, digests: list[str], faults: int, recovery: float | None) -> CaseResult:
        got = [len(self.chat.received(d)) for d in digests]
        res = CaseResult(case, len(digests), faults, sum(1 for n in got if n >= 1),
                         sum(1 for n in got if n == 0), sum(n - 1 for n in got if n > 1), recovery)
        RESULTS.append(res)
        return res


async def wait_until(predicate, timeout: float, what: str, interval: float = 0.2):
    """Poll ``predicate`` until truthy; fail after ``timeout`` seconds (the case's time bound)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = await predicate()
        except (OSError, asyncio.TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError):
            value = None  # a server this case took down is not back yet
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(interval)
