"""The database file as an OCI artifact: push it to a repository, pull it when the registry has a newer one.

The artifact is an OCI image manifest with ``artifactType`` ``ARTIFACT_TYPE``,
a config blob (``CONFIG_MEDIA_TYPE``: the file's metadata plus its
uncompressed size) and one layer, the file compressed with zstd
(``LAYER_MEDIA_TYPE``). Pulling resolves the tag to a manifest digest and
downloads only when that digest differs from the one the cache holds; every
blob is verified against its digest, the decompressed size is bounded by what
the config declares, and the file is opened (content digest checked) before
it replaces the cached one.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import msgspec
import zstandard

from imagewatch.oci import Reference
from imagewatch.oci.mediatypes import OCI_MANIFEST
from imagewatch.store.dbfile import FILE_NAME, SCHEMA_VERSION, DbFile, DbFileError, DbMeta

ARTIFACT_TYPE = "application/vnd.imagewatch.db.v1"
CONFIG_MEDIA_TYPE = "application/vnd.imagewatch.db.config.v1+json"
LAYER_MEDIA_TYPE = "application/vnd.imagewatch.db.layer.v1.sqlite+zstd"
MAX_DB_BYTES = 16 << 30  # refuse to decompress past this whatever the config says
_STATE = "metadata.json"


class ArtifactConfig(msgspec.Struct, kw_only=True):
    """The config blob: the database's metadata and its size uncompressed."""

    meta: DbMeta
    size: int


class CachedDb(msgspec.Struct, kw_only=True):
    """What the cache dir remembers of the database it holds (``db/metadata.json``)."""

    repository: str
    manifest_digest: str
    layer_digest: str
    built_at: str


def db_dir(cache_dir: Path) -> Path:
    """Where the pulled database lives in a cache dir."""
    return cache_dir / "db"


async def push_db(client: Any, ref: Reference | str, path: Path, level: int = 10) -> str:
    """Publish the database file ``path`` at ``ref``; returns the manifest digest."""
    ref = ref if isinstance(ref, Reference) else Reference.parse(str(ref))
    with DbFile.open(path) as db:
        meta = db.meta
    raw = Path(path).read_bytes()
    layer = zstandard.ZstdCompressor(level=level, write_content_size=True).compress(raw)
    config = msgspec.json.encode(ArtifactConfig(meta=meta, size=len(raw)))
    layer_digest = await client.push_blob(ref, layer)
    config_digest = await client.push_blob(ref, config)
    manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "artifactType": ARTIFACT_TYPE,
        "config": {"mediaType": CONFIG_MEDIA_TYPE, "digest": config_digest, "size": len(config)},
        "layers": [{"mediaType": LAYER_MEDIA_TYPE, "digest": layer_digest, "size": len(layer),
                    "annotations": {"org.opencontainers.image.title": FILE_NAME}}],
        "annotations": {"org.opencontainers.image.created": meta.built_at,
                        "dev.imagewatch.db.schema": str(meta.schema_version),
                        "dev.imagewatch.db.content-sha256": meta.content_sha256},
    }
    return await client.push_manifest(ref, json.dumps(manifest, separators=(",", ":")).encode(), OCI_MANIFEST)


def cached_state(cache_dir: Path) -> CachedDb | None:
    """What the cache holds, or None when it holds no pulled database."""
    try:
        state = msgspec.json.decode((db_dir(cache_dir) / _STATE).read_bytes(), type=CachedDb)
    except (OSError, msgspec.DecodeError, msgspec.ValidationError):
        return None
    return state if (db_dir(cache_dir) / FILE_NAME).is_file() else None


def _layer(doc: dict, where: str) -> dict:
    kind = doc.get("artifactType") or (doc.get("config") or {}).get("mediaType")
    if kind not in (ARTIFACT_TYPE, CONFIG_MEDIA_TYPE):
        raise DbFileError(f"dbfile: {where} is not an imagewatch database (artifact type {kind!r})")
    layers = [d for d in doc.get("layers") or [] if d.get("mediaType") == LAYER_MEDIA_TYPE]
    if len(layers) != 1:
        raise DbFileError(f"dbfile: {where} holds {len(layers)} database layers, expected 1")
    return layers[0]


async def pull_db(client: Any, ref: Reference | str, cache_dir: Path) -> tuple[Path, bool]:
    """The database at ``ref`` in ``cache_dir/db``, downloaded only when the registry's digest differs.

    Returns (path of the file, whether it was downloaded). Raises
    ``RegistryError`` or ``DbFileError``; the cached file is replaced only by
    a complete, verified one.
    """
    ref = ref if isinstance(ref, Reference) else Reference.parse(str(ref))
    where = str(ref)
    fetched = await client.get_manifest(ref)
    target = db_dir(cache_dir) / FILE_NAME
    state = cached_state(cache_dir)
    if state is not None and state.manifest_digest == fetched.digest:
        return target, False
    try:
        doc = json.loads(fetched.data)
    except ValueError:
        raise DbFileError(f"dbfile: {where}: manifest is not JSON") from None
    layer = _layer(doc, where)
    config_desc = doc.get("config") or {}
    config = msgspec.json.decode(await client.get_blob_bytes(ref, config_desc["digest"],
                                                             size=config_desc.get("size")),
                                 type=ArtifactConfig)
    if config.meta.schema_version != SCHEMA_VERSION:
        raise DbFileError(f"dbfile: {where} has schema version {config.meta.schema_version}, this imagewatch "
                          f"reads {SCHEMA_VERSION}: use a matching imagewatch or push a database it can read")
    if not 0 < config.size <= MAX_DB_BYTES:
        raise DbFileError(f"dbfile: {where} declares a database of {config.size} bytes (limit {MAX_DB_BYTES})")
    db_dir(cache_dir).mkdir(parents=True, exist_ok=True)
    compressed = db_dir(cache_dir) / "download.zst"
    partial = db_dir(cache_dir) / f"{FILE_NAME}.part"
    try:
        await client.get_blob(ref, layer["digest"], compressed, size=layer.get("size"))
        _decompress(compressed, partial, config.size, where)
        DbFile.open(partial).close()
        os.replace(partial, target)
    finally:
        compressed.unlink(missing_ok=True)
        partial.unlink(missing_ok=True)
    state = CachedDb(repository=where, manifest_digest=fetched.digest, layer_digest=layer["digest"],
                     built_at=config.meta.built_at)
    tmp_state = db_dir(cache_dir) / f"{_STATE}.part"
    tmp_state.write_bytes(msgspec.json.encode(state))
    os.replace(tmp_state, db_dir(cache_dir) / _STATE)
    return target, True


def _decompress(source: Path, target: Path, size: int, where: str) -> None:
    written = 0
    with open(source, "rb") as fin, open(target, "wb") as fout:
        reader = zstandard.ZstdDecompressor().stream_reader(fin)
        try:
            while chunk := reader.read(1 << 20):
                written += len(chunk)
                if written > size:
                    raise DbFileError(f"dbfile: {where}: the layer decompresses past the {size} bytes declared")
                fout.write(chunk)
        except zstandard.ZstdError as exc:
            raise DbFileError(f"dbfile: {where}: the layer is not valid zstd ({exc})") from None
    if written != size:
        raise DbFileError(f"dbfile: {where}: the layer decompresses to {written} bytes, {size} declared")

