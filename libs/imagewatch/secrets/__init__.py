"""Secret and misconfiguration scanning of one image: its layers and its config.

Shared by the secrets service (PostgreSQL cache, blob store) and the one-shot
``imagewatch scan`` (directory cache, local blobs)::

    scanners = ThreadScanners(key, max_file_bytes=10 << 20)
    result = await scan_image([SecretLayerSource(ref, fetch=...)], config, scanners, cache)
    result.findings   # SecretFinding list with layer, layer_index and removed_in filled

Each layer is read once (``layers.walk_layer``) unless its result is cached by
(diff_id, ``scanners.version``); reading is CPU-bound and runs in a worker
thread with that thread's own ``Scanner``. ``redact_config`` removes from an
image config every value a finding points at, so it can be stored and shown.
"""

from __future__ import annotations

from imagewatch.secrets.cache import DirectorySecretCache, NoSecretCache, SecretLayerCache
from imagewatch.secrets.image import ImageSecrets, SecretLayerFailed, SecretLayerSource, scan_image
from imagewatch.secrets.layer import LayerSecrets, scan_layer
from imagewatch.secrets.redact import REDACTED, is_redacted, redact_config, redacted_config
from imagewatch.secrets.removal import Removals
from imagewatch.secrets.scanners import ThreadScanners, stage_version

__all__ = [
    "redacted_config",
    "REDACTED", "DirectorySecretCache", "ImageSecrets", "LayerSecrets", "NoSecretCache", "Removals",
    "SecretLayerCache", "SecretLayerFailed", "SecretLayerSource", "ThreadScanners", "is_redacted",
    "redact_config", "scan_image", "scan_layer", "stage_version",
]
