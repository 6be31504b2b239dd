"""The notifier's tables: no-repeat state, stage inputs per image, and the outbox.

The decision to notify (``save_state``) and its messages (``enqueue``) are
written by the caller in one transaction under ``lock_tag``. Outbox rows are
unique on ``(idempotency_key, channel, part)``, so writing the same decision
twice queues nothing twice. The dispatcher claims due rows with ``FOR UPDATE
SKIP LOCKED`` inside a transaction it holds while sending: a crashed
dispatcher's rows become claimable again at once, and replicas never claim
the same row. Rows name their channel; the URL never reaches the database.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import asyncpg
import msgspec

from imagewatch.notify.outbound import OutboxEntry
from imagewatch.notify.signing import SIGNATURE_HEADER

STATES = ("pending", "sent", "failed")


class OutboxRow(msgspec.Struct, kw_only=True, frozen=True):
    """A claimed outbox row: what the dispatcher needs to send it."""

    id: int
    idempotency_key: str
    channel: str
    kind: str
    body: bytes
    headers: dict[str, str]
    attempts: int


class EventImage(msgspec.Struct, kw_only=True, frozen=True):
    """The image event a set of outbox rows belongs to."""

    digest: str
    registry: str
    repository: str
    tag: str
    reason: str


async def lock_tag(conn: asyncpg.Connection, registry: str, repository: str, tag: str) -> None:
    """Serialise notifier decisions for one repository tag until the transaction ends."""
    await conn.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
        f"notifier\x1f{registry}\x1f{repository}\x1f{tag}",
    )


async def mark_input(conn: asyncpg.Connection, digest: str, stage: str, new_ids: list[str]) -> None:
    """Record that ``stage`` announced its results for the image (``new_ids``: new advisory ids)."""
    await conn.execute(
        """INSERT INTO notifier_inputs (image_digest, stage, new_ids) VALUES ($1, $2, $3)
           ON CONFLICT (image_digest, stage) DO UPDATE SET new_ids = EXCLUDED.new_ids, seen_at = now()""",
        digest, stage, new_ids,
    )


async def inputs(conn: asyncpg.Connection, digest: str) -> dict[str, list[str]]:
    """The stages announced for an image and their new advisory ids."""
    rows = await conn.fetch("SELECT stage, new_ids FROM notifier_inputs WHERE image_digest = $1", digest)
    return {r["stage"]: list(r["new_ids"]) for r in rows}


async def clear_inputs(conn: asyncpg.Connection, digest: str) -> None:
    """Forget the announcements of an image once its alert is decided."""
    await conn.execute("DELETE FROM notifier_inputs WHERE image_digest = $1", digest)


async def load_state(conn: asyncpg.Connection, registry: str, repository: str, tag: str) -> dict[str, str]:
    """Item key → severity last alerted, for one repository tag."""
    rows = await conn.fetch(
        "SELECT item_key, severity FROM notifier_state WHERE registry = $1 AND repository = $2 AND tag = $3",
        registry, repository, tag,
    )
    return {r["item_key"]: r["severity"] for r in rows}


async def save_state(conn: asyncpg.Connection, registry: str, repository: str, tag: str,
                     changed: dict[str, str]) -> None:
    """Record newly alerted items (or their risen severity) for one repository tag."""
    await conn.executemany(
        """INSERT INTO notifier_state (registry, repository, tag, item_key, severity) VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (registry, repository, tag, item_key) DO UPDATE SET
             severity = EXCLUDED.severity, alerted_at = now()""",
        [(registry, repository, tag, k, v) for k, v in changed.items()],
    )


async def enqueue(conn: asyncpg.Connection, event: EventImage, entries: Iterable[OutboxEntry]) -> int:
    """Queue rendered messages; returns how many rows were new (duplicates are skipped)."""
    inserted = 0
    for e in entries:
        # The render-time signature would be stale by the time of sending; each attempt re-signs.
        headers = {k: v for k, v in e.request.headers.items() if k != SIGNATURE_HEADER}
        row_id = await conn.fetchval(
            """INSERT INTO notifier_outbox (idempotency_key, channel, kind, part, image_digest, registry,
                                            repository, tag, reason, body, headers, summary)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
               ON CONFLICT (idempotency_key, channel, part) DO NOTHING RETURNING id""",
            e.request.idempotency_key, e.channel, e.kind, e.part, event.digest, event.registry,
            event.repository, event.tag, event.reason, e.request.body, headers, e.request.summary,
        )
        inserted += row_id is not None
    return inserted


async def claim_due(conn: asyncpg.Connection, limit: int) -> list[OutboxRow]:
    """Lock up to ``limit`` due pending rows for this transaction, skipping rows others hold."""
    rows = await conn.fetch(
        """SELECT id, idempotency_key, channel, kind, body, headers, attempts FROM notifier_outbox
           WHERE state = 'pending' AND next_attempt_at <= clock_timestamp()
           ORDER BY next_attempt_at, id LIMIT $1 FOR UPDATE SKIP LOCKED""",
        limit,
    )
    return [OutboxRow(id=r["id"], idempotency_key=r["idempotency_key"], channel=r["channel"], kind=r["kind"],
                      body=bytes(r["body"]), headers=dict(r["headers"] or {}), attempts=r["attempts"])
            for r in rows]


async def record_sent(conn: asyncpg.Connection, row_id: int, status: int | None) -> None:
    """The row was delivered: it is never sent again."""
    await conn.execute(
        """UPDATE notifier_outbox SET state = 'sent', attempts = attempts + 1, last_status = $2,
             last_error = NULL, last_attempt_at = clock_timestamp(), sent_at = clock_timestamp()
           WHERE id = $1""",
        row_id, status,
    )


async def record_retry(conn: asyncpg.Connection, row_id: int, delay: float, status: int | None,
                       error: str) -> None:
    """The attempt failed transiently: try again ``delay`` seconds from now."""
    await conn.execute(
        """UPDATE notifier_outbox SET attempts = attempts + 1, last_status = $3, last_error = $4,
             last_attempt_at = clock_timestamp(),
             next_attempt_at = clock_timestamp() + make_interval(secs => $2)
           WHERE id = $1""",
        row_id, delay, status, error,
    )


async def record_failed(conn: asyncpg.Connection, row_id: int, status: int | None, error: str) -> None:
    """The row will never be delivered: keep it, failed, with the last error."""
    await conn.execute(
        """UPDATE notifier_outbox SET state = 'failed', attempts = attempts + 1, last_status = $2,
             last_error = $3, last_attempt_at = clock_timestamp() WHERE id = $1""",
        row_id, status, error,
    )


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


async def list_outbox(conn: asyncpg.Connection, state: str | None = None, limit: int = 100,
                      before: int | None = None) -> list[dict[str, Any]]:
    """Outbox rows, newest first, optionally in one state; ``before`` is an id cursor. Never the URL."""
    rows = await conn.fetch(
        """SELECT id, channel, kind, part, image_digest, registry, repository, tag, reason, state,
                  attempts, last_status, last_error, created_at, sent_at, next_attempt_at
           FROM notifier_outbox
           WHERE ($1::text IS NULL OR state = $1) AND ($2::bigint IS NULL OR id < $2)
           ORDER BY id DESC LIMIT $3""",
        state, before, limit,
    )
    return [
        {"id": r["id"], "channel": r["channel"], "kind": r["kind"], "part": r["part"],
         "image_digest": r["image_digest"], "registry": r["registry"], "repository": r["repository"],
         "tag": r["tag"], "reason": r["reason"], "state": r["state"], "attempts": r["attempts"],
         "last_status": r["last_status"], "last_error": r["last_error"],
         "created_at": _iso(r["created_at"]), "sent_at": _iso(r["sent_at"]),
         "next_attempt_at": _iso(r["next_attempt_at"]) if r["state"] == "pending" else None}
        for r in rows
    ]
