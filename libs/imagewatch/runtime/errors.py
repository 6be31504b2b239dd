"""Errors that carry control flow for message handlers.

::

    HandlerError
    ├── Retry      transient: nak and redeliver after ``delay`` seconds
    └── Permanent  the message can never succeed: dead-letter it at once
"""

from __future__ import annotations
from imagewatch.errors import ImagewatchError


class HandlerError(ImagewatchError):
    """Base of the errors a handler raises to steer delivery."""


class Retry(HandlerError):
    """A transient failure: redeliver after ``delay`` seconds (until max_deliver)."""

    def __init__(self, reason: str, delay: float | None = None) -> None:
        super().__init__(reason)
        self.delay = delay


class Permanent(HandlerError):
    """A failure that redelivery cannot fix: the message goes to the dead-letter subject."""
