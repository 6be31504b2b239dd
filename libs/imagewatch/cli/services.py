"""The one list of imagewatch services (``imagewatch up`` and ``imagewatch_services`` both read it)."""

from __future__ import annotations

SERVICES = ("api", "fetcher", "inventory", "secrets", "matcher", "notifier", "updater")
"""Every service ``imagewatch up`` may start, in start order."""

__all__ = ["SERVICES"]
