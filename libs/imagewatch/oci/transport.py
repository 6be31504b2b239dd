"""HTTP exchanges with retries: connection errors, 5xx and 429 are retried with backoff.

Every request and every redirect hop is judged by the egress policy
(:mod:`imagewatch.oci.egress`) first; redirects are followed here, never by
aiohttp, and a hop to another origin loses the ``Authorization`` header.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Awaitable, Callable, Mapping
from urllib.parse import urlsplit

import aiohttp
import msgspec

from imagewatch.oci.errors import (
    BlobTooLarge,
    Forbidden,
    NotFound,
    RateLimited,
    RegistryUnavailable,
    Unauthorized,
    UnexpectedResponse,
)
from imagewatch.oci.egress import MAX_REDIRECTS, EgressPolicy, EgressRefused, redirect_target, same_origin
from imagewatch.oci.limits import RegistryLimits
from imagewatch.oci.tls import ssl_for
from imagewatch.oci.retry import RETRY_STATUSES, backoff_delay, retry_after

Sleep = Callable[[float], Awaitable[object]]
CONNECTION_ERRORS = (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError, asyncio.TimeoutError)
REDIRECTS = frozenset({301, 302, 303, 307, 308})


class Transport:
    """Sends requests through one aiohttp session and retries transient failures."""

    def __init__(self, session: aiohttp.ClientSession, limits: RegistryLimits, sleep: Sleep,
                 policy: EgressPolicy | None = None, insecure: bool = False) -> None:
        self.session = session
        self.policy = policy or EgressPolicy()
        self.insecure = insecure
        self.limits = limits
        self.sleep = sleep
        self._timeout = aiohttp.ClientTimeout(
            total=None, connect=limits.connect_timeout, sock_read=limits.read_timeout
        )

    def _ssl(self, url: str) -> ssl.SSLContext | bool:
        if not url.startswith("https:"):
            return True
        return ssl_for(urlsplit(url).netloc, self.insecure)

    async def wait(self, attempt: int, after: float | None = None) -> None:
        """Sleep before retry number ``attempt``: ``after`` seconds or the backoff."""
        if after is None:
            after = backoff_delay(attempt, self.limits.backoff_base, self.limits.backoff_max)
        await self.sleep(after)

    async def send(
        self, method: str, url: str, headers: Mapping[str, str], what: str, data: bytes | None = None
    ) -> aiohttp.ClientResponse:
        """The first response that is not a retryable failure or a redirect; the caller releases it.

        Raises EgressRefused before any request the policy forbids,
        RegistryUnavailable / RateLimited when the retries run out, and
        RegistryUnavailable at once when TLS fails (a plain-HTTP registry asked
        over HTTPS is named as such, with the fix).
        """
        headers = dict(headers)
        for _hop in range(MAX_REDIRECTS + 1):
            await self.policy.check_url(url)
            response = await self._send_once(method, url, headers, what, data)
            location = response.headers.get("Location")
            if response.status not in REDIRECTS or not location:
                return response
            response.release()
            target = redirect_target(self.policy, url, location)
            if not same_origin(url, target):
                headers.pop("Authorization", None)
            url = target
        raise EgressRefused(f"{what}: more than {MAX_REDIRECTS} redirects")

    async def _send_once(
        self, method: str, url: str, headers: Mapping[str, str], what: str, data: bytes | None = None
    ) -> aiohttp.ClientResponse:
        for attempt in range(self.limits.retries + 1):
            last = attempt == self.limits.retries
            try:
                response = await self.session.request(method, url, headers=headers, data=data,
                                                      timeout=self._timeout, ssl=self._ssl(url),
                                                      allow_redirects=False)
            except aiohttp.ClientSSLError as exc:
                raise RegistryUnavailable(tls_failure(url, exc)) from None
            except CONNECTION_ERRORS as exc:
                if last:
                    raise RegistryUnavailable(f"{what}: {url} unreachable: {exc!r}") from exc
                await self.wait(attempt)
                continue
            if response.status not in RETRY_STATUSES:
                return response
            after = retry_after(response.headers.get("Retry-After"), self.limits.retry_after_max)
            response.release()
            if last:
                error = RateLimited if response.status == 429 else RegistryUnavailable
                raise error(f"{what}: {url} answered {response.status} after {attempt + 1} attempts")
            await self.wait(attempt, after)
        raise AssertionError("unreachable")


_PLAIN_HTTP_SIGNS = ("wrong version number", "record layer failure", "http request", "unknown protocol",
                     "packet length too long")


def tls_failure(url: str, exc: BaseException) -> str:
    """One actionable line for a TLS handshake that failed; plain HTTP answering HTTPS is named."""
    host = urlsplit(url).netloc
    text = str(exc).lower()
    if any(sign in text for sign in _PLAIN_HTTP_SIGNS):
        return (f"registry: {host} answered plain HTTP; add it to IMAGEWATCH_INSECURE_REGISTRIES "
                f"or use --insecure (asked {url})")
    return (f"registry: TLS with {host} failed ({exc}); give its CA with IMAGEWATCH_REGISTRY_CA_DIR "
            f"(host:port/ca.crt) or SSL_CERT_FILE, or use --insecure (asked {url})")


async def read_limited(response: aiohttp.ClientResponse, limit: int, what: str) -> bytes:
    """The whole body, refusing more than ``limit`` bytes."""
    declared = response.content_length
    if declared is not None and declared > limit:
        raise BlobTooLarge(f"{what} is {declared} bytes, over the limit of {limit}")
    body = bytearray()
    async for chunk in response.content.iter_chunked(64 * 1024):
        body += chunk
        if len(body) > limit:
            raise BlobTooLarge(f"{what} exceeds the limit of {limit} bytes")
    return bytes(body)


class _ErrorBody(msgspec.Struct):
    errors: list[dict] = []


async def raise_for_status(response: aiohttp.ClientResponse, what: str) -> None:
    """Map a non-2xx response to the registry error for its status."""
    if response.status < 300:
        return
    detail = ""
    try:
        body = msgspec.json.decode(await response.content.read(64 * 1024), type=_ErrorBody)
        detail = "; ".join(
            f"{e.get('code', '')}: {e.get('message', '')}".strip(": ") for e in body.errors
        )
    except (msgspec.DecodeError, *CONNECTION_ERRORS):
        pass
    message = f"{what}: {response.status} {response.reason}" + (f" ({detail})" if detail else "")
    match response.status:
        case 401:
            raise Unauthorized(message)
        case 403:
            raise Forbidden(message)
        case 404:
            raise NotFound(message)
        case _:
            raise UnexpectedResponse(message, response.status)
