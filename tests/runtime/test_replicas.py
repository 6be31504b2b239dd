"""``[bus] url`` with every node of a NATS cluster and ``[bus] replicas``: stream, consumers, buckets follow it."""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import os
import uuid

import nkeys
import pytest
import structlog

from harness.natscluster import NatsCluster
from imagewatch.config import BlobStoreConfig, BusConfig
from imagewatch.harbor import authorization as harbor_auth
from imagewatch.messages import SUBJECT_FETCHED, SUBJECT_PUSH, Fetched, PushEvent
from imagewatch.runtime.blobstore import NatsBlobStore
from imagewatch.runtime.bus import Bus, Worker
from imagewatch.runtime.logs import configure
from imagewatch.runtime import presence


SEED = nkeys.encode_seed(os.urandom(32), nkeys.PREFIX_BYTE_USER)


@pytest.fixture(scope="module")
async def cluster(tmp_path_factory):
    public = nkeys.from_seed(bytearray(SEED)).public_key.decode()
    c = NatsCluster(tmp_path_factory.mktemp("cluster"), nkeys=[public]).start()
    try:
        await c.wait_jetstream()
        yield c
    finally:
        c.stop()


@pytest.fixture
async def stream(cluster):
    """A fresh stream name, deleted after the test (every test stream captures ``iw.>``)."""
    import nats

    name = f"IW{uuid.uuid4().hex[:8]}"
    yield name
    nc = await nats.connect(cluster.url.split(","))
    try:
        await nc.jetstream().delete_stream(name)
    except Exception:  # noqa: BLE001 - never created
        pass
    finally:
        await nc.close()


async def _noop(message, delivery) -> None:
    return None


async def _replicas(bus: Bus, stream: str, consumer: str | None = None) -> int:
    if consumer is None:
        info = await bus.js.stream_info(stream)
        return info.config.num_replicas
    info = await bus.js.consumer_info(stream, consumer)
    return info.config.num_replicas or 0


async def test_stream_consumers_and_buckets_follow_the_replica_count(cluster, stream, tmp_path):
    bucket = f"blobs-{uuid.uuid4().hex[:8]}"
    ids = {}
    for replicas in (1, 3, 1, 5 if cluster.size >= 5 else 3):
        bus = await Bus.connect(BusConfig(url=cluster.url, stream=stream, replicas=replicas))
        try:
            workers = [Worker(bus, "inventory", SUBJECT_FETCHED, Fetched, _noop),
                       Worker(bus, "fetcher", SUBJECT_PUSH, PushEvent, _noop)]
            for w in workers:
                await w._ensure_consumer()
            store = NatsBlobStore(bus.js, BlobStoreConfig(bucket=bucket, ttl_hours=1), replicas)
            await store.prepare()
            await harbor_auth.bucket(bus.js, 60, replicas)
            await presence.bucket(bus.js, float(replicas), replicas)  # its TTL follows the interval too
            assert await _replicas(bus, stream) == replicas
            for w in workers:
                name = bus.durable_name(w.stage, w.subject)
                assert await _replicas(bus, stream, name) == replicas
                info = await bus.js.consumer_info(stream, name)
                ids.setdefault(name, info.created)
                assert info.created == ids[name]  # updated in place, never recreated (acks are kept)
            assert await _replicas(bus, f"OBJ_{bucket}") == replicas
            assert await _replicas(bus, f"KV_{harbor_auth.BUCKET}") == replicas
            assert await _replicas(bus, f"KV_{presence.BUCKET}") == replicas
            assert (await bus.js.stream_info(f"KV_{presence.BUCKET}")).config.max_age == 3.0 * replicas
            data = f"layer at R{replicas}".encode()
            path = tmp_path / "blob"
            path.write_bytes(data)
            digest = "sha256:" + hashlib.sha256(data).hexdigest()
            await store.put_file(digest, path)
            await store.get_file(digest, tmp_path / "out")
            assert (tmp_path / "out").read_bytes() == data
        finally:
            await bus.close()


async def test_messages_survive_a_scale_up(cluster, stream):
    bus = await Bus.connect(BusConfig(url=cluster.url, stream=stream, replicas=1))
    try:
        for n in range(5):
            await bus.publish(SUBJECT_PUSH, PushEvent(event_id=f"e{n}", source="t", registry="r",
                                                      repository="a", tag=str(n)), f"m{n}")
    finally:
        await bus.close()
    bus = await Bus.connect(BusConfig(url=cluster.url, stream=stream, replicas=3))
    try:
        info = await bus.js.stream_info(stream)
        assert info.config.num_replicas == 3 and info.state.messages == 5
        assert len(info.cluster.replicas or []) == 2  # the leader and two followers
    finally:
        await bus.close()


