"""Thin service shells: configure → connect → consume → call the library → publish → ack."""

from imagewatch.cli.services import SERVICES

__all__ = ["SERVICES"]
