"""The webhook formats the api accepts, by the name in ``/v1/events/{name}``."""

from __future__ import annotations

from imagewatch.webhooks.base import WebhookSource
from imagewatch.webhooks.cloudevents import CloudEventsSource
from imagewatch.webhooks.distribution import DistributionSource
from imagewatch.webhooks.dockerhub import DockerHubSource
from imagewatch.webhooks.harbor import HarborSource
from imagewatch.webhooks.quay import QuaySource


def default_sources() -> dict[str, WebhookSource]:
    """Every webhook source keyed by name; a duplicate name is an error."""
    sources: dict[str, WebhookSource] = {}
    for src in (DistributionSource(), HarborSource(), QuaySource(), DockerHubSource(), CloudEventsSource()):
        if src.name in sources:
            raise ValueError(f"webhooks: duplicate source {src.name!r}")
        sources[src.name] = src
    return sources
