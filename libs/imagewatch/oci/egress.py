"""The egress policy: which hosts a registry call may reach, over which scheme, with what.

Every registry call (the fetcher, admission's lookups, ``imagewatch scan``)
goes through :class:`~imagewatch.oci.transport.Transport`, which asks this
policy before each request and each redirect hop:

* A host is *configured* when it is listed in ``insecure_registries``, has
  credentials, or matches a glob of ``[fetcher] allowed_registries`` (globs
  match ``host`` or ``host:port``).
* An address that is not public (loopback, RFC 1918 and ULA private ranges,
  link-local, CGNAT 100.64/10, unspecified, multicast, reserved, documentation
  ranges; IPv4 inside IPv6 as v4-mapped, NAT64 or 6to4 is judged as the IPv4
  address) is refused after DNS resolution unless the host is configured.
  Cloud metadata addresses are refused even then.
* Plain HTTP only to hosts in ``insecure_registries``; redirects are followed
  only to https (or to such a host), never to a refused address, and drop the
  ``Authorization`` header when they leave the host it was meant for.
* Token realms must be https or a host in ``insecure_registries``;
  credentials go to a realm only on the registry's own host name, the
  registry's well-known token service (Docker Hub), or a host listed in
  ``allowed_registries``.

The check before the request catches literal IP addresses and names that
resolve inward; :class:`PolicyResolver`, installed in every session made by
:func:`client_session`, re-applies it to the addresses the connection really
uses, so a name that answers differently the second time (DNS rebinding)
gains nothing.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from urllib.parse import urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver
from yarl import URL

from imagewatch.oci.errors import RegistryError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

METADATA_ADDRESSES = frozenset(ipaddress.ip_address(a) for a in (
    "169.254.169.254",  # AWS, GCP, Azure, OpenStack, DigitalOcean
    "169.254.170.2",  # AWS ECS task metadata
    "100.100.100.200",  # Alibaba Cloud
    "fd00:ec2::254",  # AWS IPv6
))
METADATA_NAMES = frozenset({"metadata", "metadata.google.internal", "metadata.goog", "instance-data"})
_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
# registry API host -> token services it may legitimately send its users to
KNOWN_REALMS: dict[str, frozenset[str]] = {"registry-1.docker.io": frozenset({"auth.docker.io"})}
MAX_REDIRECTS = 5


class EgressRefused(RegistryError):
    """The egress policy forbids this request (address, scheme, redirect or realm); permanent."""


def embedded_ipv4(ip: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries (v4-mapped, NAT64, 6to4), if any."""
    if not isinstance(ip, ipaddress.IPv6Address):
        return None
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return ip.sixtofour


def is_metadata(ip: IPAddress) -> bool:
    """True for cloud instance metadata endpoints (also inside IPv6)."""
    inner = embedded_ipv4(ip)
    return ip in METADATA_ADDRESSES or (inner is not None and inner in METADATA_ADDRESSES)


def is_public(ip: IPAddress) -> bool:
    """True only for globally routable unicast addresses (judged on the embedded IPv4 when there is one)."""
    inner = embedded_ipv4(ip)
    if inner is not None:
        return is_public(inner)
    if ip.is_multicast or ip.is_unspecified or ip.is_loopback or ip.is_link_local or ip.is_reserved:
        return False
    if isinstance(ip, ipaddress.IPv4Address) and ip in _CGNAT:
        return False
    return ip.is_global and not ip.is_private


def split_host(host: str) -> tuple[str, int | None]:
    """``host[:port]`` (IPv6 in brackets) -> (host without brackets, port or None)."""
    parts = urlsplit(f"//{host}")
    try:
        port = parts.port
    except ValueError:
        raise EgressRefused(f"egress: invalid host {host!r}") from None
    return (parts.hostname or ""), port


def _host_key(hostname: str, port: int | None) -> str:
    name = f"[{hostname}]" if ":" in hostname else hostname
    return f"{name}:{port}" if port else name


