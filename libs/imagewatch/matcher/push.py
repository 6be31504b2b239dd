"""``iw.inventory`` → match the image, store findings and the tag's new/fixed → ``iw.findings``.

A failure leaves the stage ``running`` while redelivery is possible; the
worker's ``on_dead`` hook marks it ``failed`` with the error once the message
is dead-lettered. Redelivery repeats the same result: findings are replaced wholesale, new and
fixed are computed against the previous image of the tag (not against what
this image had), and the message id makes a repeated publish a duplicate.
"""

from __future__ import annotations

from imagewatch.runtime.bus import Delivery
from imagewatch.runtime.errors import Permanent
from imagewatch.runtime.logs import get_logger
from imagewatch.matcher.coverage import CoverageMemo, coverage_of
from imagewatch.matcher.matching import match_packages, new_and_fixed, severity_counts
from imagewatch.messages import SUBJECT_FINDINGS, FindingsReady, InventoryReady
from imagewatch.runtime.runner import ServiceContext
from imagewatch.store import coverage as coverage_store
from imagewatch.store import findings as findings_store
from imagewatch.store import images as images_store
from imagewatch.store import packages as packages_store

log = get_logger("matcher")
STAGE = "matcher"


def push_handler(ctx: ServiceContext):
    """The handler of ``InventoryReady`` bound to a service context (with its own coverage memo)."""
    memo = CoverageMemo()

    async def handle(msg: InventoryReady, _: Delivery) -> None:
        digest = msg.image_digest
        async with ctx.pool.acquire() as conn:
            if not await images_store.image_exists(conn, digest):
                raise Permanent(f"matcher: unknown image {digest}")
            await images_store.set_stage(conn, digest, STAGE, "running")
            async with conn.transaction():
                await findings_store.lock_image(conn, digest)
                packages = await packages_store.image_packages(conn, digest)
                os = await packages_store.image_os(conn, digest)
                findings = await match_packages(conn, packages, os)
                await findings_store.replace_findings(conn, digest, findings)
                await coverage_store.save_coverage(conn, digest, await coverage_of(conn, packages, os, memo))
                new, fixed = await _tag_delta(conn, msg, findings)
                await images_store.set_stage(conn, digest, STAGE, "done")
        await ctx.bus.publish(SUBJECT_FINDINGS, FindingsReady(
            image_digest=digest, registry=msg.registry, repository=msg.repository, tag=msg.tag,
            reason="push", counts=severity_counts(findings), new=new, fixed=fixed,
        ), msg_id=f"findings:{digest}:push" + (f":{msg.repository}:{msg.tag}" if msg.tag else ""))
        ctx.metrics.images_scanned.inc()
        log.info("matched", image_digest=digest, packages=len(packages), findings=len(findings),
                 new=len(new), fixed=len(fixed))

    return handle


async def _tag_delta(conn, msg: InventoryReady, findings) -> tuple[list[str], list[str]]:
    """New and fixed ids against the tag's previous image; recorded per platform of the tag."""
    if not msg.tag:
        return new_and_fixed([], findings)
    platforms = await findings_store.tag_previous(
        conn, registry=msg.registry, repository=msg.repository, tag=msg.tag, digest=msg.image_digest)
    if not platforms:  # the tag moved on before this image was matched
        return new_and_fixed([], findings)
    result: tuple[list[str], list[str]] = ([], [])
    for i, (registry, platform, previous) in enumerate(platforms):
        before = await findings_store.image_findings(conn, previous) if previous else []
        new, fixed = new_and_fixed(before, findings)
        await findings_store.record_tag_result(
            conn, registry=registry, repository=msg.repository, tag=msg.tag, platform=platform,
            digest=msg.image_digest, previous=previous, new_ids=new, fixed_ids=fixed)
        if i == 0:
            result = (new, fixed)
    return result
