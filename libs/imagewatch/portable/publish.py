"""Export the store and push it to a repository in one step (``db push``, the updater's ``publish_to``)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from imagewatch.config import FetcherConfig


async def push_file(fetcher: FetcherConfig, reference: str, path: Path, *, insecure: bool = False) -> str:
    """Push the database file ``path`` to ``reference`` with the fetcher's registry settings; returns its digest.

    ``insecure`` skips TLS verification and falls back to plain HTTP when the
    registry speaks no TLS; hosts in ``fetcher.insecure_registries`` are plain HTTP.
    """
    from imagewatch.fetcher import fetch
    from imagewatch.oci import Reference
    from imagewatch.portable.artifact import push_db

    ref = Reference.parse(reference)
    trusted = [ref.api_host]  # the operator named this registry; its redirects and realms still pass the policy
    policy = fetch.egress_policy(fetcher, fetch.credential_hosts(fetcher), trusted)
    async with fetch.session_for(policy, trust_env=True) as session:
        client = fetch.make_client(session, fetcher, use_docker_config=True, trusted=trusted, insecure=insecure)
        return await push_db(client, ref, path)


async def export_and_push(pool: Any, fetcher: FetcherConfig, reference: str, *, insecure: bool = False,
                          tmp_dir: Path | None = None) -> str:
    """Export every advisory ``pool`` holds to a temporary file and push it to ``reference``; returns the digest."""
    from imagewatch.portable.export import export_db

    with tempfile.TemporaryDirectory(prefix="iw-db-", dir=tmp_dir) as tmp:
        path = Path(tmp) / "imagewatch.db"
        await export_db(pool, path)
        return await push_file(fetcher, reference, path, insecure=insecure)
