"""Which process this is: the replica name ``imagewatch up --scale`` gives it, the host, the pid.

``IMAGEWATCH_REPLICA`` (``inventory-2``) is set by ``imagewatch up`` for
each process it starts; elsewhere (Kubernetes, compose) the host name (the pod
or container name) tells replicas apart. Every log line carries these, and the
NATS connection is named after the replica.
"""

from __future__ import annotations

import os
import socket

REPLICA_ENV = "IMAGEWATCH_REPLICA"


def replica() -> str:
    """This process's replica name (``inventory-2``), or empty when none was given."""
    return os.environ.get(REPLICA_ENV, "")


def add_identity(_logger, _method: str, event: dict) -> dict:
    """A structlog processor: ``replica`` (when set), ``hostname`` and ``pid`` on every line."""
    name = replica()
    if name:
        event.setdefault("replica", name)
    event.setdefault("hostname", socket.gethostname())
    event.setdefault("pid", os.getpid())
    return event


__all__ = ["REPLICA_ENV", "add_identity", "replica"]
