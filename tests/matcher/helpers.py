"""Helpers for matcher/updater tests: images in the store, advisories, a tap on a subject."""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path

import nats

from imagewatch.advisories import load_path
from imagewatch.messages import decoder_for
from imagewatch.models import LayerRef, OSInfo, Package
from imagewatch.store import images as images_store
from imagewatch.store import packages as packages_store
from imagewatch.store.advisories import upsert_advisories

ADVISORY_DATA = Path(__file__).resolve().parents[1] / "advisories" / "data"
URLLIB3 = ADVISORY_DATA / "osv-yaml" / "urllib3"
SECDB_319 = ADVISORY_DATA / "secdb" / "v3.19" / "main.json"
ALPINE = OSInfo(id="alpine", version_id="3.19.1")
REGISTRY = "registry.test:5000"


def digest_of(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def pypi(name: str, version: str) -> Package:
    return Package(name=name, version=version, ecosystem="PyPI", layer=digest_of("app-layer"),
                   path=f"usr/lib/python3.11/site-packages/{name}-{version}.dist-info/METADATA")


def apk(name: str, version: str, origin: str = "") -> Package:
    return Package(name=name, version=version, ecosystem="Alpine", kind="os", source_name=origin or name,
                   source_version=version, layer=digest_of("base-layer"), path="lib/apk/db/installed")


async def add_image(pool, name: str, packages: list[Package], *, repository: str = "team/app",
                    tag: str = "v1", os: OSInfo | None = ALPINE) -> str:
    """Record an image (as the fetcher would) with its package list (as the inventory would)."""
    digest = digest_of(name)
    layer = LayerRef(digest=digest_of(name + "-layer"), diff_id=digest_of(name + "-diff"), size=10,
                     media_type="application/vnd.oci.image.layer.v1.tar+gzip")
    async with pool.acquire() as conn:
        await images_store.record_image(
            conn, digest=digest, registry=REGISTRY, repository=repository,
            media_type="application/vnd.oci.image.manifest.v1+json", platform="linux/amd64",
            config_digest=digest_of(name + "-config"), config=None, index_digest="", layers=[layer], tag=tag)
        await packages_store.replace_image_packages(conn, digest, packages, os)
    return digest


async def import_advisories(pool, *paths: Path) -> None:
    for path in paths:
        await upsert_advisories(pool, "test", list(load_path(path)))


class Tap:
    """Every message stored on one subject of the stream, decoded, in order (duplicates dropped by the stream)."""

    def __init__(self, url: str, subject: str, kind: type) -> None:
        self.url, self.subject, self.decoder = url, subject, decoder_for(kind)
        self.messages: list = []
        self._nc = None

    async def start(self) -> "Tap":
        self._nc = await nats.connect(self.url)
        js = self._nc.jetstream()

        async def on_msg(msg) -> None:
            self.messages.append(self.decoder.decode(msg.data))

        for _ in range(50):  # the stream appears when the first service connects
            try:
                await js.subscribe(self.subject, cb=on_msg, ordered_consumer=True)
                return self
            except nats.js.errors.NotFoundError:
                await asyncio.sleep(0.1)
        raise AssertionError("stream never appeared")

    async def wait(self, predicate, timeout: float = 20.0, what: str = "message"):
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            found = [m for m in self.messages if predicate(m)]
            if found:
                return found
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"timed out waiting for {what}; got {self.messages}")
            await asyncio.sleep(0.05)

    async def close(self) -> None:
        if self._nc is not None:
            await self._nc.close()
