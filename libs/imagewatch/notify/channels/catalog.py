"""The one list of chat channel kinds, and channels built from configuration.

Add a service by writing its module and appending its class to ``_kinds()``;
a duplicate ``kind`` raises ``CatalogError``.
"""

from __future__ import annotations

from imagewatch.notify.channels.base import Channel
from imagewatch.notify.rules import ChannelConfig, Rules
from imagewatch.notify.channels.discord import DiscordChannel
from imagewatch.notify.channels.googlechat import GoogleChatChannel
from imagewatch.notify.channels.mattermost import MattermostChannel
from imagewatch.notify.channels.slack import SlackChannel
from imagewatch.notify.channels.teams import TeamsChannel
from imagewatch.notify.channels.webhook import WebhookChannel
from imagewatch.errors import ImagewatchError


class CatalogError(ImagewatchError, ValueError):
    """The channel registry is inconsistent (duplicate kind)."""


def _kinds() -> list[type]:
    return [SlackChannel, TeamsChannel, MattermostChannel, DiscordChannel, GoogleChatChannel, WebhookChannel]


def check_unique(kinds: list[type]) -> dict[str, type]:
    """Map each class's ``kind`` to the class; raise ``CatalogError`` on a duplicate kind."""
    table: dict[str, type] = {}
    for cls in kinds:
        if cls.kind in table:
            raise CatalogError(f"notify: duplicate channel kind {cls.kind!r}")
        table[cls.kind] = cls
    return table


CHANNEL_KINDS: dict[str, type] = check_unique(_kinds())


def channel_for(config: ChannelConfig) -> Channel:
    """The renderer for one configured channel."""
    try:
        cls = CHANNEL_KINDS[config.kind]
    except KeyError:
        raise CatalogError(f"notify: unknown channel kind {config.kind!r}") from None
    return cls.from_config(config)


def channels_for(config: Rules) -> dict[str, Channel]:
    """A renderer per configured channel name."""
    return {c.name: channel_for(c) for c in config.channels}
