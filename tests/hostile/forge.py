"""Images whose config lies: layers as given, ``rootfs.diff_ids`` replaced by the claims wanted.

``umoci raw add-layer`` compresses each tar as given; the config, manifest and
index are then rewritten so that a layer claims another layer's diff_id, as
a hostile pusher can do. ``skopeo copy`` copies the blobs without checking.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

from harness.images import Pushed, init_layout, layout_descriptor, push, read_blob


def diff_id(tar: bytes) -> str:
    """The diff_id of an uncompressed layer tar."""
    return "sha256:" + hashlib.sha256(tar).hexdigest()


def _umoci(*args: str) -> None:
    result = subprocess.run(["umoci", *args], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"umoci {' '.join(args)} failed:\n{result.stderr}")


def _write(layout: Path, data: bytes) -> str:
    digest = hashlib.sha256(data).hexdigest()
    (layout / "blobs" / "sha256" / digest).write_bytes(data)
    return f"sha256:{digest}"


def build_forged(layout: Path, tag: str, tars: Sequence[bytes], claims: Sequence[str | None]) -> str:
    """Build ``layout:tag`` from raw tars; a non-None claim replaces that layer's diff_id. Returns the digest."""
    init_layout(layout)
    image = f"{layout}:{tag}"
    _umoci("new", "--image", image)
    with tempfile.TemporaryDirectory(prefix="iw-forge-") as scratch:
        for number, data in enumerate(tars):
            path = Path(scratch) / f"layer{number}.tar"
            path.write_bytes(data)
            _umoci("raw", "add-layer", "--image", image, str(path))
    _umoci("config", "--image", image, "--os", "linux", "--architecture", "amd64")
    top = layout_descriptor(layout, tag)
    manifest = json.loads(read_blob(layout, top["digest"]))
    config = json.loads(read_blob(layout, manifest["config"]["digest"]))
    config["rootfs"]["diff_ids"] = [claim or real for claim, real in zip(claims, config["rootfs"]["diff_ids"])]
    config_data = json.dumps(config).encode()
    manifest["config"] = {**manifest["config"], "digest": _write(layout, config_data), "size": len(config_data)}
    manifest_data = json.dumps(manifest).encode()
    digest = _write(layout, manifest_data)
    index_path = layout / "index.json"
    index = json.loads(index_path.read_text())
    for entry in index["manifests"]:
        if entry.get("annotations", {}).get("org.opencontainers.image.ref.name") == tag:
            entry.update(digest=digest, size=len(manifest_data))
    index_path.write_text(json.dumps(index))
    return digest


def push_forged(registry: str, repository: str, tag: str, tars: Sequence[bytes],
                claims: Sequence[str | None]) -> Pushed:
    """Build a forged image in a scratch layout and push it as ``registry/repository:tag``."""
    with tempfile.TemporaryDirectory(prefix="iw-forged-") as scratch:
        layout = Path(scratch) / "layout"
        build_forged(layout, tag, tars, claims)
        return push(layout, tag, f"{registry}/{repository}:{tag}")
