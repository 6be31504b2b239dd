"""Size limits, retries and timeouts of the registry client."""

from __future__ import annotations

import msgspec

MiB = 1024 * 1024


class RegistryLimits(msgspec.Struct, kw_only=True, frozen=True):
    """Bounds on what the client downloads and how hard it retries.

    ``retries`` counts extra attempts after the first one; waits grow from
    ``backoff_base`` to ``backoff_max`` seconds, or follow ``Retry-After``
    (capped at ``retry_after_max``).
    """

    max_manifest_bytes: int = 4 * MiB
    max_config_bytes: int = 8 * MiB
    max_blob_bytes: int = 4 * 1024 * MiB
    retries: int = 4
    backoff_base: float = 0.5
    backoff_max: float = 20.0
    retry_after_max: float = 60.0
    connect_timeout: float = 15.0
    read_timeout: float = 60.0
    chunk_size: int = 256 * 1024
