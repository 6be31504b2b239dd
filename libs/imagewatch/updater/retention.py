"""Retention: find what the registry no longer serves, then prune what aged out.

Detection asks the registry itself (registry delete notifications are not
used: distribution sends them only for deletes by digest, and a missed one
would keep data forever). Each pass checks a bounded batch of tags and of
untagged images, oldest check first:

* a tag whose manifest answers 404 is dropped (a push that moved the tag in
  the meantime keeps it);
* an image no tag points at is asked for by digest (its index's digest when
  it came from one) in every repository it was seen in; only when every one
  answers 404 is it marked gone. Any other answer (served, refused, timeout,
  a registry we cannot reach) leaves it as it is: deleting is the decision
  this guards, so it fails closed.

Then :func:`imagewatch.store.retention.prune` deletes images gone for
``gone_after_days`` and history older than ``history_days``.
"""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg

from imagewatch.config import RetentionConfig
from imagewatch.oci import Reference, RegistryClient
from imagewatch.oci.errors import NotFound
from imagewatch.runtime.logs import get_logger
from imagewatch.store import retention as store

log = get_logger("retention")


@dataclass
class CheckResult:
    """What one registry check saw."""

    tags_checked: int = 0
    tags_dropped: int = 0
    images_checked: int = 0
    images_gone: int = 0
    errors: int = 0


async def _served(client: RegistryClient, reference: str) -> bool | None:
    """True when the registry serves ``reference``, False on 404, None when it cannot be told."""
    try:
        await client.get_manifest(Reference.parse(reference))
    except NotFound:
        return False
    except Exception as exc:  # noqa: BLE001 - unknown is not gone
        log.info("registry check inconclusive", reference=reference, error=str(exc) or type(exc).__name__)
        return None
    return True


async def check_registry(pool: asyncpg.Pool, client: RegistryClient, batch: int) -> CheckResult:
    """Check up to ``batch`` tags and ``batch`` untagged images against their registries."""
    result = CheckResult()
    async with pool.acquire() as conn:
        tags = await store.tags_to_check(conn, batch)
    for tag in tags:
        served = await _served(client, f"{tag.registry}/{tag.repository}:{tag.tag}")
        async with pool.acquire() as conn:
            if served is False:
                result.tags_dropped += await store.drop_tag(conn, tag)
            else:
                result.errors += served is None
                await store.tag_checked(conn, tag)
        result.tags_checked += 1
    async with pool.acquire() as conn:
        images = await store.images_to_check(conn, batch)
    served_list, gone_list = [], []
    for image in images:
        answers = [await _served(client, f"{registry}/{repository}@{image.reference_digest}")
                   for registry, repository in image.repositories]
        if answers and all(a is False for a in answers):
            gone_list.append(image.digest)
        else:
            result.errors += any(a is None for a in answers)
            served_list.append(image.digest)
    async with pool.acquire() as conn:
        await store.mark_images(conn, served_list, gone_list)
    result.images_checked, result.images_gone = len(images), len(gone_list)
    return result


async def run_retention(pool: asyncpg.Pool, client: RegistryClient | None, config: RetentionConfig
                        ) -> tuple[CheckResult | None, store.PruneResult] | None:
    """One pass: the registry check (when a client is given), then the prune.

    Runs under a session advisory lock held on one connection, so any number
    of updater replicas (and ``imagewatch db prune``) run one pass at a time;
    None when another holds it.
    """
    async with pool.acquire() as held:
        if not await store.try_lock(held):
            log.info("retention pass skipped: another one is running")
            return None
        try:
            checked = await check_registry(pool, client, config.check_batch) if client is not None else None
            async with pool.acquire() as conn:
                pruned = await store.prune(conn, gone_after_days=config.gone_after_days,
                                           history_days=config.history_days, batch=config.batch)
        finally:
            await store.unlock(held)
    return checked, pruned
