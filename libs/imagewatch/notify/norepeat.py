"""The no-repeat rule: alert a finding once per repository and tag, again when its severity rises
or when it becomes known exploited (listed in CISA KEV).

State is a mapping from item key (``AlertFinding.key`` and friends) to the
severity last alerted, with ``+kev`` appended once it was alerted as known
exploited, per ``repository:tag``; the notifier stores it. Use::

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


KEV_MARK = "+kev"


def _split(value: str | None) -> tuple[str | None, bool]:
    if value is None:
        return None, False
    return value.removesuffix(KEV_MARK), value.endswith(KEV_MARK)


def _rank(severity: str | None) -> int:
    return SEVERITY_ORDER.get(severity or "", -1)


def _kev(item: AlertItem) -> bool:
    return bool(getattr(item, "kev", False))


def state_value(item: AlertItem) -> str:
    """What the state records for an alerted item: its severity, ``+kev`` when known exploited."""
    return item.severity + (KEV_MARK if _kev(item) else "")


def is_fresh(item: AlertItem, previous: Mapping[str, str]) -> bool:
    """Whether ``item`` was never alerted, was alerted at a lower severity, or is newly known exploited."""
    severity, kev = _split(previous.get(item.key))
    return _rank(item.severity) > _rank(severity) or (_kev(item) and not kev)


def fresh(alert: Alert, previous: Mapping[str, str]) -> Alert:
    """The alert holding only items that are new or whose severity rose since last alerted."""
    return alert.with_items(
        (f for f in alert.findings if is_fresh(f, previous)),
        (s for s in alert.secrets if is_fresh(s, previous)),
        (m for m in alert.misconfigurations if is_fresh(m, previous)),
    )


def merge_state(previous: Mapping[str, str], sent: Iterable[Alert]) -> dict[str, str]:
    """The state after sending ``sent``: each key keeps the highest severity alerted, and the KEV mark once alerted."""
    state = dict(previous)
    for alert in sent:
        for item in _items(alert):
            severity, kev = _split(state.get(item.key))
            best = item.severity if _rank(item.severity) > _rank(severity) else severity
            state[item.key] = (best or item.severity) + (KEV_MARK if kev or _kev(item) else "")
    return state
