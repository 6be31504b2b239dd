"""Logging: JSON lines with the message context, even for loggers created before configure()."""

from __future__ import annotations

import io
import json

import structlog

from imagewatch.runtime.logs import bind_message, configure, get_logger

early = get_logger("early")


def test_json_lines_with_bound_message_context():
    stream = io.StringIO()
    configure("json", "info", stream=stream)
    try:
        bind_message(msg_id="m-1", image_digest="sha256:abc")
        early.info("handled", outcome="ok")
        line = json.loads(stream.getvalue().splitlines()[-1])
        assert line["event"] == "handled" and line["component"] == "early"
        assert line["msg_id"] == "m-1" and line["image_digest"] == "sha256:abc"
        assert line["level"] == "info" and "timestamp" in line
    finally:
        structlog.contextvars.clear_contextvars()
        structlog.reset_defaults()
