"""Notifier configuration and routing: which findings go to which channel.

Configuration, in the service's TOML config section::

    [[notifier.channels]]
    name = "ops"
    kind = "slack"     # slack | teams | mattermost | discord | googlechat | webhook
    url = "https://hooks.slack.com/services/..."   # a secret: never logged
    # secret = "..."   # webhook only: HMAC-SHA256 signing key

    [[notifier.routes]]
    repositories = ["team-a/*"]   # globs on repository, or registry/repository
    min_severity = "high"
    only_fixable = false          # applies to vulnerabilities only
    kinds = ["vulnerability", "secret", "misconfiguration"]
    channels = ["ops"]

``route`` returns, per channel name, the alert filtered for that channel (a
channel named by several matching routes gets the union); a channel whose
filtered alert is empty is left out, so nothing passing means nothing sent.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from fnmatch import fnmatchcase
from typing import Literal

import msgspec

from imagewatch.models import SEVERITY_ORDER, Severity
from imagewatch.notify.alert import Alert, AlertFinding, AlertMisconfiguration, AlertSecret, ImageRef
from imagewatch.notify.secret import Secret, secret_dec_hook

Kind = Literal["vulnerability", "secret", "misconfiguration"]
ALL_KINDS: list[Kind] = ["vulnerability", "secret", "misconfiguration"]


class ChannelConfig(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """One ``[[notifier.channels]]`` entry; ``url`` and ``secret`` never print."""

    name: str
    kind: str
    url: Secret
    secret: Secret | None = None

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError("notifier: a channel needs a name")
        if not self.url.reveal().startswith(("https://", "http://")):
            raise ValueError(f"notifier: channel {self.name!r} url must be http(s)")


class RouteConfig(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """One ``[[notifier.routes]]`` entry: which images and findings go to which channels."""

    repositories: list[str] = msgspec.field(default_factory=lambda: ["*"])
    min_severity: Severity = "unknown"
    only_fixable: bool = False
    kinds: list[Kind] = msgspec.field(default_factory=lambda: list(ALL_KINDS))
    channels: list[str]

    def __post_init__(self) -> None:
        if not self.channels:
            raise ValueError("notifier: a route needs at least one channel")

    def matches(self, image: ImageRef) -> bool:
        """Whether the image's repository (or registry/repository) matches a glob."""
        full = f"{image.registry}/{image.repository}"
        return any(fnmatchcase(image.repository, g) or fnmatchcase(full, g) for g in self.repositories)

    def passes(self, item: AlertFinding | AlertSecret | AlertMisconfiguration) -> bool:
        """Whether one item passes this route's kind, severity and fixable filters."""
        if SEVERITY_ORDER[item.severity] < SEVERITY_ORDER[self.min_severity]:
            return False
        if isinstance(item, AlertFinding):
            return "vulnerability" in self.kinds and (item.fixable or not self.only_fixable)
        if isinstance(item, AlertSecret):
            return "secret" in self.kinds
        return "misconfiguration" in self.kinds


class NotifierConfig(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """The ``[notifier]`` section: channels and routes, cross-checked on load."""

    channels: list[ChannelConfig] = []
    routes: list[RouteConfig] = []

    def __post_init__(self) -> None:
        names: set[str] = set()
        for ch in self.channels:
            if ch.name in names:
                raise ValueError(f"notifier: duplicate channel name {ch.name!r}")
            names.add(ch.name)
        for r in self.routes:
            unknown = [c for c in r.channels if c not in names]
            if unknown:
                raise ValueError(f"notifier: route names unknown channels {unknown}")

    def channel(self, name: str) -> ChannelConfig:
        """The configured channel called ``name``."""
        return next(c for c in self.channels if c.name == name)


def load_config(section: Mapping[str, object]) -> NotifierConfig:
    """Validate the ``notifier`` table of a parsed TOML file; raises ``msgspec.ValidationError``.

    Channel kinds are checked against the channel registry.
    """
    from imagewatch.notify.channels.catalog import CHANNEL_KINDS

    try:
        config = msgspec.convert(section, NotifierConfig, dec_hook=secret_dec_hook)
    except msgspec.ValidationError as exc:
        text = str(exc)
        raise msgspec.ValidationError(text if text.startswith("notifier:") else f"notifier: {text}") from None
    for ch in config.channels:
        if ch.kind not in CHANNEL_KINDS:
            raise msgspec.ValidationError(
                f"notifier: channel {ch.name!r} has unknown kind {ch.kind!r}; known: {sorted(CHANNEL_KINDS)}"
            )
        if ch.kind == "webhook" and not ch.secret:
            raise msgspec.ValidationError(f"notifier: webhook channel {ch.name!r} needs a signing secret")
    return config


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
