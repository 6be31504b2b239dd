"""Stage messages → one alert per image event → outbox rows.

A push alerts once both the matcher and the secrets stage of the image are
finished: each message records its stage under the repository tag's lock,
and the one that finds the other stage finished (its message seen, or its
state failed; for the secrets stage also done) decides. A matcher that is
done but whose message is not yet seen is waited for: its message carries
what is new for the tag, and it always follows ``done``. An advisory re-match
decides at once. Deciding means: build the alert from the stored findings
(without Go findings whose vulnerable code is not linked, unless
``show_unreachable``), drop what was alerted for
the tag before, route, render, and write the state change and the outbox
rows in one transaction. Redelivered or racing messages queue nothing twice.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import asyncpg

from imagewatch.runtime.bus import Delivery
from imagewatch.runtime.errors import Permanent
from imagewatch.runtime.logs import get_logger
from imagewatch.messages import FindingsReady, SecretsReady
from imagewatch.matcher.priority import rank_image
from imagewatch.notify.alert import ImageRef, build_alert
from imagewatch.notify.compose import decide
from imagewatch.matcher.remediation import image_plan
from imagewatch.store import coverage as coverage_store
from imagewatch.store import findings as findings_store
from imagewatch.store import images as images_store
from imagewatch.store import outbox
from imagewatch.store import secrets as secrets_store

from imagewatch.notify.settings import Settings

log = get_logger("notifier")
STAGE = "notifier"
INPUT_STAGES = ("matcher", "secrets")
FINISHED = ("done", "failed")
# The matcher's message carries what is new for the tag: a finished matcher
# counts only once its message is seen (it always follows ``done``), or when it failed.
FINISHED_WITHOUT_MESSAGE = {"matcher": ("failed",), "secrets": FINISHED}


class EventHandler:
    """Handles ``FindingsReady`` and ``SecretsReady``; ``on_queued`` is called after rows are committed."""

    def __init__(self, pool: asyncpg.Pool, settings: Settings, on_queued: Callable[[], None]) -> None:
        self.pool = pool
        self.settings = settings
        self.on_queued = on_queued

    async def findings(self, msg: FindingsReady, _: Delivery) -> None:
        """The matcher stored findings (a push) or re-matched after new advisories."""
        new = sorted({*msg.new, *msg.advisories}) if msg.reason == "advisory" else list(msg.new)
        await self._handle(msg.image_digest, msg.registry, msg.repository, msg.tag, "matcher",
                           msg.reason, new, msg.advisories)

    async def secrets(self, msg: SecretsReady, _: Delivery) -> None:
        """The secrets stage stored its findings."""
        await self._handle(msg.image_digest, msg.registry, msg.repository, msg.tag, "secrets", "push", [], [])

    async def _handle(self, digest: str, registry: str, repository: str, tag: str, stage: str,
                      reason: Literal["push", "advisory"], new: list[str], advisories: list[str]) -> None:
        async with self.pool.acquire() as conn:
            if reason == "push":
                new = await self._ready(conn, digest, registry, repository, tag, stage, new)
                if new is None:
                    log.info("waiting for the other stage", image_digest=digest, stage=stage)
                    return
            image = await images_store.get_image(conn, digest)
            if image is None:
                raise Permanent(f"notifier: unknown image {digest}")
            ref = ImageRef(registry=registry, repository=repository, tag=tag, digest=digest,
                           platform=image["platform"])
            await images_store.set_stage(conn, digest, STAGE, "running")
            queued = await self._decide(conn, ref, reason, new, advisories)
        if queued:
            self.on_queued()

    async def _ready(self, conn: asyncpg.Connection, digest: str, registry: str, repository: str, tag: str,
                     stage: str, new: list[str]) -> list[str] | None:
        """Record this stage; the new advisory ids when both stages are finished, else None."""
        async with conn.transaction():
            await outbox.lock_tag(conn, registry, repository, tag)
            await outbox.mark_input(conn, digest, stage, new)
            seen = await outbox.inputs(conn, digest)
            stages = await images_store.stages_of(conn, digest)
        if not all(s in seen or stages[s]["state"] in FINISHED_WITHOUT_MESSAGE[s] for s in INPUT_STAGES):
            return None
        return seen.get("matcher", new)

    async def _decide(self, conn: asyncpg.Connection, ref: ImageRef, reason: Literal["push", "advisory"],
                      new: list[str], advisories: list[str]) -> int:
        """Build, filter, route and render the alert; write state and outbox rows in one transaction."""
        cfg = self.settings
        digest, registry, repository, tag = ref.digest, ref.registry, ref.repository, ref.tag
        async with conn.transaction():
            await outbox.lock_tag(conn, registry, repository, tag)
            findings = await findings_store.image_findings(conn, digest)
            ranked = await rank_image(conn, digest, findings)
            alert = build_alert(
                image=ref, api_base=cfg.api_base, reason=reason, advisories=advisories,
                findings=[f for f in findings if cfg.show_unreachable or f.linked],
                secrets=await secrets_store.image_secrets(conn, digest), new_ids=new,
                problems=[f"{name}: {line}" for name, stage in (await images_store.stages_of(conn, digest)).items()
                          for line in stage.get("problems", [])],
                signals={i: r.signals for r in ranked for i in (r.finding.ids or [r.finding.advisory_id])},
                facts=ranked[0].facts if ranked else None,
                not_covered=[e.ecosystem for e in coverage.not_covered]
                if (coverage := await coverage_store.image_coverage(conn, digest)) else [],
                fix=plan.headline if (plan := await image_plan(conn, digest)) else "",
            )
            state = await outbox.load_state(conn, registry, repository, tag)
            decision = decide(alert, state, cfg.notify.routes, cfg.renderers)
            await outbox.save_state(conn, registry, repository, tag, decision.changed)
            event = outbox.EventImage(digest=digest, registry=registry, repository=repository, tag=tag,
                                      reason=reason)
            queued = await outbox.enqueue(conn, event, decision.entries)
            if reason == "push":
                await outbox.clear_inputs(conn, digest)
            await images_store.set_stage(conn, digest, STAGE, "done")
        log.info("alert decided", image_digest=digest, reason=reason, items=len(alert.findings)
                 + len(alert.secrets) + len(alert.misconfigurations),
                 channels=sorted(decision.per_channel), queued=queued)
        return queued
