"""The one list of chat channel kinds, and channels built from configuration.

Add a service by writing its module and appending its class to ``_kinds()``;
a duplicate ``kind`` raises ``RegistryError``.
"""

from __future__ import annotations

from .base import Channel
from ..routing import ChannelConfig, NotifierConfig
from .discord import DiscordChannel
from .googlechat import GoogleChatChannel
from .mattermost import MattermostChannel
from .slack import SlackChannel
from .teams import TeamsChannel
from .webhook import WebhookChannel


class RegistryError(ValueError):
    """The channel registry is inconsistent (duplicate kind)."""


def _kinds() -> list[type]:
    return [SlackChannel, TeamsChannel, MattermostChannel, DiscordChannel, GoogleChatChannel, WebhookChannel]


def check_unique(kinds: list[type]) -> dict[str, type]:
    """Map each class's ``kind`` to the class; raise ``RegistryError`` on a duplicate kind."""
    table: dict[str, type] = {}
    for cls in kinds:
        if cls.kind in table:
            raise RegistryError(f"notify: duplicate channel kind {cls.kind!r}")
        table[cls.kind] = cls
    return table


CHANNEL_KINDS: dict[str, type] = check_unique(_kinds())


def channel_for(config: ChannelConfig) -> Channel:
    """The renderer for one configured channel."""
    try:
        cls = CHANNEL_KINDS[config.kind]
    except KeyError:
        raise RegistryError(f"notify: unknown channel kind {config.kind!r}") from None
    return cls.from_config(config)


def channels_for(config: NotifierConfig) -> dict[str, Channel]:
    """A renderer per configured channel name."""
    return {c.name: channel_for(c) for c in config.channels}
