"""Service logging with structlog: JSON lines in production, console on a terminal.

``merge_contextvars`` runs first, so ``bind_message(msg_id=..., image_digest=...)``
puts the message id and image digest on every line logged while handling it;
then the process's identity (``replica``, ``hostname``, ``pid``, see
:mod:`imagewatch.runtime.identity`) is added, which no ``bind_message`` clears.
"""

from __future__ import annotations

import logging
import sys

import structlog

from imagewatch.runtime.identity import add_identity


def configure(fmt: str = "auto", level: str = "info", stream=None) -> None:
    """Configure structlog and stdlib logging once per process."""
    stream = stream or sys.stderr
    if fmt == "auto":
        fmt = "console" if stream.isatty() else "json"
    renderer = (
        structlog.dev.ConsoleRenderer(colors=stream.isatty())
        if fmt == "console"
        else structlog.processors.JSONRenderer()
    )
    lvl = logging.getLevelName(level.upper())
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            add_identity,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(lvl if isinstance(lvl, int) else logging.INFO),
        logger_factory=structlog.PrintLoggerFactory(stream),
        cache_logger_on_first_use=False,
    )
    logging.basicConfig(level=logging.WARNING, stream=stream)


def get_logger(name: str):
    """A structlog logger carrying ``component=name``.

    It stays lazy: created at import time, it still follows a later ``configure``.
    """
    return structlog.get_logger(component=name)


def bind_message(**values) -> None:
    """Bind values (message id, image digest) to every log line of the current task."""
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(**values)
