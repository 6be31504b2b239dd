"""Thin service shells: configure → connect → consume → call the library → publish → ack."""

SERVICES = ("api", "fetcher", "inventory", "secrets", "matcher", "notifier", "updater")
