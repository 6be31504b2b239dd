"""Pure pieces of the client: challenges, platform selection, config -> layers."""

import msgspec
import pytest

from imagewatch.models import LayerRef
from imagewatch.oci import (
    ImageIndex, ImageManifest, InvalidManifest, NoMatchingPlatform, image_layers, parse_config,
    select_platforms,
)
from imagewatch.oci.auth import parse_challenges
from imagewatch.oci.errors import DigestMismatch, RegistryError
from imagewatch.oci.retry import retry_after


def _entry(digest: str, os: str, arch: str, variant: str = "", **annotations) -> dict:
    platform = {"os": os, "architecture": arch, **({"variant": variant} if variant else {})}
    return {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": digest, "size": 1,
            "platform": platform, "annotations": annotations}


INDEX = msgspec.convert({"schemaVersion": 2, "manifests": [
    _entry("sha256:amd", "linux", "amd64"),
    _entry("sha256:arm7", "linux", "arm", "v7"),
    _entry("sha256:arm64", "linux", "arm64", "v8"),
    _entry("sha256:att", "unknown", "unknown", **{"vnd.docker.reference.type": "attestation-manifest"}),
]}, ImageIndex)


def test_default_platform_is_linux_amd64():
    assert [e.digest for e in select_platforms(INDEX)] == ["sha256:amd"]


def test_platform_list_matches_any_variant_unless_given():
    chosen = select_platforms(INDEX, ["linux/arm64", "linux/arm/v7"])
    assert [e.digest for e in chosen] == ["sha256:arm7", "sha256:arm64"]
    with pytest.raises(NoMatchingPlatform, match="linux/arm/v7"):
        select_platforms(INDEX, ["linux/arm/v6"])


def test_all_skips_attestations():
    assert [e.digest for e in select_platforms(INDEX, "all")] == ["sha256:amd", "sha256:arm7", "sha256:arm64"]


def test_bearer_challenge_with_comma_in_scope():
    header = ('Bearer realm="https://auth.example/token",service="reg",'
              'scope="repository:a/b:pull,push",error="insufficient_scope"')
    [challenge] = parse_challenges([header])
    assert challenge.scheme == "bearer"
    assert challenge.params == {"realm": "https://auth.example/token", "service": "reg",
                                "scope": "repository:a/b:pull,push", "error": "insufficient_scope"}


def test_basic_challenge():
    assert [c.scheme for c in parse_challenges(['Basic realm="r"'])] == ["basic"]


def test_retry_after_seconds_and_cap():
    assert retry_after("7", cap=60) == 7.0
    assert retry_after("600", cap=60) == 60.0
    assert retry_after("soon", cap=60) is None


def test_image_layers_pairs_digests_with_diff_ids():
    manifest = msgspec.convert({"schemaVersion": 2, "config": {"digest": "sha256:c", "size": 2}, "layers": [
        {"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": "sha256:l1", "size": 10},
    ]}, ImageManifest)
    config = parse_config(b'{"rootfs": {"type": "layers", "diff_ids": ["sha256:d1"]}}')
    assert image_layers(manifest, config) == [LayerRef(
        digest="sha256:l1", diff_id="sha256:d1", size=10, media_type="application/vnd.oci.image.layer.v1.tar+gzip")]
    with pytest.raises(InvalidManifest, match="1 layers but the config has 0 diff_ids"):
        image_layers(manifest, parse_config(b"{}"))


def test_errors_carry_the_component_prefix():
    assert str(RegistryError("boom")) == "registry: boom"
    error = DigestMismatch("blob sha256:x", "sha256:x", "sha256:y")
    assert str(error) == "registry: blob sha256:x: content does not match its digest sha256:x (got sha256:y)"
