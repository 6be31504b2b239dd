"""Guards of the secret rules and of ``removed_in`` that the fixtures did not pin down.

* ``generic-password`` keeps its entropy floor of 3.0: ``password=hunter22``
  (entropy 2.75) is not reported, a random value of the same length is.
* ``removed_in`` counts a later layer that makes a parent directory opaque.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from harness.images import layer_tar
from imagewatch.models import LayerRef
from imagewatch.secrets import SecretLayerSource, ThreadScanners, scan_image
from imagewatch.secrets.detect import Scanner
from imagewatch.secrets.detect.entropy import shannon_entropy as shannon

KEY = b"guards-of-the-guards-key"
TAR = "application/vnd.oci.image.layer.v1.tar"


def _generic(text: str) -> list[str]:
    return [f.rule_id for f in Scanner(key=KEY).scan("app/config.ini", text.encode())
            if f.rule_id == "generic-password"]


@pytest.mark.parametrize("value", ["hunter22", "letmein1", "sunshine1"])
def test_low_entropy_passwords_are_not_reported(value):
    assert 2.0 <= shannon(value) < 3.0  # between the floor and a lowered one
    assert _generic(f"password={value}\n") == []


@pytest.mark.parametrize("value", ["Xq9vLp2Rt7Wz", "k3J8mQ2xZ7pL"])
def test_random_passwords_are_reported(value):
    assert shannon(value) >= 3.0
    assert _generic(f"password={value}\n") == ["generic-password"]


def _source(tmp: Path, n: int, files) -> SecretLayerSource:
    data = layer_tar(files)
    path = tmp / f"layer{n}.tar"
    path.write_bytes(data)
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    return SecretLayerSource(LayerRef(digest=digest, diff_id=digest, size=len(data), media_type=TAR), path=path)


def _opaque_layer(tmp: Path, n: int, directory: str) -> SecretLayerSource:
    import io
    import tarfile

    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tar:
        for name, typ in ((directory, tarfile.DIRTYPE), (f"{directory}/.wh..wh..opq", tarfile.REGTYPE)):
            info = tarfile.TarInfo(name)
            info.type, info.mtime = typ, 1_700_000_000
            tar.addfile(info)
    data = out.getvalue()
    path = tmp / f"layer{n}.tar"
    path.write_bytes(data)
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    return SecretLayerSource(LayerRef(digest=digest, diff_id=digest, size=len(data), media_type=TAR), path=path)


async def test_removed_in_counts_a_later_opaque_directory(tmp_path):
    token = "gh" + "p_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"
    layers = [_source(tmp_path, 0, {"srv/app/conf/deploy.sh": f"export GITHUB_TOKEN={token}\n"}),
              _source(tmp_path, 1, {"etc/motd": b"hello\n"}),
              _opaque_layer(tmp_path, 2, "srv/app")]
    result = await scan_image(layers, None, ThreadScanners(KEY, max_file_bytes=1 << 20), None)
    found = [f for f in result.findings if f.path == "srv/app/conf/deploy.sh" and f.kind == "secret"]
    assert found and {f.removed_in for f in found} == {2}
    assert {f.layer_index for f in found} == {0}
