"""TLS per registry host: extra CA files (Docker's ``certs.d`` layout) and ``--insecure``.

A host's CA certificates are read from ``<dir>/<host[:port]>/*.crt`` for each
directory of ``IMAGEWATCH_REGISTRY_CA_DIR`` (``os.pathsep``-separated), else
``/etc/docker/certs.d`` and ``/etc/containers/certs.d``, as Docker and
Podman do; they are trusted besides the system store. ``insecure`` turns
certificate verification off (``--insecure``); plain HTTP is a separate
choice (``insecure_registries``, or the client's fallback under ``--insecure``).
"""

from __future__ import annotations

import os
import ssl
from functools import lru_cache
from pathlib import Path

DEFAULT_CA_DIRS = ("/etc/docker/certs.d", "/etc/containers/certs.d")


def ca_dirs() -> list[Path]:
    """The directories searched for per-registry CA files."""
    configured = os.environ.get("IMAGEWATCH_REGISTRY_CA_DIR", "")
    return [Path(p) for p in (configured.split(os.pathsep) if configured else DEFAULT_CA_DIRS) if p]


def ca_files(host: str) -> list[Path]:
    """The ``*.crt`` files configured for ``host`` (``host:port`` as the registry is addressed)."""
    found: list[Path] = []
    for directory in ca_dirs():
        folder = directory / host
        if folder.is_dir():
            found += sorted(p for p in folder.glob("*.crt") if p.is_file())
    return found


@lru_cache(maxsize=64)
def _context(files: tuple[str, ...]) -> ssl.SSLContext:
    context = ssl.create_default_context()
    for name in files:
        context.load_verify_locations(cafile=name)
    return context


def ssl_for(host: str, insecure: bool = False) -> ssl.SSLContext | bool:
    """What aiohttp's ``ssl=`` gets for ``host``: False (no verification), a context with its CAs, or True."""
    if insecure:
        return False
    files = ca_files(host)
    return _context(tuple(map(str, files))) if files else True
