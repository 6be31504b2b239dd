"""Image config (the JSON blob a manifest points at) and the layers it implies."""

from __future__ import annotations

import msgspec

from imagewatch.models import LayerRef
from imagewatch.oci.errors import InvalidManifest
from imagewatch.oci.manifest import ImageManifest


class ContainerConfig(msgspec.Struct, kw_only=True, omit_defaults=True):
    """The runtime part of an image config (User, Env, Cmd ...)."""

    User: str = ""
    Env: list[str] | None = None
    Cmd: list[str] | None = None
    Entrypoint: list[str] | None = None
    WorkingDir: str = ""
    ExposedPorts: dict[str, dict] | None = None
    Volumes: dict[str, dict] | None = None
    Labels: dict[str, str] | None = None
    StopSignal: str = ""


class RootFS(msgspec.Struct, kw_only=True):
    """``rootfs``: the uncompressed digests (diff_ids) of the layers, base first."""

    type: str = "layers"
    diff_ids: list[str] = []


class HistoryEntry(msgspec.Struct, kw_only=True, omit_defaults=True):
    """One step of the image build; ``empty_layer`` steps have no layer."""

    created: str = ""
    created_by: str = ""
    comment: str = ""
    empty_layer: bool = False


class ImageConfig(msgspec.Struct, kw_only=True, omit_defaults=True):
    """An OCI / Docker image config."""

    architecture: str = ""
    os: str = ""
    variant: str = ""
    created: str = ""
    config: ContainerConfig = msgspec.field(default_factory=ContainerConfig)
    rootfs: RootFS = msgspec.field(default_factory=RootFS)
    history: list[HistoryEntry] = []

    @property
    def platform(self) -> str:
        """``os/arch[/variant]`` as written in the config."""
        return "/".join(p for p in (self.os, self.architecture, self.variant) if p)


_CONFIG = msgspec.json.Decoder(ImageConfig)


def parse_config(data: bytes) -> ImageConfig:
    """Decode an image config blob."""
    try:
        return _CONFIG.decode(data)
    except msgspec.DecodeError as exc:
        raise InvalidManifest(f"malformed image config: {exc}") from None


def image_layers(manifest: ImageManifest, config: ImageConfig) -> list[LayerRef]:
    """Pair each manifest layer with its diff_id; the counts must agree."""
    diff_ids = config.rootfs.diff_ids
    if len(diff_ids) != len(manifest.layers):
        raise InvalidManifest(
            f"manifest lists {len(manifest.layers)} layers but the config has {len(diff_ids)} diff_ids"
        )
    return [
        LayerRef(digest=layer.digest, diff_id=diff_id, size=layer.size, media_type=layer.mediaType)
        for layer, diff_id in zip(manifest.layers, diff_ids, strict=True)
    ]
