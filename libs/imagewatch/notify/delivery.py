"""Posting one rendered request and classifying the outcome for the dispatcher.

``deliver`` never raises for an HTTP or network failure: it returns a
``DeliveryResult`` that says whether the message arrived (``ok``), should be
tried again (``retry``, with the delay a ``429`` asked for), or never will
(``permanent``: a 4xx other than 408/425/429, a redirect). The webhook URL is
a secret: results and errors only ever name ``scheme://host/…``.
"""

from __future__ import annotations

import asyncio
import email.utils
import random
import time
from collections.abc import Callable
from typing import Literal
from urllib.parse import urlsplit

import aiohttp
import msgspec

from imagewatch.notify.outbound import OutboundRequest
from imagewatch.notify.signing import SIGNATURE_HEADER, sign

Outcome = Literal["ok", "retry", "permanent"]
RETRYABLE_4XX = {408, 425, 429}
ERROR_BODY_CHARS = 200
MAX_ERROR_BODY = 4096  # bytes of an error response ever read
DEFAULT_TIMEOUT = 15.0
USER_AGENT = "imagewatch-notifier"


class DeliveryResult(msgspec.Struct, kw_only=True, frozen=True):
    """The outcome of one POST.

    ``retry_after`` is the delay in seconds the receiver asked for (``429`` or
    ``503`` with ``Retry-After``), ``None`` when it did not ask. ``error`` is
    safe to store and show: the URL in it is redacted.
    """

    outcome: Outcome
    status: int | None = None
    retry_after: float | None = None
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.outcome == "ok"


def redact_url(url: str) -> str:
    """``scheme://host[:port]/…``: the part of a webhook URL that is not a secret."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "<invalid url>"
    return f"{parts.scheme}://{host}{port}/…"


def _scrub(text: str, url: str) -> str:
    """``text`` with the URL, and its path and query wherever they appear alone, redacted."""
    text = text.replace(url, redact_url(url))
    try:
        parts = urlsplit(url)
    except ValueError:
        return text
    for secret in (parts.path + (f"?{parts.query}" if parts.query else ""), parts.query, parts.path):
        if secret and secret != "/":
            text = text.replace(secret, "/…")
    return text


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` value: delta-seconds or an HTTP-date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    current = time.time() if now is None else now
    return max(when.timestamp() - current, 0.0)


def backoff(attempt: int, *, base: float = 2.0, cap: float = 600.0, rand: Callable[[], float] = random.random) -> float:
    """Delay before retry number ``attempt`` (1 for the first retry): full-jitter exponential.

    A uniform draw in ``[0, min(cap, base * 2 ** (attempt - 1))]``, so that many
    failed messages do not come back at the same moment.
    """
    ceiling = min(cap, base * (2 ** max(attempt - 1, 0)))
    return ceiling * rand()


def next_delay(result: DeliveryResult, attempt: int, *, cap: float = 600.0, **kw: float) -> float:
    """The delay before the next attempt: what the receiver asked, else ``backoff``."""
    if result.retry_after is not None:
        return min(result.retry_after, cap)
    return backoff(attempt, cap=cap, **kw)


async def _retry_after(resp: aiohttp.ClientResponse, text: str) -> float | None:
    header = parse_retry_after(resp.headers.get("Retry-After"))
    if header is not None:
        return header
    # Discord puts the wait in the JSON body (seconds, may be fractional).
    try:
        value = msgspec.json.decode(text).get("retry_after")
        return max(float(value), 0.0) if value is not None else None
    except (msgspec.DecodeError, AttributeError, TypeError, ValueError):
        return None


async def _head(resp: aiohttp.ClientResponse) -> str:
    """At most ``MAX_ERROR_BODY`` bytes of the response body, decoded leniently; the rest is never read."""
    data = b""
    while len(data) < MAX_ERROR_BODY and (chunk := await resp.content.read(MAX_ERROR_BODY - len(data))):
        data += chunk
    return data.decode("utf-8", errors="replace")


async def deliver(
    session: aiohttp.ClientSession,
    url: str,
    request: OutboundRequest,
    *,
    signing_secret: str | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> DeliveryResult:
    """POST ``request`` to ``url`` and classify the outcome; never raises for HTTP or network errors.

    With ``signing_secret`` the ``X-Imagewatch-Signature`` header is made afresh
    for this attempt (pass the webhook channel's secret on every retry).
    """
    headers = {"User-Agent": USER_AGENT, **request.headers}
    if signing_secret:
        headers[SIGNATURE_HEADER] = sign(signing_secret, request.body)
    try:
        async with session.post(
            url, data=request.body, headers=headers, allow_redirects=False,
            timeout=aiohttp.ClientTimeout(total=timeout),
        ) as resp:
            text = await _head(resp)
            status = resp.status
            if 200 <= status < 300:
                return DeliveryResult(outcome="ok", status=status)
            error = _scrub(f"notify: HTTP {status} from {redact_url(url)}: {text[:ERROR_BODY_CHARS]}", url)
            if status in RETRYABLE_4XX or status >= 500:
                wait = await _retry_after(resp, text) if status in (429, 503) else None
                return DeliveryResult(outcome="retry", status=status, retry_after=wait, error=error)
            return DeliveryResult(outcome="permanent", status=status, error=error)
    except aiohttp.InvalidURL as exc:
        # Retrying a malformed URL cannot help; its text names the URL, so scrub it.
        return DeliveryResult(outcome="permanent", error=_scrub(f"notify: invalid URL: {exc}", url)[:500])
    except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
        detail = str(exc) or type(exc).__name__
        error = _scrub(f"notify: {type(exc).__name__} posting to {redact_url(url)}: {detail}", url)
        return DeliveryResult(outcome="retry", error=error[:500])
