"""The NATS servers of ``[bus] url``: a comma-separated list, checked, and shown without passwords.

``nats://user:pass@n1:4222,nats://n2:4222`` names every node of a cluster;
the client gets all of them (and learns the others the cluster announces), so
losing the node it is connected to only moves it to another. A password in a
URL is never logged: :func:`redacted` replaces it with ``***``.
"""

from __future__ import annotations

from urllib.parse import urlsplit

SCHEMES = ("nats", "tls", "ws", "wss")


def server_list(url: str) -> list[str]:
    """The servers of a comma-separated ``url`` (blanks dropped); raises ``ValueError`` on a bad one.

    The message never holds a password.
    """
    servers = [part.strip() for part in url.split(",") if part.strip()]
    if not servers:
        raise ValueError("bus.url: no NATS server given")
    for server in servers:
        try:
            parts = urlsplit(server if "://" in server else f"nats://{server}")
            parts.port  # noqa: B018 - raises on a port that is not a number
        except ValueError:
            raise ValueError(f"bus.url: {redacted(server)!r} is not a NATS URL") from None
        if parts.scheme not in SCHEMES:
            raise ValueError(f"bus.url: {redacted(server)!r}: scheme must be one of {', '.join(SCHEMES)}")
        if not parts.hostname:
            raise ValueError(f"bus.url: {redacted(server)!r} names no host")
    return servers


def redacted(url: str) -> str:
    """``url`` (one server or a comma-separated list) with every password replaced by ``***``."""
    out = []
    for server in url.split(","):
        server = server.strip()
        scheme, sep, rest = server.rpartition("://")
        userinfo, at, host = rest.rpartition("@")
        if at and ":" in userinfo:
            rest = userinfo.split(":", 1)[0] + ":***@" + host
        elif at and userinfo:
            rest = "***@" + host  # nats://<token>@host: the token stands where a user would
        out.append(f"{scheme}{sep}{rest}")
    return ",".join(out)


def host_port(parsed) -> str:
    """``host:port`` of a parsed server URL (what a log line may show of a connected server)."""
    if parsed is None:
        return ""
    return f"{parsed.hostname}:{parsed.port}" if parsed.port else str(parsed.hostname)


__all__ = ["SCHEMES", "host_port", "redacted", "server_list"]
