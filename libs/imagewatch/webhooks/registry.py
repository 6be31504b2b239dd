"""The webhook formats the api accepts, by the name in ``/v1/events/{name}``."""

from __future__ import annotations

from .base import WebhookSource
from .cloudevents import CloudEventsSource
from .distribution import DistributionSource
from .dockerhub import DockerHubSource
from .harbor import HarborSource
from .quay import QuaySource


def default_sources() -> dict[str, WebhookSource]:
    """Every webhook source keyed by name; a duplicate name is an error."""
    sources: dict[str, WebhookSource] = {}
    for src in (DistributionSource(), HarborSource(), QuaySource(), DockerHubSource(), CloudEventsSource()):
        if src.name in sources:
            raise ValueError(f"webhooks: duplicate source {src.name!r}")
        sources[src.name] = src
    return sources
