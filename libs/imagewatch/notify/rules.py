"""The notifier's channel and route tables, validated: ``ChannelConfig``, ``RouteConfig``, ``Rules``.

The ``[notifier]`` section itself (these tables raw, plus the delivery
settings) is ``imagewatch.config.NotifierConfig``, the one definition of the
notifier's configuration; ``imagewatch.notify.settings.load_rules`` turns its
``channels`` and ``routes`` into a ``Rules``. This module sits below
``routing`` and ``channels`` (both import it) and imports neither.

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
    kinds = ["vulnerability", "secret", "misconfiguration", "malware"]
    channels = ["ops"]
"""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import Literal

import msgspec

from imagewatch.models import SEVERITY_ORDER, Severity
from imagewatch.notify.alert import AlertFinding, AlertMisconfiguration, AlertSecret, ImageRef
from imagewatch.notify.secret import Secret

Kind = Literal["vulnerability", "secret", "misconfiguration", "malware"]
ALL_KINDS: list[Kind] = ["vulnerability", "secret", "misconfiguration", "malware"]


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
            return item.kind in self.kinds
        return "misconfiguration" in self.kinds


class Rules(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """The ``channels`` and ``routes`` of the ``[notifier]`` section, typed and cross-checked."""

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
