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
from imagewatch.matcher.coverage import coverage_of
from imagewatch.matcher.matching import match_packages, new_ids, rematch_packages
from imagewatch.messages import SUBJECT_FINDINGS, FindingsReady, VulnDBChanged
from imagewatch.runtime.runner import ServiceContext
from imagewatch.store import coverage as coverage_store
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
                await coverage_store.save_coverage(conn, digest, await coverage_of(conn, packages, os))
                new = new_ids(known, found)
                await findings_store.record_rematch(conn, update_id, digest, new)
        if not new:  # nothing new, or not matched yet: its push match will see the update
            return []
        counts = await findings_store.finding_counts(conn, digest)
        targets = await findings_store.image_targets(conn, digest)
    await _announce(ctx, digest, update_id, targets, counts, new)
    return new


async def _announce(ctx: ServiceContext, digest: str, update_id: str, targets: list[tuple[str, str, str]],
                    counts: dict[str, int], ids: list[str]) -> None:
    """Publish ``iw.findings`` (reason ``advisory``) for each tag pointing at the image, keyed by the update."""
    for i, (registry, repository, tag) in enumerate(targets):
        msg_id = f"findings:{digest}:{update_id}" + (f":{registry}/{repository}:{tag}" if i else "")
        await ctx.bus.publish(SUBJECT_FINDINGS, FindingsReady(
            image_digest=digest, registry=registry, repository=repository, tag=tag, reason="advisory",
            counts=counts, new=ids, advisories=ids,
        ), msg_id=msg_id)


async def rerate_image(ctx: ServiceContext, digest: str, update_id: str,
                       packages: list[tuple[str, str, str]]) -> None:
    """Match again the packages of an image whose findings' CVE ratings changed, so their severities follow."""
    wanted = set(packages)
    async with ctx.pool.acquire() as conn:
        async with conn.transaction():
            await findings_store.lock_image(conn, digest)
            if await findings_store.rematch_result(conn, update_id, digest) is not None:
                return
            if not await findings_store.matched(conn, digest):
                return
            again = [p for p in await packages_store.image_packages(conn, digest)
                     if (p.ecosystem, p.name, p.version) in wanted]
            os = await packages_store.image_os(conn, digest)
            found = await match_packages(conn, again, os) if again else []
            await findings_store.replace_package_findings(
                conn, digest, [(p.ecosystem, p.name, p.version) for p in again], found)
            await findings_store.record_rematch(conn, update_id, digest, [])


async def alert_exploited(ctx: ServiceContext, digest: str, update_id: str, exploited: list[str]) -> list[str]:
    """Announce the findings of an image whose CVEs were just listed as known exploited; returns their ids."""
    wanted = set(exploited)
    async with ctx.pool.acquire() as conn:
        if not await findings_store.matched(conn, digest):
            return []
        ids = sorted({f.advisory_id for f in await findings_store.image_findings(conn, digest)
                      if not wanted.isdisjoint(f.ids or [f.advisory_id])})
        if not ids:
            return []
        counts = await findings_store.finding_counts(conn, digest)
        targets = await findings_store.image_targets(conn, digest)
    await _announce(ctx, digest, update_id, targets, counts, ids)
    return ids


def vulndb_handler(ctx: ServiceContext):
    """The handler of ``VulnDBChanged`` bound to a service context."""
    limit = asyncio.Semaphore(max(1, ctx.config.matcher.concurrency))

    async def one(digest: str, update_id: str, pairs: list[tuple[str, str]]) -> list[str]:
        async with limit:
            return await rematch_image(ctx, digest, update_id, pairs)

    async def rerate(digest: str, update_id: str, packages: list[tuple[str, str, str]]) -> None:
        async with limit:
            await rerate_image(ctx, digest, update_id, packages)

    async def handle(msg: VulnDBChanged, _: Delivery) -> None:
        pairs = [(k.ecosystem, k.name) for k in msg.changed]
        async with ctx.pool.acquire() as conn:
            digests = await packages_store.images_with_packages(conn, pairs) if pairs else []
            rated = await findings_store.images_with_ids(conn, msg.rated)
            exploited = await findings_store.images_with_ids(conn, msg.exploited)
        results = await asyncio.gather(*(one(d, msg.update_id, pairs) for d in digests))
        await asyncio.gather(*(rerate(d, f"{msg.update_id}:rated", p) for d, p in rated.items()))
        alerted = await asyncio.gather(*(alert_exploited(ctx, d, msg.update_id, msg.exploited) for d in exploited))
        log.info("re-matched", update_id=msg.update_id, source=msg.source, pairs=len(pairs),
                 images=len(digests), images_with_new=sum(1 for r in results if r),
                 rerated=len(rated), exploited=sum(1 for a in alerted if a))

    return handle
