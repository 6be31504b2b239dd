"""Tiny OCI images for tests: built with ``umoci``, pushed with ``skopeo``.

An image is a list of layers; a layer maps an absolute path to its content::

    ImageSpec(layers=[
        {"/etc/os-release": b"ID=alpine\\n", "/bin/tool": (b"#!/bin/sh\\n", 0o755)},
        {"/etc/os-release": None},              # None deletes: a whiteout
        {"/usr/lib/os-release": Symlink("../../etc/os-release")},
    ], env={"PATH": "/bin"}, cmd=["/bin/tool"], user="1000", exposed_ports=["8080/tcp"])

Layers are written as tar files here (fixed mtimes and owners) and added with
``umoci raw add-layer``; ``umoci config`` sets the runtime config. None of the
umoci commands used unpacks a rootfs, so they work as root and rootless alike.
All helpers are plain blocking functions: async tests call them through
``asyncio.to_thread``.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
REF_NAME = "org.opencontainers.image.ref.name"


@dataclass(frozen=True)
class Symlink:
    """A symbolic link to ``target`` in a layer."""

    target: str


FileSpec = bytes | str | tuple[bytes | str, int] | Symlink | None
Layer = Mapping[str, FileSpec]


@dataclass
class ImageSpec:
    """What to build: layers (base first), runtime config and platform."""

    layers: Sequence[Layer] = ()
    user: str = ""
    env: Mapping[str, str] = field(default_factory=dict)
    cmd: Sequence[str] = ()
    entrypoint: Sequence[str] = ()
    exposed_ports: Sequence[str] = ()
    labels: Mapping[str, str] = field(default_factory=dict)
    workdir: str = ""
    os: str = "linux"
    architecture: str = "amd64"


@dataclass(frozen=True)
class Pushed:
    """An image in a registry: ``reference`` (``host/repo:tag``) and manifest/index ``digest``."""

    reference: str
    digest: str


def _run(*args: str, env: Mapping[str, str] | None = None) -> str:
    result = subprocess.run(args, capture_output=True, text=True, env=env, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed ({result.returncode}):\n{result.stderr}{result.stdout}")
    return result.stdout


def layer_tar(files: Layer) -> bytes:
    """An uncompressed, reproducible layer tar; parent directories are added, None whites out."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
        seen: set[str] = set()
        for path in sorted(files):
            name = path.strip("/")
            parts = name.split("/")
            for i in range(1, len(parts)):
                parent = "/".join(parts[:i])
                if parent not in seen:
                    seen.add(parent)
                    tar.addfile(_info(parent + "/", tarfile.DIRTYPE, 0o755))
            spec = files[path]
            if spec is None:
                parts[-1] = ".wh." + parts[-1]
                tar.addfile(_info("/".join(parts), tarfile.REGTYPE, 0o644), io.BytesIO(b""))
            elif isinstance(spec, Symlink):
                info = _info(name, tarfile.SYMTYPE, 0o777)
                info.linkname = spec.target
                tar.addfile(info)
            else:
                content, mode = spec if isinstance(spec, tuple) else (spec, 0o644)
                data = content.encode() if isinstance(content, str) else content
                info = _info(name, tarfile.REGTYPE, mode)
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


