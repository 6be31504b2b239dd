"""CNCF distribution (Docker registry) notifications.

Only ``push`` actions whose target is a manifest or index become events; blob
pushes, pulls (ours included), mounts and deletes are dropped.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from imagewatch.messages import PushEvent
from imagewatch.webhooks.base import MANIFEST_MEDIA_TYPES, WebhookError, event_id, now, require


class DistributionSource:
    """``{"events": [{"action": "push", "target": {...}, "request": {...}}]}``."""

    name = "distribution"

    def parse(self, body: Any, headers: Mapping[str, str]) -> list[PushEvent]:
        events = require(body, "events", list, "body")
        out: list[PushEvent] = []
        for i, ev in enumerate(events):
            where = f"events[{i}]"
            action = require(ev, "action", str, where)
            target = require(ev, "target", dict, where)
            if action != "push":
                continue
            media_type = target.get("mediaType", "")
            if media_type not in MANIFEST_MEDIA_TYPES:
                continue
            repository = require(target, "repository", str, where + ".target")
            digest = require(target, "digest", str, where + ".target")
            if not digest.startswith("sha256:") or len(digest) != 71:
                raise WebhookError(f"{where}.target.digest: not a sha256 digest")
            registry = ""
            if isinstance(target.get("url"), str) and target["url"]:
                registry = urlsplit(target["url"]).netloc
            if not registry and isinstance(ev.get("request"), dict):
                registry = ev["request"].get("host", "") or ""
            if not registry:
                raise WebhookError(f"{where}: no registry host in target.url or request.host")
            tag = target.get("tag", "") or ""
            out.append(PushEvent(
                event_id=str(ev.get("id") or event_id(self.name, registry, repository, digest, tag)),
                source=self.name, registry=registry, repository=repository, tag=tag,
                digest=digest, media_type=media_type, received_at=now(),
            ))
        return out
