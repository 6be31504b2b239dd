"""Harbor webhooks (``PUSH_ARTIFACT`` in Harbor's default JSON payload)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from imagewatch.messages import PushEvent
from imagewatch.webhooks.base import event_id, now, require, split_reference


def harbor_events(source: str, data: Any, where: str, ident: str = "") -> list[PushEvent]:
    """Push events from Harbor's ``event_data`` (also used inside CloudEvents)."""
    resources = require(data, "resources", list, where)
    out: list[PushEvent] = []
    for i, res in enumerate(resources):
        url = require(res, "resource_url", str, f"{where}.resources[{i}]")
        registry, repository, tag, digest = split_reference(url)
        digest = res.get("digest") or digest
        tag = res.get("tag") or tag
        out.append(PushEvent(
            event_id=ident + f"#{i}" if ident else event_id(source, registry, repository, digest, tag),
            source=source, registry=registry, repository=repository, tag=tag, digest=digest,
            received_at=now(),
        ))
    return out


class HarborSource:
    """``{"type": "PUSH_ARTIFACT", "event_data": {"resources": [...]}}``."""

    name = "harbor"

    def parse(self, body: Any, headers: Mapping[str, str]) -> list[PushEvent]:
        kind = require(body, "type", str, "body")
        if kind.upper() not in ("PUSH_ARTIFACT", "PUSHARTIFACT"):
            return []
        return harbor_events(self.name, require(body, "event_data", dict, "body"), "body.event_data")
