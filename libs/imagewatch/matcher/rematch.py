"""``iw.vulndb`` → re-match the stored images holding a changed package → ``iw.findings``.

The images are found by a query on their stored package lists; nothing is
pulled from a registry, and only the packages the update names are matched
again. Images not matched yet are left to their push match,
which runs after (and sees) the update. Each image is re-matched under its lock, and what the
update made new is recorded per (update, image) in the same transaction as the
findings, so a redelivered message publishes the same result again (a
duplicate the stream drops) instead of finding nothing new.
"""

from __future__ import annotations

import asyncio

from imagewatch.runtime.bus import Delivery
from imagewatch.runtime.logs import get_logger
from imagewatch.matcher.matching import new_ids, rematch_packages
from imagewatch.messages import SUBJECT_FINDINGS, FindingsReady, VulnDBChanged
from imagewatch.runtime.runner import ServiceContext
from imagewatch.store import findings as findings_store
from imagewatch.store import packages as packages_store

log = get_logger("matcher")


async def rematch_image(ctx: ServiceContext, digest: str, update_id: str,
                        changed: list[tuple[str, str]]) -> list[str]:
    """Re-match an image's packages named by an advisory update; publish and return the ids it made new."""
    async with ctx.pool.acquire() as conn:
        async with conn.transaction():
            await findings_store.lock_image(conn, digest)
            new = await findings_store.rematch_result(conn, update_id, digest)
            if new is None and await findings_store.matched(conn, digest):
                known = await findings_store.image_finding_ids(conn, digest)
                packages = await packages_store.image_packages(conn, digest)
                os = await packages_store.image_os(conn, digest)
                again, found = await rematch_packages(conn, packages, os, changed)
                await findings_store.replace_package_findings(
                    conn, digest, [(p.ecosystem, p.name, p.version) for p in again], found)
                new = new_ids(known, found)
                await findings_store.record_rematch(conn, update_id, digest, new)
        if not new:  # nothing new, or not matched yet: its push match will see the update

            return []
        counts = await findings_store.finding_counts(conn, digest)
        targets = await findings_store.image_targets(conn, digest)
    for i, (registry, repository, tag) in enumerate(targets):
        msg_id = f"findings:{digest}:{update_id}" + (f":{registry}/{repository}:{tag}" if i else "")
        await ctx.bus.publish(SUBJECT_FINDINGS, FindingsReady(
            image_digest=digest, registry=registry, repository=repository, tag=tag, reason="advisory",
            counts=counts, new=new, advisories=new,
        ), msg_id=msg_id)
    return new


def vulndb_handler(ctx: ServiceContext):
    """The handler of ``VulnDBChanged`` bound to a service context."""
    limit = asyncio.Semaphore(max(1, ctx.config.matcher.concurrency))

    async def one(digest: str, update_id: str, pairs: list[tuple[str, str]]) -> list[str]:
        async with limit:
            return await rematch_image(ctx, digest, update_id, pairs)

    async def handle(msg: VulnDBChanged, _: Delivery) -> None:
        pairs = [(k.ecosystem, k.name) for k in msg.changed]
        async with ctx.pool.acquire() as conn:
            digests = await packages_store.images_with_packages(conn, pairs)
        results = await asyncio.gather(*(one(d, msg.update_id, pairs) for d in digests))
        log.info("re-matched", update_id=msg.update_id, source=msg.source, pairs=len(pairs),
                 images=len(digests), images_with_new=sum(1 for r in results if r))

    return handle
