"""The Jinja2 environment of the dashboard: package templates, autoescaping for every template."""

from __future__ import annotations

from datetime import datetime, timezone
from functools import cache
from typing import Any
from urllib.parse import quote

from jinja2 import ChainableUndefined, Environment, PackageLoader

from imagewatch.dashboard.views import display_id, other_ids, preview


def short_digest(value: str | None) -> str:
    """``sha256:0123456789ab`` (the algorithm and 12 hex digits)."""
    if not value:
        return ""
    algo, _, hexpart = value.partition(":")
    return f"{algo}:{hexpart[:12]}" if hexpart else value[:19]


def when(value: datetime | str | None) -> str:
    """A UTC time as ``2026-12-07 12:55 UTC``."""
    if value is None or value == "":
        return "—"
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def size(value: int | None) -> str:
    """Bytes in B, KiB, MiB or GiB."""
    n = float(value or 0)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GiB"


def seconds(value: float | None) -> str:
    """Seconds with a sensible precision, or a dash."""
    if value is None:
        return "—"
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.1f} s"


def seg(value: str) -> str:
    """One URL path segment: everything percent-encoded but letters, digits, ``-._~:@``."""
    return quote(str(value), safe=":@")


@cache
def environment() -> Environment:
    """The one Environment: templates from the package, every one autoescaped; a missing optional field renders empty."""
    env = Environment(loader=PackageLoader("imagewatch.dashboard", "templates"), autoescape=True,
                      undefined=ChainableUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters.update(seg=seg, short_digest=short_digest, when=when, size=size, seconds=seconds,
                       display_id=display_id, other_ids=other_ids, preview=preview)
    return env


def render(template: str, **context: Any) -> str:
    """Render one page."""
    return environment().get_template(template).render(**context)
