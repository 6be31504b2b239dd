"""The notifier's configuration, validated: routes, channel renderers and the API link."""

from __future__ import annotations

from dataclasses import dataclass

import msgspec

from imagewatch.config import Config, ConfigError
from imagewatch.notify.channels.base import Channel
from imagewatch.notify.channels.catalog import channels_for
from imagewatch.notify.routing import NotifierConfig, load_config


@dataclass(frozen=True)
class Settings:
    """Validated notifier settings; channel URLs stay wrapped in ``Secret``."""

    notify: NotifierConfig
    renderers: dict[str, Channel]
    api_base: str


def api_base(config: Config) -> str:
    """Where alerts link to: ``notifier.api_base``, else ``api.public_url``, else the local api port."""
    return (config.notifier.api_base or config.api.public_url or f"http://127.0.0.1:{config.api.port}").rstrip("/")


def load_settings(config: Config) -> Settings:
    """Validate channels and routes; raises ``ConfigError`` naming the problem (never a URL)."""
    section = {"channels": config.notifier.channels, "routes": config.notifier.routes}
    try:
        notify = load_config(section)
        renderers = channels_for(notify)
    except (msgspec.ValidationError, ValueError) as exc:
        raise ConfigError(f"config: {exc}") from None
    return Settings(notify=notify, renderers=renderers, api_base=api_base(config))
