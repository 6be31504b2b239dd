"""Images that are not in a registry: OCI image layouts and ``docker save`` archives.

``imagewatch scan oci:DIR[:tag]`` and ``docker-archive:FILE`` read the image
from disk. Manifests and configs are verified against their digests when
opened; a layer blob is verified when it is first asked for
(``LocalImage.layer_path``), so layers whose results are cached are never read.
"""

from __future__ import annotations

import hashlib
import json
import re
import tarfile
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from imagewatch.models import LayerRef
from imagewatch.oci import RegistryError
from imagewatch.oci.image import ImageConfig, parse_config
from imagewatch.oci.manifest import ImageIndex, ImageManifest, parse_manifest, sniff_media_type
from imagewatch.oci.platforms import select_platforms
from imagewatch.errors import ImagewatchError

REF_NAME = "org.opencontainers.image.ref.name"
DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
_COMPRESSED_MAGIC = (b"\x1f\x8b", b"\x28\xb5\x2f\xfd")  # gzip, zstd
MAX_ARCHIVE_BYTES = 64 * 1024**3  # what a docker-archive may extract to on disk
MAX_ARCHIVE_MEMBERS = 100_000


class LocalImageError(ImagewatchError):
    """localimage: the layout or archive cannot be read; the message says why."""


@dataclass
class LocalImage:
    """One platform image on disk: config, layers (bottom to top) and where their blobs are.

    ``digest`` is the manifest digest (OCI layout) or the config digest, Docker's
    image id (docker archive). ``blob_paths`` maps layer digests to files.
    """

    reference: str
    digest: str
    media_type: str
    platform: str
    config: ImageConfig
    config_data: bytes
    layers: list[LayerRef]
    blob_paths: dict[str, Path]
    verified: set[str] = field(default_factory=set)
    cleanup: tempfile.TemporaryDirectory | None = field(default=None, repr=False)

    def layer_path(self, layer: LayerRef) -> Path:
        """The blob of ``layer``, checked against its digest on first use (blocking: hashes the file)."""
        path = self.blob_paths[layer.digest]
        if layer.digest not in self.verified:
            if _sha256_file(path) != layer.digest:
                raise LocalImageError(f"localimage: layer {layer.digest} does not match its digest ({path})")
            self.verified.add(layer.digest)
        return path

    def close(self) -> None:
        """Remove any temporary extraction."""
        if self.cleanup is not None:
            self.cleanup.cleanup()
            self.cleanup = None


def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return "sha256:" + h.hexdigest()


def _blob(root: Path, digest: str) -> Path:
    if not _DIGEST.fullmatch(digest or ""):
        raise LocalImageError(f"localimage: unsupported or malformed digest {digest!r} in {root}")
    path = root / "blobs" / "sha256" / digest.removeprefix("sha256:")
    if not path.is_file():
        raise LocalImageError(f"localimage: blob {digest} missing from {root}")
    return path


def _verified(root: Path, digest: str) -> bytes:
    data = _blob(root, digest).read_bytes()
    if "sha256:" + hashlib.sha256(data).hexdigest() != digest:
        raise LocalImageError(f"localimage: blob {digest} does not match its digest")
    return data


def split_layout_spec(spec: str) -> tuple[Path, str]:
    """``DIR[:tag]`` as (directory, tag); a colon that belongs to an existing path is not a tag."""
    if Path(spec).exists():
        return Path(spec), ""
    directory, sep, tag = spec.rpartition(":")
    if not sep or "/" in tag or not directory:
        return Path(spec), ""
    return Path(directory), tag


def _parse(data: bytes, media_type: str) -> ImageManifest | ImageIndex:
    try:
        return parse_manifest(data, media_type or sniff_media_type(data))
    except RegistryError as exc:
        raise LocalImageError(f"localimage: {exc}") from None


def _config(data: bytes, where: str) -> ImageConfig:
    try:
        return parse_config(data)
    except RegistryError as exc:
        raise LocalImageError(f"localimage: {where}: {exc}") from None


def _top_entry(root: Path, tag: str) -> dict:
    try:
        index = json.loads((root / "index.json").read_text())
    except (OSError, ValueError) as exc:
        raise LocalImageError(f"localimage: {root} is not an OCI image layout: {exc}") from None
    entries = index.get("manifests") or [] if isinstance(index, dict) else []
    if tag:
        tagged = [e for e in entries if (e.get("annotations") or {}).get(REF_NAME) == tag]
        if not tagged:
            known = sorted({(e.get("annotations") or {}).get(REF_NAME, "") for e in entries} - {""})
            raise LocalImageError(f"localimage: no manifest tagged {tag!r} in {root}"
                                  + (f" (tags: {', '.join(known)})" if known else ""))
        return tagged[0]
    if len(entries) != 1:
        raise LocalImageError(f"localimage: {root} holds {len(entries)} manifests; name one as oci:DIR:tag")
    return entries[0]


