"""The notifier's configuration, validated: routes, channel renderers and the API link.

The configuration itself is ``imagewatch.config.NotifierConfig`` (the
``[notifier]`` section); ``load_settings`` validates its channels and routes
(``load_rules``) and builds one renderer per channel.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import msgspec

from imagewatch.config import Config, ConfigError
from imagewatch.notify.channels.base import Channel
from imagewatch.notify.channels.catalog import CHANNEL_KINDS, channels_for
from imagewatch.notify.rules import Rules
from imagewatch.notify.secret import secret_dec_hook


@dataclass(frozen=True)
class Settings:
    """Validated notifier settings; channel URLs stay wrapped in ``Secret``.

    ``show_unreachable`` alerts Go findings whose vulnerable code is not linked
    (``config.reachability.show_unreachable``); by default they are left out.
    """

    notify: Rules
    renderers: dict[str, Channel]
    api_base: str
    show_unreachable: bool = False


def load_rules(section: Mapping[str, object]) -> Rules:
    """Validate the ``notifier`` table of a parsed TOML file; raises ``msgspec.ValidationError``.

    Channel kinds are checked against the channel registry.
    """
    try:
        config = msgspec.convert(section, Rules, dec_hook=secret_dec_hook)
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


def api_base(config: Config) -> str:
    """Where alerts link to: ``notifier.api_base``, else ``api.public_url``, else the local api port."""
    return (config.notifier.api_base or config.api.public_url or f"http://127.0.0.1:{config.api.port}").rstrip("/")


def load_settings(config: Config) -> Settings:
    """Validate channels and routes; raises ``ConfigError`` naming the problem (never a URL)."""
    section = {"channels": config.notifier.channels, "routes": config.notifier.routes}
    try:
        notify = load_rules(section)
        renderers = channels_for(notify)
    except (msgspec.ValidationError, ValueError) as exc:
        raise ConfigError(f"config: {exc}") from None
    return Settings(notify=notify, renderers=renderers, api_base=api_base(config),
                    show_unreachable=config.reachability.show_unreachable)
