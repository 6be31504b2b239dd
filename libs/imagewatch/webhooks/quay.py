"""Quay repository push notifications: they name tags, not digests."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from imagewatch.messages import PushEvent
from imagewatch.webhooks.base import WebhookError, event_id, now, require, split_reference


class QuaySource:
    """``{"repository": "ns/repo", "docker_url": "quay.io/ns/repo", "updated_tags": [...]}``."""

    name = "quay"

    def parse(self, body: Any, headers: Mapping[str, str]) -> list[PushEvent]:
        docker_url = require(body, "docker_url", str, "body")
        tags = require(body, "updated_tags", list, "body")
        registry, repository, _, _ = split_reference(docker_url)
        out = []
        for tag in tags:
            if not isinstance(tag, str) or not tag:
                raise WebhookError("body.updated_tags: expected a list of tag names")
            out.append(PushEvent(
                event_id=event_id(self.name, registry, repository, tag, str(body.get("pushed_at", now()))),
                source=self.name, registry=registry, repository=repository, tag=tag, received_at=now(),
            ))
        return out
