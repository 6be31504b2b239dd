"""Signed webhook deliveries, and the verification example of docs/notifications.md."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from imagewatch.notify.channels.webhook import WebhookChannel
from imagewatch.notify.delivery import deliver
from imagewatch.notify.signing import SIGNATURE_HEADER, SignatureError, sign, signature, verify

from .conftest import sample_alert

DOC = Path(__file__).resolve().parents[2] / "docs" / "notifications.md"
KEY = "whsec-test-key"
BODY = b'{"type":"imagewatch.alert"}'


def doc_verifier():
    text = DOC.read_text()
    block = re.search(r"<!-- verification-example -->\s*```python\n(.*?)```", text, re.S).group(1)
    namespace: dict = {}
    exec(compile(block, str(DOC), "exec"), namespace)
    return namespace["verify_imagewatch"]


def test_sign_and_verify_round_trip():
    header = sign(KEY, BODY, timestamp=1_700_000_000)
    assert header == f"t=1700000000,v1={signature(KEY, 1_700_000_000, BODY)}"
    assert re.fullmatch(r"t=\d+,v1=[0-9a-f]{64}", header)
    assert verify(KEY, header, BODY, now=1_700_000_100) == 1_700_000_000


@pytest.mark.parametrize(
    ("header", "body", "key", "now", "message"),
    [
        (None, BODY + b" ", KEY, 1_700_000_000, "does not match"),
        (None, BODY, "other-key", 1_700_000_000, "does not match"),
        (None, BODY, KEY, 1_700_000_301, "outside tolerance"),
        (None, BODY, KEY, 1_699_999_699, "outside tolerance"),
        ("v1=abc", BODY, KEY, 1_700_000_000, "malformed"),
        ("t=soon,v1=abc", BODY, KEY, 1_700_000_000, "malformed"),
        ("", BODY, KEY, 1_700_000_000, "malformed"),
    ],
)
def test_verify_rejects(header, body, key, now, message):
    header = header if header is not None else sign(KEY, BODY, timestamp=1_700_000_000)
    with pytest.raises(SignatureError, match=message):
        verify(key, header, body, now=now)


def test_verify_accepts_any_of_several_v1_during_rotation():
    good = sign(KEY, BODY, timestamp=100).split("v1=")[1]
    assert verify(KEY, f"t=100,v1={'0' * 64},v1={good}", BODY, now=100) == 100


async def test_webhook_delivery_verifies_with_doc_example_and_rejects_replay(receiver, session):
    verify_imagewatch = doc_verifier()
    [request] = WebhookChannel("siem", secret=KEY).render(sample_alert())
    result = await deliver(session, receiver.url("/ingest"), request, signing_secret=KEY)
    assert result.ok
    _, headers, body = receiver.requests[0]
    seen: set[str] = set()
    accepted = verify_imagewatch(KEY, headers, body, seen)
    assert accepted["idempotency_key"] == sample_alert().idempotency_key
    with pytest.raises(ValueError, match="duplicate"):
        verify_imagewatch(KEY, headers, body, seen)  # the same request replayed
    with pytest.raises(ValueError, match="stale"):
        verify_imagewatch(KEY, headers, body, set(), now=time.time() + 3600)
    with pytest.raises(ValueError, match="bad signature"):
        verify_imagewatch(KEY, headers, body.replace(b"critical", b"low"), set())
    with pytest.raises(ValueError, match="bad signature"):
        verify_imagewatch("wrong", headers, body, set())


async def test_retry_is_signed_afresh(receiver, session):
    [request] = WebhookChannel("siem", secret=KEY).render(sample_alert())
    stale = sign(KEY, request.body, timestamp=int(time.time()) - 3600)
    old = type(request)(body=request.body, headers={**request.headers, SIGNATURE_HEADER: stale},
                        idempotency_key=request.idempotency_key)
    assert (await deliver(session, receiver.url(), old, signing_secret=KEY)).ok
    _, headers, body = receiver.requests[0]
    assert headers[SIGNATURE_HEADER] != stale
    verify(KEY, headers[SIGNATURE_HEADER], body)


def test_webhook_channel_repr_hides_secret():
    assert KEY not in repr(WebhookChannel("siem", secret=KEY))