def _literal(hostname: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(hostname)
    except ValueError:
        return None


@dataclass(frozen=True)
class EgressPolicy:
    """Which registry hosts may be reached and how; see the module docstring.

    ``insecure`` are ``host[:port]`` reached over plain HTTP, ``credential_hosts``
    the hosts with credentials, ``allowed`` globs of further trusted hosts.
    """

    insecure: frozenset[str] = frozenset()
    credential_hosts: frozenset[str] = frozenset()
    allowed: tuple[str, ...] = ()
    _lower: frozenset[str] = field(default=frozenset(), init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        names = {h.lower() for h in (*self.insecure, *self.credential_hosts)}
        object.__setattr__(self, "_lower", frozenset(names))

    @classmethod
    def of(cls, insecure: Iterable[str] = (), credential_hosts: Iterable[str] = (),
           allowed: Iterable[str] = ()) -> EgressPolicy:
        """A policy from plain iterables."""
        return cls(frozenset(insecure), frozenset(credential_hosts), tuple(allowed))

    def configured(self, host: str) -> bool:
        """Whether ``host`` (``host[:port]``) was named by the operator."""
        host = host.lower()
        hostname, port = split_host(host)
        candidates = {host, _host_key(hostname, port), hostname, _host_key(hostname, None)}
        if candidates & self._lower:
            return True
        return any(fnmatchcase(c, g.lower()) for c in candidates for g in self.allowed)

    def plain_http(self, host: str) -> bool:
        """Whether ``host`` is reached over plain HTTP (listed in ``insecure_registries``)."""
        return host in self.insecure or host.lower() in {h.lower() for h in self.insecure}

    def judge_addresses(self, host: str, addresses: Iterable[IPAddress]) -> None:
        """Raise EgressRefused unless every address may be reached for ``host``."""
        trusted = self.configured(host)
        for ip in addresses:
            if is_metadata(ip):
                raise EgressRefused(f"egress: {host} resolves to a cloud metadata address; refused")
            if not trusted and not is_public(ip):
                raise EgressRefused(
                    f"egress: {host} resolves to a non-public address ({ip}); refused unless the registry "
                    "is configured (fetcher.insecure_registries, credentials or allowed_registries)")

    async def check_host(self, host: str, default_port: int = 443) -> None:
        """Resolve ``host`` (``host[:port]``) and judge every address it has."""
        hostname, port = split_host(host)
        if not hostname:
            raise EgressRefused(f"egress: invalid host {host!r}")
        if hostname.lower().rstrip(".") in METADATA_NAMES:
            raise EgressRefused(f"egress: {host} is a cloud metadata service; refused")
        literal = _literal(hostname)
        if literal is not None:
            self.judge_addresses(host, [literal])
            return
        loop = asyncio.get_running_loop()
        try:
            infos = await loop.getaddrinfo(hostname, port or default_port, type=socket.SOCK_STREAM)
        except OSError:
            return  # unresolvable: the connection attempt fails on its own with the usual error
        self.judge_addresses(host, [ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos])

    async def check_url(self, url: str) -> None:
        """Judge a URL about to be requested: scheme and the addresses of its host."""
        parts = urlsplit(url)
        host = parts.netloc.rpartition("@")[2]
        if parts.scheme == "http":
            if not self.plain_http(host):
                raise EgressRefused(f"egress: plain http to {host} refused (not in insecure_registries)")
        elif parts.scheme != "https":
            raise EgressRefused(f"egress: scheme {parts.scheme!r} refused")
        await self.check_host(host, 80 if parts.scheme == "http" else 443)

    def check_realm(self, registry_host: str, realm: str) -> str:
        """Validate a bearer ``realm``; return its ``host[:port]``. Raises EgressRefused."""
        parts = urlsplit(realm)
        host = parts.netloc.rpartition("@")[2]
        if not host or "@" in parts.netloc:
            raise EgressRefused(f"egress: token realm of {registry_host} is not a plain URL; refused")
        if parts.scheme == "https":
            return host
        if parts.scheme == "http" and self.plain_http(host):
            return host
        raise EgressRefused(f"egress: token realm of {registry_host} is not https; refused")

    def may_send_credentials(self, registry_host: str, target_host: str) -> bool:
        """Whether credentials of ``registry_host`` may go to ``target_host`` (a token realm).

        Only to the same host name (any port: distribution's token server often
        listens beside the registry), the registry's well-known token service, or
        a host the operator listed in ``allowed_registries``; being reachable
        (``insecure_registries``, own credentials) is not enough.
        """
        reg_name, _ = split_host(registry_host.lower())
        target_name, target_port = split_host(target_host.lower())
        if target_name == reg_name or target_name in KNOWN_REALMS.get(registry_host.lower(), frozenset()):
            return True
        candidates = {target_host.lower(), target_name, _host_key(target_name, target_port)}
        return any(fnmatchcase(c, g.lower()) for c in candidates for g in self.allowed)


def redirect_target(policy: EgressPolicy, current: str, location: str) -> str:
    """The absolute URL of a redirect, refused unless https (or an insecure registry)."""
    target = str(URL(current).join(URL(location)))
    parts = urlsplit(target)
    host = parts.netloc.rpartition("@")[2]
    if "@" in parts.netloc:
        raise EgressRefused("egress: redirect to a URL with user info refused")
    if parts.scheme == "https" or (parts.scheme == "http" and policy.plain_http(host)):
        return target
    raise EgressRefused(f"egress: redirect from {urlsplit(current).netloc} to {parts.scheme}://{host} refused "
                        "(only https)")


def same_origin(a: str, b: str) -> bool:
    """Whether two URLs share scheme, host and port (where an Authorization header may follow)."""
    pa, pb = urlsplit(a), urlsplit(b)
    return (pa.scheme, pa.hostname, pa.port) == (pb.scheme, pb.hostname, pb.port)


class PolicyResolver(AbstractResolver):
    """An aiohttp resolver that drops addresses the egress policy refuses for the host."""

    def __init__(self, policy: EgressPolicy, inner: AbstractResolver | None = None) -> None:
        self.policy = policy
        self.inner = inner or DefaultResolver()

    async def resolve(self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET,
                      ) -> list[ResolveResult]:
        """The resolved addresses, refused (OSError) when any is forbidden."""
        if host.lower().rstrip(".") in METADATA_NAMES:
            raise OSError(f"egress: {host} is a cloud metadata service; refused")
        found = await self.inner.resolve(host, port, family)
        key = _host_key(host, port if port not in (80, 443) else None)
        try:
            self.policy.judge_addresses(key, [ipaddress.ip_address(r["host"].split("%")[0]) for r in found])
        except EgressRefused as exc:
            raise OSError(str(exc)) from None
        return found

    async def close(self) -> None:
        """Close the wrapped resolver."""
        await self.inner.close()


def client_session(policy: EgressPolicy, **kwargs) -> aiohttp.ClientSession:
    """An aiohttp session whose connections resolve names through :class:`PolicyResolver`."""
    connector = aiohttp.TCPConnector(resolver=PolicyResolver(policy))
    return aiohttp.ClientSession(connector=connector, **kwargs)


def policy_for(insecure: Collection[str], credential_hosts: Collection[str] = (),
               allowed: Collection[str] = ()) -> EgressPolicy:
    """The policy from the fetcher's settings (``docker.io`` credentials also cover its API host)."""
    hosts = set(credential_hosts)
    if "docker.io" in hosts:
        hosts.add("registry-1.docker.io")
    return EgressPolicy.of(insecure, hosts, allowed)
