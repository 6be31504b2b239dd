"""Test images with a config the harness cannot set (history, healthcheck): build, then patch.

``build_patched`` builds an ``ImageSpec`` with ``harness.images.build_image``
and rewrites the config blob with ``patch(config)``, then the manifest and the
layout's tag, so ``harness.images.push`` copies the patched image.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from collections.abc import Callable
from pathlib import Path

from harness.images import ImageSpec, Pushed, build_image, layout_descriptor, push, read_blob

REF_NAME = "org.opencontainers.image.ref.name"


def _write(layout: Path, data: bytes) -> str:
    hexpart = hashlib.sha256(data).hexdigest()
    (layout / "blobs" / "sha256" / hexpart).write_bytes(data)
    return f"sha256:{hexpart}"


def build_patched(layout: Path, tag: str, spec: ImageSpec, patch: Callable[[dict], None]) -> str:
    """Build ``spec`` as ``layout:tag`` with ``patch`` applied to its config; return the manifest digest."""
    build_image(layout, tag, spec)
    descriptor = layout_descriptor(layout, tag)
    manifest = json.loads(read_blob(layout, descriptor["digest"]))
    config = json.loads(read_blob(layout, manifest["config"]["digest"]))
    patch(config)
    data = json.dumps(config).encode()
    manifest["config"] = {**manifest["config"], "digest": _write(layout, data), "size": len(data)}
    mdata = json.dumps(manifest).encode()
    digest = _write(layout, mdata)
    index_path = layout / "index.json"
    index = json.loads(index_path.read_text())
    for entry in index["manifests"]:
        if entry.get("annotations", {}).get(REF_NAME) == tag:
            entry["digest"], entry["size"] = digest, len(mdata)
    index_path.write_text(json.dumps(index))
    return digest


def push_patched(registry: str, repository: str, tag: str, spec: ImageSpec,
                 patch: Callable[[dict], None]) -> Pushed:
    """Build with ``build_patched`` in a scratch layout and push as ``registry/repository:tag``."""
    with tempfile.TemporaryDirectory(prefix="iw-secrets-image-") as scratch:
        layout = Path(scratch) / "layout"
        build_patched(layout, tag, spec, patch)
        return push(layout, tag, f"{registry}/{repository}:{tag}")
