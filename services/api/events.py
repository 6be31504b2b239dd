"""``POST /v1/events/{source}`` and ``POST /v1/scans``: validate, publish, answer.

202 only after JetStream acknowledged every publish; 503 with
``Retry-After`` when it cannot (NATS disconnected, or no ack in time), so the
registry retries. Re-sent events keep their id, so a publish that did reach
the stream before the failure is dropped by its duplicate window. A malformed body is a 400 with the reason and nothing
is published.
"""

from __future__ import annotations

import json
import time
import uuid

from aiohttp import web

from imagewatch.runtime.logs import get_logger
from imagewatch.messages import SUBJECT_PUSH, PushEvent
from imagewatch.oci import InvalidReference, Reference
from imagewatch.webhooks.base import WebhookError, checked_event
from imagewatch.webhooks.catalog import default_sources

from imagewatch_services.api.auth import check_bearer
from imagewatch_services.api.keys import CTX, MAX_BODY, TOKEN

log = get_logger("api")
SOURCES = default_sources()


RETRY_AFTER = 5
"""Seconds a registry is told to wait (``Retry-After``) when the event bus is down."""


def _error(status: int, reason: str) -> web.Response:
    return web.json_response({"error": reason}, status=status)


def _unavailable() -> web.Response:
    return web.json_response({"error": "event bus unavailable; retry later"}, status=503,
                             headers={"Retry-After": str(RETRY_AFTER)})


class BodyTooLarge(WebhookError):
    """webhook: the body exceeds the configured limit (answered 413)."""


async def _read_json(request: web.Request, limit: int):
    if request.content_length is not None and request.content_length > limit:
        raise BodyTooLarge(f"body: {request.content_length} bytes exceeds the limit of {limit}")
    from imagewatch_services.api.admission import read_body

    body = await read_body(request, limit)
    if body is None:
        raise BodyTooLarge(f"body: exceeds the limit of {limit} bytes")
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise WebhookError(f"body: malformed JSON: {exc}") from None


async def _publish(request: web.Request, events: list[PushEvent]) -> web.Response | None:
    bus = request.app[CTX].bus
    if not bus.nc.is_connected:
        # a publish now would wait in the reconnect buffer with nobody to ack it
        log.warning("event refused: NATS not connected", count=len(events))
        return _unavailable()
    try:
        for ev in events:
            await bus.publish(SUBJECT_PUSH, ev, msg_id=ev.event_id)
    except Exception as exc:  # noqa: BLE001 - any bus failure means "try again later"
        log.warning("publish failed", error=type(exc).__name__)
        return _unavailable()
    return None


async def receive_event(request: web.Request) -> web.Response:
    """A registry webhook."""
    source = SOURCES.get(request.match_info["source"])
    if source is None:
        return _error(404, f"unknown event source {request.match_info['source']!r}")
    check_bearer(request, request.app[TOKEN])
    try:
        body = await _read_json(request, request.app[MAX_BODY])
        events = [checked_event(ev) for ev in source.parse(body, request.headers)]
    except WebhookError as exc:
        return _error(413 if isinstance(exc, BodyTooLarge) else 400, str(exc))
    if not events:
        return web.json_response({"accepted": 0, "ignored": True}, status=200)
    failed = await _publish(request, events)
    if failed:
        return failed
    log.info("events accepted", source=source.name, count=len(events))
    return web.json_response(
        {"accepted": len(events), "events": [ev.reference for ev in events]}, status=202)


async def request_scan(request: web.Request) -> web.Response:
    """A manual scan of ``{"reference": "registry/repo:tag"}``."""
    check_bearer(request, request.app[TOKEN])
    try:
        body = await _read_json(request, request.app[MAX_BODY])
        if not isinstance(body, dict) or not isinstance(body.get("reference"), str):
            raise WebhookError("body.reference: expected a string like registry/repo:tag")
        ref = Reference.parse(body["reference"])
    except InvalidReference as exc:
        return _error(400, f"body.reference: {exc}")
    except WebhookError as exc:
        return _error(413 if isinstance(exc, BodyTooLarge) else 400, str(exc))
    event = PushEvent(event_id=f"manual:{uuid.uuid4()}", source="manual", registry=ref.registry,
                      repository=ref.repository, tag=ref.tag, digest=ref.digest, received_at=time.time())
    failed = await _publish(request, [event])
    if failed:
        return failed
    return web.json_response({"accepted": 1, "reference": event.reference, "id": event.event_id}, status=202)