def open_oci_layout(spec: str, platforms: list[str] | None = None) -> list[LocalImage]:
    """Images of ``DIR[:tag]`` (an OCI image layout), one per selected platform.

    ``platforms`` selects from an index like the fetcher does (``["all"]`` for
    every platform); a single image manifest is taken whatever its platform.
    """
    root, tag = split_layout_spec(spec)
    top = _top_entry(root, tag)
    data = _verified(root, top.get("digest", ""))
    doc = _parse(data, top.get("mediaType", ""))
    chosen: list[tuple[str, str, ImageManifest, str]] = []
    if isinstance(doc, ImageIndex):
        selection = "all" if platforms == ["all"] else (platforms or None)
        try:
            entries = select_platforms(doc, selection)
        except RegistryError as exc:
            raise LocalImageError(f"localimage: {root}: {exc}") from None
        for entry in entries:
            manifest = _parse(_verified(root, entry.digest), entry.mediaType)
            if isinstance(manifest, ImageIndex):
                raise LocalImageError("localimage: nested indexes are not supported")
            chosen.append((entry.digest, entry.mediaType, manifest, str(entry.platform or "")))
    else:
        chosen.append((top["digest"], top.get("mediaType", "") or doc.mediaType, doc, ""))
    images = []
    for digest, media_type, manifest, platform in chosen:
        config_data = _verified(root, manifest.config.digest)
        config = _config(config_data, digest)
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


def _inside(root: Path, rel: object) -> Path:
    if not isinstance(rel, str) or not rel:
        raise LocalImageError("localimage: manifest.json names a file with an empty or non-string path")
    path = (root / rel).resolve()
    if not path.is_relative_to(root.resolve()) or not path.is_file():
        raise LocalImageError(f"localimage: {rel} is missing from the archive")
    return path


def _archive_layer(path: Path, diff_id: str) -> tuple[str, str]:
    """(digest, media type) of one archive layer; a plain tar must hash to its diff_id.

    A compressed layer (``docker save | gzip`` does not do that, but hand-made
    archives may) is named by its own digest; its diff_id is the config's.
    """
    with open(path, "rb") as f:
        head = f.read(4)
    digest = _sha256_file(path)
    if head.startswith(_COMPRESSED_MAGIC):
        return digest, "application/octet-stream"
    if digest != diff_id:
        raise LocalImageError(f"localimage: layer {path.name} ({digest}) does not match "
                              f"diff_id {diff_id} of the config")
    return digest, DOCKER_LAYER


def _archive_image(root: Path, item: object, path: str) -> LocalImage:
    if not isinstance(item, dict):
        raise LocalImageError("localimage: manifest.json entries must be objects")
    config_path = _inside(root, item.get("Config"))
    config_data = config_path.read_bytes()
    config_digest = "sha256:" + hashlib.sha256(config_data).hexdigest()
    name = config_path.name.removesuffix(".json")
    if re.fullmatch(r"[0-9a-f]{64}", name) and f"sha256:{name}" != config_digest:
        raise LocalImageError(f"localimage: config {item['Config']} does not match its digest")
    config = _config(config_data, str(item["Config"]))
    diff_ids = config.rootfs.diff_ids
    files = item.get("Layers") or []
    if len(files) != len(diff_ids):
        raise LocalImageError(f"localimage: {len(files)} layers but {len(diff_ids)} diff_ids in the config")
    layers, paths = [], {}
    for rel, diff_id in zip(files, diff_ids):
        layer_path = _inside(root, rel)
        digest, media = _archive_layer(layer_path, diff_id)
        layers.append(LayerRef(digest=digest, diff_id=diff_id, size=layer_path.stat().st_size, media_type=media))
        paths[digest] = layer_path
    tags = item.get("RepoTags") or []
    return LocalImage(reference=tags[0] if tags else f"docker-archive:{path}", digest=config_digest,
                      media_type=DOCKER_MANIFEST, platform=config.platform, config=config,
                      config_data=config_data, layers=layers, blob_paths=paths, verified=set(paths))


def _extract(tar: tarfile.TarFile, root: Path, max_bytes: int, max_members: int) -> None:
    """Extract ``tar`` into ``root``, refusing it before writing when it would exceed the caps.

    Every header is read first (the members' declared sizes are what extraction
    writes); only then is anything extracted.
    """
    members, total = [], 0
    for member in tar:
        members.append(member)
        total += max(member.size, 0)
        if len(members) > max_members:
            raise LocalImageError(f"localimage: the archive holds more than {max_members} entries; refused")
        if total > max_bytes:
            raise LocalImageError(f"localimage: the archive would extract to more than {max_bytes} bytes; "
                                  "refused")
    tar.extractall(root, members=members, filter="data")


def open_docker_archive(path: str, tmp_dir: Path | None = None, *, max_bytes: int = MAX_ARCHIVE_BYTES,
                        max_members: int = MAX_ARCHIVE_MEMBERS) -> list[LocalImage]:
    """The image(s) of a ``docker save`` archive (plain or compressed tar with ``manifest.json``).

    The archive is extracted under ``tmp_dir`` (system temp when None); the
    images share that extraction, which the first ``close()`` removes. An
    archive that would extract to more than ``max_bytes`` or ``max_members``
    entries is refused before anything is written.
    """
    archive = Path(path)
    if not archive.is_file():
        raise LocalImageError(f"localimage: {archive} not found")
    scratch = tempfile.TemporaryDirectory(prefix="iw-archive-", dir=tmp_dir)
    root = Path(scratch.name)
    try:
        with tarfile.open(archive) as tar:
            _extract(tar, root, max_bytes, max_members)
        manifest = json.loads((root / "manifest.json").read_text())
        if not isinstance(manifest, list) or not manifest:
            raise LocalImageError(f"localimage: {archive}: manifest.json lists no image")
        images = [_archive_image(root, item, path) for item in manifest]
    except (OSError, ValueError, tarfile.TarError) as exc:
        scratch.cleanup()
        raise LocalImageError(f"localimage: {archive} is not a docker save archive: {exc}") from None
    except LocalImageError:
        scratch.cleanup()
        raise
    for image in images:
        image.cleanup = scratch
    return images
