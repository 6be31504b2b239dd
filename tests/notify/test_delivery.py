"""Delivery outcomes against a local receiver: success, retries, 429, permanent errors."""

from __future__ import annotations

import email.utils
import socket

import pytest

from imagewatch.notify.channels.catalog import channel_for
from imagewatch.notify.delivery import backoff, deliver, next_delay, parse_retry_after, redact_url
from imagewatch.notify.outbound import OutboundRequest
from imagewatch.notify.rules import ChannelConfig
from imagewatch.notify.secret import Secret

from .conftest import sample_alert

REQUEST = OutboundRequest(body=b'{"text":"hi"}', headers={"Content-Type": "application/json"}, idempotency_key="k")


def slack_request() -> OutboundRequest:
    cfg = ChannelConfig(name="ops", kind="slack", url=Secret("https://hooks.slack.com/services/x"))
    return channel_for(cfg).render(sample_alert())[0]


async def test_success(receiver, session):
    request = slack_request()
    result = await deliver(session, receiver.url(), request)
    assert result.ok and result.status == 200 and result.error == ""
    path, headers, body = receiver.requests[0]
    assert body == request.body and headers["User-Agent"] == "imagewatch-notifier"


async def test_500_then_success(receiver, session):
    receiver.responses = [(500, {}, "internal error")]
    first = await deliver(session, receiver.url(), REQUEST)
    assert first.outcome == "retry" and first.status == 500 and first.retry_after is None
    assert "HTTP 500" in first.error and "internal error" in first.error
    second = await deliver(session, receiver.url(), REQUEST)
    assert second.ok
    assert [r[2] for r in receiver.requests] == [REQUEST.body, REQUEST.body]


async def test_429_retry_after_seconds(receiver, session):
    receiver.responses = [(429, {"Retry-After": "7"}, "rate limited")]
    result = await deliver(session, receiver.url(), REQUEST)
    assert (result.outcome, result.status, result.retry_after) == ("retry", 429, 7.0)
    assert next_delay(result, attempt=1) == 7.0


async def test_429_retry_after_http_date(receiver, session):
    when = email.utils.formatdate(usegmt=True)  # now: nothing left to wait
    receiver.responses = [(429, {"Retry-After": when}, "")]
    result = await deliver(session, receiver.url(), REQUEST)
    assert result.outcome == "retry" and result.retry_after is not None and 0 <= result.retry_after <= 1


async def test_429_discord_body_retry_after(receiver, session):
    receiver.responses = [(429, {"Content-Type": "application/json"}, '{"message": "You are being rate limited.", "retry_after": 0.64, "global": false}')]
    result = await deliver(session, receiver.url(), REQUEST)
    assert result.retry_after == 0.64


@pytest.mark.parametrize("status", [400, 403, 404, 410, 413])
async def test_permanent_4xx(status, receiver, session):
    receiver.responses = [(status, {}, "invalid_payload")]
    result = await deliver(session, receiver.url(), REQUEST)
    assert result.outcome == "permanent" and result.status == status


async def test_redirect_is_not_followed(receiver, session):
    receiver.responses = [(302, {"Location": "https://elsewhere.example/"}, "")]
    result = await deliver(session, receiver.url(), REQUEST)
    assert result.outcome == "permanent" and len(receiver.requests) == 1


async def test_connection_refused_is_retryable_and_url_redacted(session):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}/hooks/T000/B000/XXXXSECRETTOKEN?key=XXXXSECRETKEY"
    result = await deliver(session, url, REQUEST, timeout=5)
    assert result.outcome == "retry" and result.status is None
    assert "XXXXSECRET" not in result.error and f"http://127.0.0.1:{port}/…" in result.error


async def test_error_text_never_holds_the_url(receiver, session):
    url = receiver.url("/hooks/XXXXSECRETTOKEN")
    receiver.responses = [(404, {}, f"no hook at {url} (/hooks/XXXXSECRETTOKEN)")]
    result = await deliver(session, url, REQUEST)
    assert result.outcome == "permanent" and "XXXXSECRET" not in result.error


async def test_invalid_url_is_permanent(session):
    result = await deliver(session, "http://[::1/XXXXSECRETTOKEN", REQUEST)
    assert result.outcome == "permanent" and "XXXXSECRET" not in result.error


def test_redact_url():
    assert redact_url("https://hooks.slack.com/services/T/B/secret") == "https://hooks.slack.com/…"
    assert redact_url("https://chat.googleapis.com/v1/spaces/A/messages?key=k&token=t") == "https://chat.googleapis.com/…"
    assert redact_url("http://user:pw@host:8080/x") == "http://host:8080/…"


def test_parse_retry_after():
    assert parse_retry_after("120") == 120.0
    assert parse_retry_after("-3") == 0.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == 10.0
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None


def test_backoff_is_exponential_jittered_and_capped():
    top = [backoff(a, base=2, cap=300, rand=lambda: 1.0) for a in range(1, 12)]
    assert top[:5] == [2, 4, 8, 16, 32] and max(top) == 300
    assert backoff(3, rand=lambda: 0.0) == 0.0
    assert all(0 <= backoff(a) <= 600 for a in range(1, 40))
    assert len({backoff(4) for _ in range(20)}) > 1
