"""The client against a real docker-registry holding images pushed with skopeo."""

import gzip
import hashlib
from pathlib import Path

import pytest

from imagewatch.oci import (
    BlobTooLarge, DigestMismatch, NoMatchingPlatform, NotFound, Reference, SizeMismatch,
)
from imagewatch.oci import mediatypes
from harness.images import ImageSpec, layer_tar, push_image

from .conftest import BASE, SPEC, TOP, make_client

pytestmark = pytest.mark.timeout(120)


def _sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


async def test_ping_anonymous(registry, session):
    assert await make_client(session, registry.host).ping(registry.host) == "anonymous"


async def test_manifest_by_tag_and_by_digest(registry, pushed, session):
    client = make_client(session, registry.host)
    by_tag = await client.get_manifest(registry.ref("team/app", "1.0"))
    assert by_tag.digest == pushed["oci"].digest
    assert by_tag.media_type == mediatypes.OCI_MANIFEST
    digest, media_type, data = await client.get_manifest(f"{registry.host}/team/app@{pushed['oci'].digest}")
    assert (digest, media_type, data) == tuple(by_tag)
    assert _sha256(data) == digest


async def test_oci_image_config_and_layers(registry, pushed, session):
    [image] = await make_client(session, registry.host).pull_images(registry.ref("team/app", "1.0"))
    assert image.digest == pushed["oci"].digest
    assert image.platform == "linux/amd64"
    assert image.index_digest == ""
    runtime = image.config.config
    assert (runtime.User, runtime.Cmd, runtime.ExposedPorts) == ("1000", ["/app/run.sh"], {"8080/tcp": {}})
    assert sorted(runtime.Env) == ["MODE=test", "PATH=/bin"]
    assert runtime.Labels == {"org.example.team": "core"}
    assert [layer.diff_id for layer in image.layers] == [_sha256(layer_tar(BASE)), _sha256(layer_tar(TOP))]
    assert {layer.media_type for layer in image.layers} == {"application/vnd.oci.image.layer.v1.tar+gzip"}
    assert image.config_digest == _sha256(image.config_data)


async def test_docker_v2_manifest(registry, pushed, session):
    client = make_client(session, registry.host)
    [image] = await client.pull_images(registry.ref("team/app", "docker"))
    assert image.digest == pushed["v2"].digest
    assert image.media_type == mediatypes.DOCKER_MANIFEST
    assert image.manifest_data and image.config.config.User == "1000"
    assert {layer.media_type for layer in image.layers} == {"application/vnd.docker.image.rootfs.diff.tar.gzip"}
    assert [layer.diff_id for layer in image.layers] == [_sha256(layer_tar(BASE)), _sha256(layer_tar(TOP))]


async def test_index_selects_linux_amd64_by_default(registry, pushed, session):
    client = make_client(session, registry.host)
    top = await client.get_manifest(registry.ref("team/multi", "2.0"))
    assert (top.digest, top.media_type) == (pushed["index"].digest, mediatypes.OCI_INDEX)
    [chosen] = await client.resolve_platforms(registry.ref("team/multi", "2.0"))
    assert chosen.platform == "linux/amd64"
    assert chosen.index_digest == pushed["index"].digest
    assert chosen.reference.digest == chosen.digest and chosen.reference.tag == "2.0"


async def test_index_platform_list_and_all(registry, pushed, session):
    client = make_client(session, registry.host)
    ref = registry.ref("team/multi", "2.0")
    [arm] = await client.resolve_platforms(ref, ["linux/arm64"])
    assert arm.platform == "linux/arm64/v8"
    images = await client.pull_images(ref, "all")
    assert [i.platform for i in images] == ["linux/amd64", "linux/arm64/v8"]  # attestation skipped
    assert [i.config.architecture for i in images] == ["amd64", "arm64"]
    with pytest.raises(NoMatchingPlatform, match="it offers linux/amd64, linux/arm64/v8"):
        await client.resolve_platforms(ref, ["linux/s390x"])


async def test_blob_streams_to_path_verified(registry, pushed, session, tmp_path: Path):
    client = make_client(session, registry.host)
    ref = Reference.parse(registry.ref("team/app", "1.0"))
    [image] = await client.pull_images(ref)
    layer = image.layers[0]
    target = tmp_path / "layer.tar.gz"
    written = await client.get_blob(ref, layer.digest, target, size=layer.size)
    assert written == layer.size == target.stat().st_size
    assert _sha256(gzip.decompress(target.read_bytes())) == layer.diff_id


async def test_corrupted_blob_raises_digest_mismatch(registry, session, tmp_path: Path):
    spec = ImageSpec(layers=[{"/corrupt-me": b"only this image has this file\n"}])
    push_image(registry.host, "team/broken", "1", spec)
    client = make_client(session, registry.host)
    ref = Reference.parse(registry.ref("team/broken", "1"))
    [image] = await client.pull_images(ref)
    layer = image.layers[0]
    registry.corrupt_blob(layer.digest)
    target = tmp_path / "layer"
    with pytest.raises(DigestMismatch, match=f"content does not match its digest {layer.digest}") as caught:
        await client.get_blob(ref, layer.digest, target, size=layer.size)
    assert caught.value.expected == layer.digest and caught.value.actual != layer.digest
    assert not target.exists() and not Path(f"{target}.part").exists()


async def test_limits_and_wrong_size(registry, pushed, session, tmp_path: Path):
    client = make_client(session, registry.host)
    ref = registry.ref("team/app", "1.0")
    [image] = await client.pull_images(ref)
    layer = image.layers[0]
    with pytest.raises(BlobTooLarge, match="over the limit of 10"):
        await client.get_blob(ref, layer.digest, tmp_path / "a", max_size=10)
    with pytest.raises(SizeMismatch, match=f"descriptor says {layer.size + 1}"):
        await client.get_blob(ref, layer.digest, tmp_path / "b", size=layer.size + 1)
    small = make_client(session, registry.host, max_manifest_bytes=100)
    with pytest.raises(BlobTooLarge, match="manifest"):
        await small.get_manifest(ref)


async def test_not_found(registry, pushed, session, tmp_path: Path):
    client = make_client(session, registry.host)
    with pytest.raises(NotFound, match="MANIFEST_UNKNOWN"):
        await client.get_manifest(registry.ref("team/app", "no-such-tag"))
    with pytest.raises(NotFound):
        await client.get_manifest(registry.ref("team/none", "1"))
    with pytest.raises(NotFound, match="registry: blob sha256:0000"):
        await client.get_blob(registry.ref("team/app"), "sha256:" + "0" * 64, tmp_path / "x")