async def test_user_and_password_from_the_config_with_bare_urls(cluster, stream):
    bare = ",".join(f"nats://127.0.0.1:{n.port}" for n in cluster.nodes)
    bus = await Bus.connect(BusConfig(url=bare, user="imagewatch", password=cluster.password,
                                      stream=stream, replicas=3))
    try:
        assert bus.nc.is_connected
    finally:
        await bus.close()
    with pytest.raises(Exception):  # refused by every node (the client keeps trying: bounded here)
        await asyncio.wait_for(Bus.connect(BusConfig(url=bare, user="imagewatch", password="wrong-password-123456",
                                                     stream=stream)), 5)


async def test_an_nkey_user_reaches_every_node(cluster, stream, tmp_path):
    seed = tmp_path / "user.nk"
    seed.write_bytes(SEED)
    seed.chmod(0o600)
    for node in cluster.nodes:
        bus = await Bus.connect(BusConfig(url=f"nats://127.0.0.1:{node.port}", nkey_seed_file=str(seed),
                                          stream=stream, replicas=3))
        try:
            assert bus.nc.connected_url.port == node.port
            await bus.publish(SUBJECT_PUSH, PushEvent(event_id="e", source="t", registry="r", repository="a",
                                                      tag="1"), "nk")
        finally:
            await bus.close()
    other = tmp_path / "other.nk"
    other.write_bytes(nkeys.encode_seed(os.urandom(32), nkeys.PREFIX_BYTE_USER))
    with pytest.raises(Exception):  # an nkey the cluster does not know (the client keeps trying: bounded)
        await asyncio.wait_for(Bus.connect(BusConfig(url=f"nats://127.0.0.1:{cluster.nodes[0].port}",
                                                     nkey_seed_file=str(other), stream=stream)), 5)


def test_an_nkey_and_a_password_user_together_are_refused():
    import msgspec

    with pytest.raises(msgspec.ValidationError, match="either user/password or nkey_seed_file"):
        msgspec.convert({"user": "u", "password": "p", "nkey_seed_file": "/x.nk"}, BusConfig)


async def test_losing_the_connected_node_moves_the_client_and_logs_no_password(cluster, stream):
    out = io.StringIO()
    configure("json", "info", stream=out)
    try:
        bus = await Bus.connect(BusConfig(url=cluster.url, stream=stream, replicas=3), name="failover")
        try:
            first = bus.nc.connected_url.port
            index = next(i for i, n in enumerate(cluster.nodes) if n.port == first)
            cluster.kill(index)
            try:
                seq = 0
                for n in range(20):  # publishes go on once the client moved and the stream has a leader
                    for _ in range(100):
                        try:
                            seq = await bus.publish(SUBJECT_PUSH, PushEvent(
                                event_id=f"e{n}", source="t", registry="r", repository="a", tag=str(n)), f"m{n}")
                            break
                        except Exception:  # noqa: BLE001 - no leader or no connection yet
                            await asyncio.sleep(0.2)
                assert seq == 20
                assert bus.nc.connected_url.port != first
            finally:
                cluster.start_node(index)
        finally:
            await bus.close()
    finally:
        structlog.reset_defaults()
    lines = [json.loads(line) for line in out.getvalue().splitlines() if line.startswith("{")]
    assert any(line["event"] == "NATS reconnected" for line in lines)
    assert cluster.password not in out.getvalue()


@pytest.mark.parametrize("bad", ["", " , ", "http://a:4222", "nats://:4222", "nats://a:port"])
def test_bad_server_lists_are_refused_without_the_password(bad):
    import msgspec

    with pytest.raises(msgspec.ValidationError) as err:
        msgspec.convert({"url": bad.replace("a:", "u:hunter2hunter2@a:")}, BusConfig)
    assert "hunter2" not in str(err.value)


@pytest.mark.parametrize("replicas", [0, 2, 4, 7, -1])
def test_replicas_must_be_1_3_or_5(replicas):
    import msgspec

    with pytest.raises(msgspec.ValidationError, match="bus.replicas"):
        msgspec.convert({"replicas": replicas}, BusConfig)
