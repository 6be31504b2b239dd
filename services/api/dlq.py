"""``GET /v1/dlq`` and ``POST /v1/dlq/{id}/retry``: dead letters, listed and re-queued.

A dead letter's id is its stream sequence. The list shows the original
message decoded (every ``iw.*`` message type is known and holds no secrets),
never its raw bytes. A retry publishes the original bytes to the original
subject under a new ``Nats-Msg-Id`` and then deletes the dead letter. Both
need the bearer token.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Any

import msgspec
from aiohttp import web
from nats.js.errors import NotFoundError

from imagewatch.runtime.logs import get_logger
from imagewatch.messages import SUBJECT_DLQ_PREFIX, SUBJECT_TYPES, DeadLetter, decoder_for

from imagewatch_services.api import pagination
from imagewatch_services.api.auth import check_bearer
from imagewatch_services.api.keys import CTX, TOKEN

log = get_logger("api")
SCAN_LIMIT = 10_000


def _decoded(letter: DeadLetter) -> dict[str, Any] | None:
    kind = SUBJECT_TYPES.get(letter.subject)
    if kind is None:
        return None
    try:
        return msgspec.to_builtins(decoder_for(kind).decode(letter.data))
    except msgspec.DecodeError:
        return None


def describe(seq: int, letter: DeadLetter) -> dict[str, Any]:
    """A dead letter as the API shows it: metadata and the decoded original message."""
    failed = datetime.fromtimestamp(letter.failed_at, timezone.utc).isoformat() if letter.failed_at else None
    return {
        "id": seq, "stage": letter.stage, "subject": letter.subject, "error": letter.error,
        "deliveries": letter.deliveries, "failed_at": failed, "msg_id": letter.msg_id,
        "message": _decoded(letter), "size": len(letter.data),
    }


async def list_dead_letters(request: web.Request) -> web.Response:
    """``GET /v1/dlq[?stage=&limit=&cursor=]``, oldest first; the cursor is the last id seen."""
    check_bearer(request, request.app[TOKEN])
    limit = pagination.limit_param(request)
    stage = request.query.get("stage") or None
    try:
        after = int(request.query.get("cursor") or 0)
    except ValueError:
        raise pagination.bad_request("cursor: expected an integer") from None
    letters = await request.app[CTX].bus.dead_letters(limit=SCAN_LIMIT)
    items = [describe(seq, letter) for seq, letter in letters
             if seq > after and (stage is None or letter.stage == stage)][:limit]
    return web.json_response(pagination.page(items, limit, lambda item: item["id"]))


class RequeueRefused(Exception):
    """A dead letter that cannot be re-queued: ``status`` 404 (none such) or 422 (unreadable, bad subject)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


async def requeue(bus, raw: str) -> dict[str, Any]:
    """Re-publish dead letter ``raw`` (its stream sequence) to its original subject, then delete it.

    Shared by ``POST /v1/dlq/{id}/retry`` and the dashboard's retry button.
    """
    if not raw.isdigit():
        raise RequeueRefused(404, f"dead letter {raw} not found")
    seq = int(raw)
    try:
        stored = await bus.js.get_msg(bus.config.stream, seq)
    except NotFoundError:
        raise RequeueRefused(404, f"dead letter {raw} not found") from None
    if not (stored.subject or "").startswith(SUBJECT_DLQ_PREFIX):
        raise RequeueRefused(404, f"dead letter {raw} not found")
    try:
        letter = decoder_for(DeadLetter).decode(stored.data or b"")
    except msgspec.DecodeError:
        raise RequeueRefused(422, f"dead letter {seq} is unreadable") from None
    if not letter.subject.startswith("iw.") or letter.subject.startswith(SUBJECT_DLQ_PREFIX):
        raise RequeueRefused(422, f"dead letter {seq}: refusing to re-publish to {letter.subject!r}")
    msg_id = f"retry:{seq}:{uuid.uuid4()}"
    ack = await bus.js.publish(letter.subject, letter.data, timeout=5, headers={"Nats-Msg-Id": msg_id})
    try:
        await bus.js.delete_msg(bus.config.stream, seq)
    except NotFoundError:
        pass  # a concurrent retry removed it first
    log.info("dead letter re-queued", dlq_id=seq, subject=letter.subject, stage=letter.stage, msg_id=msg_id)
    return {"id": seq, "subject": letter.subject, "msg_id": msg_id, "sequence": ack.seq}


async def retry_dead_letter(request: web.Request) -> web.Response:
    """``POST /v1/dlq/{id}/retry``: re-publish the original message, then drop the dead letter."""
    check_bearer(request, request.app[TOKEN])
    try:
        done = await requeue(request.app[CTX].bus, request.match_info["id"])
    except RequeueRefused as refused:
        return web.json_response({"error": refused.reason}, status=refused.status)
    return web.json_response(done, status=202)
