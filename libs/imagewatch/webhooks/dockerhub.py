"""Docker Hub webhooks: ``push_data.tag`` of ``repository.repo_name`` on docker.io."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from imagewatch.messages import PushEvent
from imagewatch.webhooks.base import event_id, now, require


class DockerHubSource:
    """``{"push_data": {"tag": ..., "pushed_at": ...}, "repository": {"repo_name": ...}}``."""

    name = "dockerhub"

    def parse(self, body: Any, headers: Mapping[str, str]) -> list[PushEvent]:
        push = require(body, "push_data", dict, "body")
        repo = require(body, "repository", dict, "body")
        name = require(repo, "repo_name", str, "body.repository")
        tag = require(push, "tag", str, "body.push_data")
        if "/" not in name:
            name = f"library/{name}"
        return [PushEvent(
            event_id=event_id(self.name, name, tag, str(push.get("pushed_at", ""))),
            source=self.name, registry="docker.io", repository=name, tag=tag, received_at=now(),
        )]
