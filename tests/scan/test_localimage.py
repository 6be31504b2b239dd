"""``imagewatch.oci.local``: OCI layouts and docker archives on disk, verified."""

from __future__ import annotations

import gzip
import io
import json
import shutil
import tarfile
from pathlib import Path

import pytest

from harness.images import ImageSpec, build_index, layout_descriptor, read_blob
from imagewatch.oci.local import (DOCKER_LAYER, LocalImageError, open_docker_archive, open_oci_layout,
                                   split_layout_spec)

from .helpers import TAG, write_docker_archive


def _manifest(layout) -> dict:
    return json.loads(read_blob(layout, layout_descriptor(layout, TAG)["digest"]))


def test_oci_layout_by_tag(layout):
    [image] = open_oci_layout(f"{layout}:{TAG}")
    manifest = _manifest(layout)
    assert image.digest == layout_descriptor(layout, TAG)["digest"]
    assert image.reference == f"oci:{layout}:{TAG}" and image.platform == "linux/amd64"
    assert [layer.digest for layer in image.layers] == [d["digest"] for d in manifest["layers"]]
    assert [layer.diff_id for layer in image.layers] == image.config.rootfs.diff_ids
    assert image.config.config.User == ""
    path = image.layer_path(image.layers[0])
    assert path.read_bytes() == read_blob(layout, image.layers[0].digest)
    assert open_oci_layout(str(layout))[0].digest == image.digest  # the only manifest: no tag needed


def test_oci_layout_errors(layout, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(layout, copy)
    index = json.loads((copy / "index.json").read_text())
    second = json.loads(json.dumps(index["manifests"][0]))
    second["annotations"]["org.opencontainers.image.ref.name"] = "other"
    index["manifests"].append(second)
    (copy / "index.json").write_text(json.dumps(index))
    with pytest.raises(LocalImageError, match="holds 2 manifests; name one as oci:DIR:tag"):
        open_oci_layout(str(copy))
    with pytest.raises(LocalImageError, match=r"no manifest tagged 'nope' .*\(tags: app, other\)"):
        open_oci_layout(f"{copy}:nope")
    with pytest.raises(LocalImageError, match="not an OCI image layout"):
        open_oci_layout(str(tmp_path / "missing"))
    [image] = open_oci_layout(f"{copy}:{TAG}")
    blob = copy / "blobs" / "sha256" / image.layers[1].digest.split(":")[1]
    blob.write_bytes(b"not the layer")
    with pytest.raises(LocalImageError, match="does not match its digest"):
        image.layer_path(image.layers[1])
    manifest = copy / "blobs" / "sha256" / image.digest.split(":")[1]
    manifest.write_bytes(manifest.read_bytes() + b" ")
    with pytest.raises(LocalImageError, match="does not match its digest"):
        open_oci_layout(f"{copy}:{TAG}")
    index["manifests"][0]["digest"] = "sha256:../../../etc/passwd"
    (copy / "index.json").write_text(json.dumps(index))
    with pytest.raises(LocalImageError, match="malformed digest"):
        open_oci_layout(f"{copy}:{TAG}")


def test_oci_index_platform_selection(tmp_path):
    layout = tmp_path / "multi"
    spec = ImageSpec(layers=[{"etc/os-release": b"ID=alpine\nVERSION_ID=3.19.1\n"}])
    build_index(layout, "multi", {"linux/amd64": spec, "linux/arm64/v8": spec}, attestation=True)
    [arm] = open_oci_layout(f"{layout}:multi", ["linux/arm64"])
    assert arm.platform == "linux/arm64/v8"
    assert sorted(i.platform for i in open_oci_layout(f"{layout}:multi", ["all"])) == ["linux/amd64",
                                                                                      "linux/arm64/v8"]
    with pytest.raises(LocalImageError, match="offers linux/amd64, linux/arm64/v8"):
        open_oci_layout(f"{layout}:multi", ["linux/s390x"])


def test_split_layout_spec(tmp_path):
    assert split_layout_spec("build/oci:app") == (Path("build/oci"), "app")
    assert split_layout_spec("build/oci") == (Path("build/oci"), "")
    odd = tmp_path / "dir:with-colon"
    odd.mkdir()
    assert split_layout_spec(str(odd)) == (odd, "")
    assert split_layout_spec(f"{odd}:v1") == (odd, "v1")


def test_docker_archive(layout, tmp_path):
    archive = write_docker_archive(layout, tmp_path / "app.tar")
    [image] = open_docker_archive(str(archive), tmp_path)
    [oci] = open_oci_layout(f"{layout}:{TAG}")
    assert image.reference == "test/app:1" and image.platform == "linux/amd64"
    assert image.digest == _manifest(layout)["config"]["digest"] and image.config_data == oci.config_data
    assert [layer.diff_id for layer in image.layers] == [layer.digest for layer in image.layers]
    assert [layer.diff_id for layer in image.layers] == [layer.diff_id for layer in oci.layers]
    assert {layer.media_type for layer in image.layers} == {DOCKER_LAYER}
    extracted = image.layer_path(image.layers[0]).parent.parent
    assert extracted.is_dir()
    image.close()
    assert not extracted.exists()


def test_gzipped_docker_archive(layout, tmp_path):
    archive = write_docker_archive(layout, tmp_path / "app.tar")
    packed = tmp_path / "app.tar.gz"
    packed.write_bytes(gzip.compress(archive.read_bytes()))
    [image] = open_docker_archive(str(packed))
    assert len(image.layers) == 2
    image.close()


def _rewrite(archive, out, change) -> None:
    with tarfile.open(archive) as src, tarfile.open(out, "w") as dst:
        for member in src.getmembers():
            data = src.extractfile(member).read()
            member, data = change(member, data)
            member.size = len(data)
            dst.addfile(member, io.BytesIO(data))


def test_docker_archive_errors(layout, tmp_path):
    archive = write_docker_archive(layout, tmp_path / "app.tar")

    def damage_layer(member, data):
        return member, (data[:-1] + b"\x01" if member.name.endswith("layer.tar") else data)

    _rewrite(archive, tmp_path / "bad-layer.tar", damage_layer)
    with pytest.raises(LocalImageError, match="does not match diff_id"):
        open_docker_archive(str(tmp_path / "bad-layer.tar"), tmp_path)

    def escape(member, data):
        if member.name == "manifest.json":
            doc = json.loads(data)
            doc[0]["Layers"][0] = "../../../../etc/passwd"
            data = json.dumps(doc).encode()
        return member, data

    _rewrite(archive, tmp_path / "escape.tar", escape)
    with pytest.raises(LocalImageError, match="missing from the archive"):
        open_docker_archive(str(tmp_path / "escape.tar"), tmp_path)
    (tmp_path / "junk.tar").write_bytes(b"not a tar")
    with pytest.raises(LocalImageError, match="is not a docker save archive"):
        open_docker_archive(str(tmp_path / "junk.tar"), tmp_path)
    with pytest.raises(LocalImageError, match="not found"):
        open_docker_archive(str(tmp_path / "none.tar"))
    assert not list(tmp_path.glob("iw-archive-*"))  # failed opens leave nothing behind