def _info(name: str, kind: bytes, mode: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.mode, info.mtime = kind, mode, 1_700_000_000
    info.uid = info.gid = 0
    info.uname = info.gname = "root"
    return info


def init_layout(layout: Path) -> Path:
    """Create an empty OCI layout at ``layout`` unless one is there already."""
    if not (layout / "oci-layout").exists():
        layout.parent.mkdir(parents=True, exist_ok=True)
        _run("umoci", "init", "--layout", str(layout))
    return layout


def build_image(layout: Path, tag: str, spec: ImageSpec) -> str:
    """Build ``spec`` as ``layout:tag``; return its manifest digest in the layout."""
    init_layout(layout)
    image = f"{layout}:{tag}"
    _run("umoci", "new", "--image", image)
    with tempfile.TemporaryDirectory(prefix="iw-layer-") as scratch:
        for number, files in enumerate(spec.layers):
            tar_path = Path(scratch) / f"layer{number}.tar"
            tar_path.write_bytes(layer_tar(files))
            _run("umoci", "raw", "add-layer", "--image", image,
                 "--history.created_by", f"test layer {number}", str(tar_path))
    args = ["umoci", "config", "--image", image, "--os", spec.os, "--architecture", spec.architecture]
    if spec.user:
        args += ["--config.user", spec.user]
    for key, value in spec.env.items():
        args += ["--config.env", f"{key}={value}"]
    for item in spec.cmd:
        args += ["--config.cmd", item]
    for item in spec.entrypoint:
        args += ["--config.entrypoint", item]
    for port in spec.exposed_ports:
        args += ["--config.exposedports", port]
    for key, value in spec.labels.items():
        args += ["--config.label", f"{key}={value}"]
    if spec.workdir:
        args += ["--config.workingdir", spec.workdir]
    _run(*args)
    return layout_descriptor(layout, tag)["digest"]


def layout_descriptor(layout: Path, tag: str) -> dict:
    """The descriptor ``tag`` names in the layout's ``index.json``."""
    index = json.loads((layout / "index.json").read_text())
    for entry in index["manifests"]:
        if entry.get("annotations", {}).get(REF_NAME) == tag:
            return entry
    raise KeyError(f"tag {tag!r} not in {layout}")


def read_blob(layout: Path, digest: str) -> bytes:
    """A blob of the layout by digest."""
    algorithm, _, hexpart = digest.partition(":")
    return (layout / "blobs" / algorithm / hexpart).read_bytes()


def _write_blob(layout: Path, data: bytes) -> str:
    hexpart = hashlib.sha256(data).hexdigest()
    (layout / "blobs" / "sha256" / hexpart).write_bytes(data)
    return f"sha256:{hexpart}"


def _set_tag(layout: Path, tag: str, descriptor: dict) -> None:
    path = layout / "index.json"
    index = json.loads(path.read_text())
    index["manifests"] = [e for e in index["manifests"] if e.get("annotations", {}).get(REF_NAME) != tag]
    index["manifests"].append({**descriptor, "annotations": {REF_NAME: tag}})
    path.write_text(json.dumps(index))


def build_index(
    layout: Path, tag: str, platforms: Mapping[str, ImageSpec], *, attestation: bool = False
) -> str:
    """Build one image per ``os/arch[/variant]`` and an OCI index over them as ``layout:tag``.

    With ``attestation`` the index also lists a BuildKit-style attestation
    manifest (platform ``unknown/unknown``). Returns the index digest.
    """
    entries = []
    for platform, spec in platforms.items():
        os_name, arch, *variant = platform.split("/")
        sub_tag = f"{tag}-{platform.replace('/', '-')}"
        build_image(layout, sub_tag, ImageSpec(**{**spec.__dict__, "os": os_name, "architecture": arch}))
        entry = {k: v for k, v in layout_descriptor(layout, sub_tag).items() if k != "annotations"}
        entry["platform"] = {"os": os_name, "architecture": arch, **({"variant": variant[0]} if variant else {})}
        entries.append(entry)
    if attestation:
        subject = entries[0]["digest"]
        build_image(layout, f"{tag}-attestation", ImageSpec(
            layers=[{"/provenance.json": json.dumps({"subject": subject})}], os="unknown", architecture="unknown",
        ))
        entry = {k: v for k, v in layout_descriptor(layout, f"{tag}-attestation").items() if k != "annotations"}
        entry["platform"] = {"os": "unknown", "architecture": "unknown"}
        entry["annotations"] = {"vnd.docker.reference.type": "attestation-manifest",
                                "vnd.docker.reference.digest": subject}
        entries.append(entry)
    data = json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": entries}).encode()
    digest = _write_blob(layout, data)
    _set_tag(layout, tag, {"mediaType": OCI_INDEX, "digest": digest, "size": len(data)})
    return digest


def push(
    layout: Path, tag: str, destination: str, *,
    docker_v2: bool = False, all_platforms: bool = False, creds: tuple[str, str] | None = None,
) -> Pushed:
    """``skopeo copy`` ``layout:tag`` to ``destination`` (``host:port/repo:tag``) over plain HTTP.

    ``docker_v2`` converts to Docker v2 schema 2; ``all_platforms`` copies an
    index with every image it lists. Returns the digest the registry holds.
    """
    with tempfile.TemporaryDirectory(prefix="iw-skopeo-") as scratch:
        digest_file = Path(scratch) / "digest"
        auth_file = Path(scratch) / "auth.json"
        auth_file.write_text('{"auths": {}}')
        args = ["skopeo", "--insecure-policy", "copy", "--quiet", "--dest-tls-verify=false",
                "--authfile", str(auth_file), "--digestfile", str(digest_file)]
        if docker_v2:
            args += ["--format", "v2s2"]
        if all_platforms:
            args += ["--all"]
        if creds:
            args += ["--dest-creds", f"{creds[0]}:{creds[1]}"]
        env = {**os.environ, "REGISTRY_AUTH_FILE": str(auth_file)}
        _run(*args, f"oci:{layout}:{tag}", f"docker://{destination}", env=env)
        return Pushed(destination, digest_file.read_text().strip())


def push_image(
    registry: str, repository: str, tag: str, spec: ImageSpec, *,
    docker_v2: bool = False, creds: tuple[str, str] | None = None,
) -> Pushed:
    """Build ``spec`` in a scratch layout and push it as ``registry/repository:tag``."""
    with tempfile.TemporaryDirectory(prefix="iw-image-") as scratch:
        layout = Path(scratch) / "layout"
        build_image(layout, tag, spec)
        return push(layout, tag, f"{registry}/{repository}:{tag}", docker_v2=docker_v2, creds=creds)


def push_index(
    registry: str, repository: str, tag: str, platforms: Mapping[str, ImageSpec], *,
    attestation: bool = False, creds: tuple[str, str] | None = None,
) -> Pushed:
    """Build a multi-platform OCI index in a scratch layout and push it with every image."""
    with tempfile.TemporaryDirectory(prefix="iw-index-") as scratch:
        layout = Path(scratch) / "layout"
        build_index(layout, tag, platforms, attestation=attestation)
        return push(layout, tag, f"{registry}/{repository}:{tag}", all_platforms=True, creds=creds)


def tools_missing() -> list[str]:
    """Which of docker-registry, skopeo and umoci are not on PATH."""
    return [tool for tool in ("docker-registry", "skopeo", "umoci") if shutil.which(tool) is None]
