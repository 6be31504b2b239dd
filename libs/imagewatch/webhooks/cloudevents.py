"""CloudEvents 1.0, structured (JSON body) or binary (``ce-*`` headers) mode.

``data`` is either Harbor's event data (``resources``) or a plain
``{"registry", "repository", "tag", "digest"}`` / ``{"reference"}`` object.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from imagewatch.messages import PushEvent
from imagewatch.webhooks.base import WebhookError, now, require, split_reference
from imagewatch.webhooks.harbor import harbor_events


class CloudEventsSource:
    """A push as a CloudEvent; event types without ``push`` in them are dropped."""

    name = "cloudevents"

    def parse(self, body: Any, headers: Mapping[str, str]) -> list[PushEvent]:
        lower = {k.lower(): v for k, v in headers.items()}
        if "ce-specversion" in lower:
            ident, kind, data = lower.get("ce-id", ""), lower.get("ce-type", ""), body
            if not ident or not kind:
                raise WebhookError("headers: ce-id and ce-type are required")
        else:
            spec = require(body, "specversion", str, "body")
            if not spec.startswith("1."):
                raise WebhookError(f"body.specversion: unsupported {spec!r}")
            ident = require(body, "id", str, "body")
            kind = require(body, "type", str, "body")
            data = require(body, "data", dict, "body")
        if "push" not in kind.lower():
            return []
        if isinstance(data, dict) and "resources" in data:
            return harbor_events(self.name, data, "data", ident=f"{self.name}:{ident}")
        if not isinstance(data, dict):
            raise WebhookError("data: expected an object")
        if isinstance(data.get("reference"), str):
            registry, repository, tag, digest = split_reference(data["reference"])
        else:
            registry = require(data, "registry", str, "data")
            repository = require(data, "repository", str, "data")
            tag, digest = data.get("tag", "") or "", data.get("digest", "") or ""
        if not tag and not digest:
            raise WebhookError("data: a tag or a digest is required")
        return [PushEvent(event_id=f"{self.name}:{ident}", source=self.name, registry=registry,
                          repository=repository, tag=tag, digest=digest, received_at=now())]
