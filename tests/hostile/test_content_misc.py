"""Smaller hostile inputs: diff_id claims, docker-archive size, signatures, chat error bodies."""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import io
import tarfile
import tracemalloc
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from harness.images import layer_tar
from imagewatch.inventory.image import DirectoryLayerCache, LayerFailed, LayerSource, inventory_image
from imagewatch.ecosystems.catalog import default_analysers
from imagewatch.layers import LayerRefused, walk_layer
from imagewatch.notify.delivery import MAX_ERROR_BODY, deliver
from imagewatch.notify.outbound import OutboundRequest
from imagewatch.notify.secret import Secret
from imagewatch.notify.signing import SignatureError, sign, verify
from imagewatch.oci.local import LocalImageError, open_docker_archive

LAYER = layer_tar({"etc/os-release": b"ID=alpine\nVERSION_ID=3.19.1\n"})
DIFF_ID = "sha256:" + hashlib.sha256(LAYER).hexdigest()


@pytest.mark.parametrize("claim", ["", "sha256:abc", "md5:" + "0" * 32, "sha256:" + "G" * 64, DIFF_ID.upper()])
def test_a_diff_id_that_cannot_be_checked_is_refused(claim):
    with pytest.raises(LayerRefused) as info:
        walk_layer(io.BytesIO(gzip.compress(LAYER)), diff_id=claim)
    assert info.value.reason == "diff_id" and "cannot be verified" in str(info.value)


def test_sha512_diff_ids_and_trailing_junk_are_checked_right():
    claim = "sha512:" + hashlib.sha512(LAYER).hexdigest()
    assert walk_layer(io.BytesIO(gzip.compress(LAYER) + b"junk"), diff_id=claim).entries == 2
    with pytest.raises(LayerRefused, match=r"refused \(diff_id\)"):
        walk_layer(io.BytesIO(gzip.compress(LAYER + b"\0" * 512)), diff_id=DIFF_ID)  # one more block


async def test_two_blobs_claiming_one_diff_id_in_one_image_are_both_checked(tmp_path):
    async def fetcher(data: bytes):
        async def fetch(path: Path) -> None:
            path.write_bytes(data)
        return fetch
    real = LayerSource(DIFF_ID, "application/vnd.oci.image.layer.v1.tar+gzip", await fetcher(gzip.compress(LAYER)),
                       digest="sha256:" + "1" * 64)
    decoy = LayerSource(DIFF_ID, "application/vnd.oci.image.layer.v1.tar+gzip",
                        await fetcher(gzip.compress(layer_tar({"x": b"evil"}))), digest="sha256:" + "2" * 64)
    cache = DirectoryLayerCache(tmp_path / "cache")
    with pytest.raises(LayerFailed) as info:
        await inventory_image([real, decoy], default_analysers(), cache, tmp_dir=tmp_path)
    assert info.value.reason == "diff_id" and DIFF_ID in str(info.value)
    assert await cache.verified(real.digest, DIFF_ID) and not await cache.verified(decoy.digest, DIFF_ID)


def _archive(path: Path, members: int, size: int) -> Path:
    with tarfile.open(path, "w") as tar:
        for i in range(members):
            info = tarfile.TarInfo(f"blob{i}")
            info.size = size
            tar.addfile(info, io.BytesIO(b"\0" * size))
    return path


@pytest.mark.parametrize("members,size,limits,why", [
    (3, 600_000, {"max_bytes": 1_000_000}, "extract to more than 1000000 bytes"),
    (50, 10, {"max_members": 20}, "more than 20 entries"),
])
def test_docker_archive_over_its_caps_is_refused_before_writing(tmp_path, members, size, limits, why):
    archive = _archive(tmp_path / "big.tar", members, size)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    with pytest.raises(LocalImageError, match=why):
        open_docker_archive(str(archive), scratch, **limits)
    assert list(scratch.iterdir()) == []  # nothing left behind, nothing extracted


@pytest.mark.parametrize("forged", ["t=1,v1=ümlaut", "t=1,v1=\udcff", "t=1,v1=" + "é" * 64])
def test_signature_check_with_non_ascii_input_is_a_mismatch_not_a_crash(forged):
    header = forged.replace("t=1", f"t={int(__import__('time').time())}")
    with pytest.raises(SignatureError, match="does not match"):
        verify("secret", header, b"body")
    verify("secret", sign("secret", b"body"), b"body")  # the real one still verifies


def test_secret_equality_with_non_ascii_values():
    assert Secret("pässwörd") == Secret("pässwörd") and Secret("pässwörd") != Secret("password")


async def test_notifier_reads_at_most_4_kib_of_an_error_body():
    sent = {"bytes": 0}

    async def endless(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(status=500)
        await resp.prepare(request)
        chunk = b"E" * 65536
        try:
            for _ in range(4096):  # 256 MiB if anyone read it all
                await resp.write(chunk)
                sent["bytes"] += len(chunk)
        except (ConnectionResetError, aiohttp.ClientConnectionResetError):
            pass
        return resp

    app = web.Application()
    app.router.add_post("/hook", endless)
    server = TestServer(app)
    await server.start_server()
    try:
        tracemalloc.start()
        async with aiohttp.ClientSession() as session:
            result = await deliver(session, str(server.make_url("/hook")),
                                   OutboundRequest(body=b"{}", headers={}, idempotency_key="k"), timeout=60)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    finally:
        await server.close()
    assert result.outcome == "retry" and result.status == 500 and "HTTP 500" in result.error
    assert peak < 16 * MAX_ERROR_BODY * 64, f"peak {peak}"  # far below the body that was offered
    assert sent["bytes"] < 64 * 1024 * 1024
