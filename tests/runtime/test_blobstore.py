"""The blob store: NATS Object Store and directory variants behind one interface, verified on read."""

from __future__ import annotations

import hashlib

import pytest

from imagewatch.runtime.blobstore import BlobCorrupt, BlobMissing, DirectoryBlobStore, NatsBlobStore
from imagewatch.runtime.bus import Bus
from imagewatch.config import BlobStoreConfig, BusConfig


def _blob(tmp_path, data: bytes):
    path = tmp_path / "in"
    path.write_bytes(data)
    return "sha256:" + hashlib.sha256(data).hexdigest(), path


@pytest.fixture(params=["directory", "nats"])
async def store(request, tmp_path, nats_url):
    if request.param == "directory":
        yield DirectoryBlobStore(tmp_path / "blobs")
        return
    bus = await Bus.connect(BusConfig(url=nats_url))
    yield NatsBlobStore(bus.js, BlobStoreConfig(bucket="test-blobs", ttl_hours=1))
    await bus.close()


async def test_roundtrip_and_missing(store, tmp_path):
    data = b"layer bytes " * 100_000
    digest, path = _blob(tmp_path, data)
    assert not await store.has(digest)
    await store.put_file(digest, path)
    assert await store.has(digest)
    out = tmp_path / "out"
    await store.get_file(digest, out)
    assert out.read_bytes() == data
    with pytest.raises(BlobMissing):
        await store.get_file("sha256:" + "0" * 64, tmp_path / "none")


async def test_read_is_verified(store, tmp_path):
    digest, _ = _blob(tmp_path, b"the real content")
    wrong = tmp_path / "wrong"
    wrong.write_bytes(b"something else")
    await store.put_file(digest, wrong)
    with pytest.raises(BlobCorrupt, match="does not match"):
        await store.get_file(digest, tmp_path / "out")
