"""The no-repeat rule: alert a finding once per repository and tag, again when its severity rises.

State is a mapping from item key (``AlertFinding.key`` and friends) to the
severity last alerted, per ``repository:tag``; the notifier stores it. Use::

    alert = fresh(alert, state)                 # drop what was already alerted
    per_channel = route(alert, routes)          # nothing passes -> {}
    state = merge_state(state, per_channel.values())   # record only what is sent

in the same transaction as the outbox rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from imagewatch.models import SEVERITY_ORDER
from imagewatch.notify.alert import Alert, AlertItem


def _items(alert: Alert) -> list[AlertItem]:
    return [*alert.findings, *alert.secrets, *alert.misconfigurations]


def _rank(severity: str | None) -> int:
    return SEVERITY_ORDER.get(severity or "", -1)


def is_fresh(item: AlertItem, previous: Mapping[str, str]) -> bool:
    """Whether ``item`` was never alerted, or was alerted at a lower severity."""
    return _rank(item.severity) > _rank(previous.get(item.key))


def fresh(alert: Alert, previous: Mapping[str, str]) -> Alert:
    """The alert holding only items that are new or whose severity rose since last alerted."""
    return alert.with_items(
        (f for f in alert.findings if is_fresh(f, previous)),
        (s for s in alert.secrets if is_fresh(s, previous)),
        (m for m in alert.misconfigurations if is_fresh(m, previous)),
    )


def merge_state(previous: Mapping[str, str], sent: Iterable[Alert]) -> dict[str, str]:
    """The state after sending ``sent``: each key keeps the highest severity alerted."""
    state = dict(previous)
    for alert in sent:
        for item in _items(alert):
            if _rank(item.severity) > _rank(state.get(item.key)):
                state[item.key] = item.severity
    return state
