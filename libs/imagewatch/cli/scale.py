"""``imagewatch up --scale inventory=3,secrets=2``: how many processes of each service to run.

Every process of a stage pulls from the stage's one durable consumer, so N
replicas share its work without further setup. The api stays single on one
machine (it binds one port; run more behind a load balancer on other hosts).
"""

from __future__ import annotations

import difflib

from imagewatch.errors import ImagewatchError

MAX_REPLICAS = 32
"""The most processes of one service ``up`` runs on one machine."""

SINGLE = {"api": "the api listens on one port (api.port); run more api instances on other hosts"}
"""Services that cannot run twice on one machine, and why."""


class ScaleError(ImagewatchError, ValueError):
    """up: a ``--scale`` value names an unknown service or a count out of range."""


def parse_scale(text: str, services: tuple[str, ...] | list[str]) -> dict[str, int]:
    """``"inventory=3,secrets=2"`` → ``{"inventory": 3, "secrets": 2}``; raises :class:`ScaleError`.

    Each service may appear once, with a count from 1 to :data:`MAX_REPLICAS`.
    """
    counts: dict[str, int] = {}
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        name, sep, value = (s.strip() for s in item.partition("="))
        if not sep or not name or not value:
            raise ScaleError(f"up: --scale expects SERVICE=N[,SERVICE=N...], got {item!r}")
        if name not in services:
            close = difflib.get_close_matches(name, list(services), n=1, cutoff=0.6)
            hint = f" (did you mean {close[0]}?)" if close else ""
            raise ScaleError(f"up: --scale: unknown service {name!r}{hint}; services: {', '.join(services)}")
        if name in counts:
            raise ScaleError(f"up: --scale: {name} given twice")
        try:
            count = int(value)
        except ValueError:
            raise ScaleError(f"up: --scale: {name}={value!r}: the count must be a whole number") from None
        if count < 1:
            raise ScaleError(f"up: --scale: {name}={count}: the count must be at least 1")
        if count > MAX_REPLICAS:
            raise ScaleError(f"up: --scale: {name}={count}: at most {MAX_REPLICAS} processes of a service "
                             "on one machine")
        if count > 1 and name in SINGLE:
            raise ScaleError(f"up: --scale: {name}={count}: {SINGLE[name]}")
        counts[name] = count
    return counts


def replica_names(services: list[str], counts: dict[str, int]) -> list[tuple[str, str]]:
    """(service, replica name) of every process to run, in start order: ``("inventory", "inventory-2")``."""
    return [(name, f"{name}-{i}") for name in services for i in range(1, counts.get(name, 1) + 1)]


__all__ = ["MAX_REPLICAS", "SINGLE", "ScaleError", "parse_scale", "replica_names"]
