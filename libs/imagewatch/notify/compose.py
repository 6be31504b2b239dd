"""The notifier's decision for one image event: what is fresh, where it goes, what to send.

``decide`` is pure: given the built alert, the no-repeat state of the
repository tag, the routes and the channel renderers, it returns the state
changes and the rendered messages. The caller writes both in one
transaction, so a message is queued exactly when its items are recorded as
alerted. Nothing passing a route means no message and no state change.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping

import msgspec

from imagewatch.notify.alert import Alert, idempotency_key
from imagewatch.notify.channels.base import Channel
from imagewatch.notify.norepeat import fresh, merge_state, state_value
from imagewatch.notify.outbound import OutboxEntry
from imagewatch.notify.routing import route
from imagewatch.notify.rules import RouteConfig


class Decision(msgspec.Struct, kw_only=True, frozen=True):
    """What one image event changes: ``changed`` state items and the ``entries`` to queue.

    ``per_channel`` holds the alert as filtered for each channel that gets a message.
    """

    changed: dict[str, str] = {}
    per_channel: dict[str, Alert] = {}
    entries: list[OutboxEntry] = []

    @property
    def sends(self) -> bool:
        """Whether the event queues at least one message."""
        return bool(self.entries)


def event_id(alert: Alert) -> str:
    """A content id for the fresh items of an alert.

    The same image pushed again with a risen severity is a new event and must
    get a new idempotency key; a redelivery of the same decision gets the same.
    """
    items = [*alert.findings, *alert.secrets, *alert.misconfigurations]
    text = "\n".join(sorted(f"{i.key}={state_value(i)}" for i in items))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def decide(
    alert: Alert,
    state: Mapping[str, str],
    routes: Iterable[RouteConfig],
    channels: Mapping[str, Channel],
) -> Decision:
    """Drop what was alerted before, route, render per channel and compute the state change."""
    new = fresh(alert, state)
    if new.is_empty:
        return Decision()
    key = idempotency_key(new.image, new.reason, new.advisories, event_id(new))
    new = msgspec.structs.replace(new, idempotency_key=key)
    per_channel = route(new, routes)
    entries = [
        OutboxEntry(channel=name, kind=channels[name].kind, part=part, request=request)
        for name, filtered in per_channel.items()
        for part, request in enumerate(channels[name].render(filtered))
    ]
    merged = merge_state(state, per_channel.values())
    changed = {k: v for k, v in merged.items() if state.get(k) != v}
    return Decision(changed=changed, per_channel=per_channel, entries=entries)
