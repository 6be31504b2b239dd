"""Routing: which findings go to which channel.

``route`` returns, per channel name, the alert filtered for that channel (a
channel named by several matching routes gets the union); a channel whose
filtered alert is empty is left out, so nothing passing means nothing sent.
The routes are ``imagewatch.notify.rules.RouteConfig`` entries.
"""

from __future__ import annotations

from collections.abc import Iterable

from imagewatch.notify.alert import Alert
from imagewatch.notify.rules import RouteConfig


def route(alert: Alert, routes: Iterable[RouteConfig]) -> dict[str, Alert]:
    """Per channel name, the alert filtered for the routes naming it; empty ones left out."""
    lists = (alert.findings, alert.secrets, alert.misconfigurations)
    picked: dict[str, tuple[set[int], set[int], set[int]]] = {}
    for r in routes:
        if not r.matches(alert.image):
            continue
        passing = [{i for i, item in enumerate(items) if r.passes(item)} for items in lists]
        if not any(passing):
            continue
        for name in r.channels:
            acc = picked.setdefault(name, (set(), set(), set()))
            for into, new in zip(acc, passing):
                into |= new
    return {
        name: alert.with_items(*([items[i] for i in sorted(idx)] for items, idx in zip(lists, acc)))
        for name, acc in picked.items()
    }
