"""Images that are not in a registry: OCI image layouts and ``docker save`` archives.

``imagewatch scan oci:DIR[:tag]`` and ``docker-archive:FILE`` read the image
from disk; every manifest, config and layer is verified against its digest
the same way registry content is.
"""

from __future__ import annotations

import hashlib
import json
import tarfile
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from .models import LayerRef
from .registry.image import ImageConfig, parse_config
from .registry.manifest import ImageIndex, ImageManifest, parse_manifest
from .registry.platforms import select_platforms

REF_NAME = "org.opencontainers.image.ref.name"
DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar"


class LocalImageError(Exception):
    """localimage: the layout or archive cannot be read; the message says why."""


@dataclass
class LocalImage:
    """One platform image on disk: config, layers (bottom to top) and where their blobs are."""

    reference: str
    digest: str
    media_type: str
    platform: str
    config: ImageConfig
    config_data: bytes
    layers: list[LayerRef]
    blob_paths: dict[str, Path]
    cleanup: tempfile.TemporaryDirectory | None = field(default=None, repr=False)

    def close(self) -> None:
        """Remove any temporary extraction."""
        if self.cleanup is not None:
            self.cleanup.cleanup()


def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return "sha256:" + h.hexdigest()


def _blob(root: Path, digest: str) -> Path:
    algo, _, hexpart = digest.partition(":")
    path = root / "blobs" / algo / hexpart
    if not path.is_file():
        raise LocalImageError(f"localimage: blob {digest} missing from {root}")
    return path


def _verified(root: Path, digest: str) -> bytes:
    data = _blob(root, digest).read_bytes()
    if "sha256:" + hashlib.sha256(data).hexdigest() != digest:
        raise LocalImageError(f"localimage: blob {digest} does not match its digest")
    return data


def open_oci_layout(spec: str, platforms: list[str] | None = None) -> list[LocalImage]:
    """Images of ``DIR[:tag]`` (an OCI image layout), one per selected platform."""
    directory, _, tag = spec.partition(":")
    root = Path(directory)
    try:
        index = json.loads((root / "index.json").read_text())
    except (OSError, ValueError) as exc:
        raise LocalImageError(f"localimage: {root} is not an OCI image layout: {exc}") from None
    entries = index.get("manifests") or []
    if tag:
        entries = [e for e in entries if (e.get("annotations") or {}).get(REF_NAME) == tag]
        if not entries:
            raise LocalImageError(f"localimage: no manifest tagged {tag!r} in {root}")
    elif len(entries) != 1:
        raise LocalImageError(f"localimage: {root} holds {len(entries)} manifests; name one as oci:DIR:tag")
    top = entries[0]
    data = _verified(root, top["digest"])
    doc = parse_manifest(data, top.get("mediaType", ""))
    chosen: list[tuple[str, str, ImageManifest, str]] = []
    if isinstance(doc, ImageIndex):
        selection = "all" if platforms == ["all"] else (platforms or None)
        for entry in select_platforms(doc, selection):
            child = _verified(root, entry.digest)
            manifest = parse_manifest(child, entry.mediaType)
            if isinstance(manifest, ImageIndex):
                raise LocalImageError("localimage: nested indexes are not supported")
            chosen.append((entry.digest, entry.mediaType, manifest, str(entry.platform or "")))
    else:
        chosen.append((top["digest"], top.get("mediaType", ""), doc, ""))
    images = []
    for digest, media_type, manifest, platform in chosen:
        config_data = _verified(root, manifest.config.digest)
        config = parse_config(config_data)
        diff_ids = config.rootfs.diff_ids
        if len(diff_ids) != len(manifest.layers):
            raise LocalImageError(f"localimage: {digest}: {len(manifest.layers)} layers but "
                                  f"{len(diff_ids)} diff_ids in the config")
        layers = [LayerRef(digest=d.digest, diff_id=diff_ids[i], size=d.size, media_type=d.mediaType)
                  for i, d in enumerate(manifest.layers)]
        paths = {layer.digest: _blob(root, layer.digest) for layer in layers}
        images.append(LocalImage(reference=f"oci:{spec}", digest=digest, media_type=media_type,
                                 platform=platform or config.platform, config=config,
                                 config_data=config_data, layers=layers, blob_paths=paths))
    return images


def _safe_extract(archive: Path, dest: Path) -> None:
    with tarfile.open(archive) as tar:
        tar.extractall(dest, filter="data")


def open_docker_archive(path: str) -> list[LocalImage]:
    """The image(s) of a ``docker save`` archive (its ``manifest.json``)."""
    archive = Path(path)
    if not archive.is_file():
        raise LocalImageError(f"localimage: {archive} not found")
    scratch = tempfile.TemporaryDirectory(prefix="iw-archive-")
    root = Path(scratch.name)
    try:
        _safe_extract(archive, root)
        manifest = json.loads((root / "manifest.json").read_text())
    except (OSError, ValueError, tarfile.TarError) as exc:
        scratch.cleanup()
        raise LocalImageError(f"localimage: {archive} is not a docker save archive: {exc}") from None
    images = []
    for item in manifest:
        config_path = root / item["Config"]
        config_data = config_path.read_bytes()
        config = parse_config(config_data)
        config_digest = "sha256:" + hashlib.sha256(config_data).hexdigest()
        diff_ids = config.rootfs.diff_ids
        layers, paths = [], {}
        for i, rel in enumerate(item.get("Layers") or []):
            layer_path = root / rel
            digest = _sha256_file(layer_path)
            if i < len(diff_ids) and diff_ids[i] != digest:
                media = "application/octet-stream"  # compressed layer: diff_id comes from the config
            else:
                media = DOCKER_LAYER
            diff_id = diff_ids[i] if i < len(diff_ids) else digest
            layers.append(LayerRef(digest=digest, diff_id=diff_id, size=layer_path.stat().st_size,
                                   media_type=media))
            paths[digest] = layer_path
        tags = item.get("RepoTags") or []
        images.append(LocalImage(reference=tags[0] if tags else f"docker-archive:{path}",
                                 digest=config_digest, media_type="application/vnd.docker.distribution.manifest.v2+json",
                                 platform=config.platform, config=config, config_data=config_data,
                                 layers=layers, blob_paths=paths, cleanup=scratch))
    return images
