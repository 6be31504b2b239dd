"""The test image for ``imagewatch scan`` and ways to hand it over: OCI layout, docker archive, registry.

The image: Alpine 3.19 (os-release and an apk database with libssl3 3.1.4-r0,
vulnerable per the v3.19 secdb excerpt), urllib3 1.24.1 (vulnerable per the
PYSEC excerpts), a package with an advisory that has no fix yet, a planted
GitHub token assembled at run time, and no USER (runs as root).
"""

from __future__ import annotations

import gzip
import io
import json
import random
import string
import tarfile
from pathlib import Path

from harness.images import ImageSpec, build_image, layout_descriptor, read_blob

ADVISORY_DATA = Path(__file__).resolve().parents[1] / "advisories" / "data"
URLLIB3 = ADVISORY_DATA / "osv-yaml" / "urllib3"
SECDB_319 = ADVISORY_DATA / "secdb" / "v3.19" / "main.json"
SITE = "usr/lib/python3.11/site-packages"
TAG = "app"
UNFIXED_ID = "IW-TEST-2024-0001"

APK_DB = """C:Q1fakefakefakefakefakefakefakefake=
P:libssl3
V:3.1.4-r0
A:x86_64
o:openssl
L:Apache-2.0

"""


def github_token() -> str:
    """A well-formed GitHub token, made from parts so that none sits in the repository."""
    rnd = random.Random(7)
    return "gh" + "p_" + "".join(rnd.choice(string.ascii_letters + string.digits) for _ in range(36))


def _metadata(name: str, version: str) -> bytes:
    return f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n\n".encode()


def image_spec() -> ImageSpec:
    """The test image: base layer with the OS, app layer with Python packages and a secret."""
    base = {"etc/os-release": b'ID=alpine\nVERSION_ID=3.19.1\nPRETTY_NAME="Alpine Linux v3.19"\n',
            "lib/apk/db/installed": APK_DB.encode()}
    app = {f"{SITE}/urllib3-1.24.1.dist-info/METADATA": _metadata("urllib3", "1.24.1"),
           f"{SITE}/iwtestpkg-1.0.0.dist-info/METADATA": _metadata("iwtestpkg", "1.0.0"),
           "app/deploy.sh": f"#!/bin/sh\nexport GITHUB_TOKEN={github_token()}\n"}
    return ImageSpec(layers=[base, app], cmd=["/bin/sh"])


def unfixed_advisory(directory: Path) -> Path:
    """An OSV advisory (no fixed version yet) for the image's ``iwtestpkg``, written to ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    doc = {"id": UNFIXED_ID, "modified": "2024-01-01T00:00:00Z", "summary": "iwtestpkg test flaw, no fix yet",
           "affected": [{"package": {"ecosystem": "PyPI", "name": "iwtestpkg"},
                         "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}]}]}],
           "database_specific": {"severity": "LOW"}}
    (directory / f"{UNFIXED_ID}.json").write_text(json.dumps(doc))
    return directory


def build_layout(layout: Path) -> Path:
    """Build the test image as ``layout:app``."""
    build_image(layout, TAG, image_spec())
    return layout


def write_docker_archive(layout: Path, out: Path, repo_tag: str = "test/app:1") -> Path:
    """A ``docker save``-style tar of ``layout:app``: manifest.json, config, uncompressed layer tars."""
    manifest = json.loads(read_blob(layout, layout_descriptor(layout, TAG)["digest"]))
    config = read_blob(layout, manifest["config"]["digest"])
    config_name = manifest["config"]["digest"].split(":", 1)[1] + ".json"
    diff_ids = json.loads(config)["rootfs"]["diff_ids"]
    entries: dict[str, bytes] = {config_name: config}
    layers = []
    for layer, diff_id in zip(manifest["layers"], diff_ids):
        name = f"{diff_id.split(':', 1)[1]}/layer.tar"
        entries[name] = gzip.decompress(read_blob(layout, layer["digest"]))
        layers.append(name)
    entries["manifest.json"] = json.dumps([{"Config": config_name, "RepoTags": [repo_tag],
                                            "Layers": layers}]).encode()
    with tarfile.open(out, "w") as tar:
        for name, data in entries.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return out
