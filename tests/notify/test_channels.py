"""Every channel, posted to a local receiver, checked against its service's format and limits."""

from __future__ import annotations

import json
import re

import jsonschema
import msgspec
import pytest

from imagewatch.notify.alert import Alert, AlertFinding
from imagewatch.notify.channels import discord, googlechat, slack
from imagewatch.notify.channels.catalog import CHANNEL_KINDS, CatalogError, channel_for, check_unique
from imagewatch.notify.delivery import deliver
from imagewatch.notify.rules import ChannelConfig
from imagewatch.notify.secret import Secret
from imagewatch.notify.signing import IDEMPOTENCY_HEADER, SIGNATURE_HEADER, verify

from .conftest import RAW_SECRET, large_alert, sample_alert, schema

KINDS = ["slack", "teams", "mattermost", "discord", "googlechat", "webhook"]
SIGNING_KEY = "whsec-test-key"


def make(kind: str):
    cfg = ChannelConfig(name=f"{kind}-ops", kind=kind, url=Secret("https://example.invalid/hook"),
                        secret=Secret(SIGNING_KEY) if kind == "webhook" else None)
    return channel_for(cfg)


def check_slack(p: dict, body: bytes) -> None:
    jsonschema.validate(p, schema("slack"))
    assert slack._text_length(p["blocks"]) <= slack.MAX_TOTAL_TEXT


def check_teams(p: dict, body: bytes) -> None:
    jsonschema.validate(p, schema("teams"))
    assert len(body) <= 28_000


def check_mattermost(p: dict, body: bytes) -> None:
    jsonschema.validate(p, schema("mattermost"))


def check_discord(p: dict, body: bytes) -> None:
    jsonschema.validate(p, schema("discord"))
    assert sum(discord.embed_chars(e) for e in p["embeds"]) <= 6000


def check_googlechat(p: dict, body: bytes) -> None:
    jsonschema.validate(p, schema("googlechat"))
    assert len(body) <= 32_000
    assert googlechat._widgets(p) <= 100


def check_webhook(p: dict, body: bytes, headers: dict[str, str]) -> None:
    verify(SIGNING_KEY, headers[SIGNATURE_HEADER], body)
    assert headers[IDEMPOTENCY_HEADER] == p["idempotency_key"]
    msgspec.convert(p["alert"], Alert)


CHECKS = {
    "slack": check_slack, "teams": check_teams, "mattermost": check_mattermost,
    "discord": check_discord, "googlechat": check_googlechat,
}


async def post(kind: str, alert: Alert, receiver, session) -> tuple[dict, bytes, dict]:
    [request] = make(kind).render(alert)
    result = await deliver(session, receiver.url(), request,
                           signing_secret=SIGNING_KEY if kind == "webhook" else None)
    assert result.ok, result
    _, headers, body = receiver.requests[-1]
    payload = json.loads(body)
    if kind == "webhook":
        check_webhook(payload, body, headers)
    else:
        CHECKS[kind](payload, body)
    assert RAW_SECRET not in body.decode()
    assert "XXXXSECRETTOKEN" not in body.decode()
    return payload, body, headers


def test_registry_lists_every_kind_once():
    assert sorted(CHANNEL_KINDS) == sorted(KINDS)
    with pytest.raises(CatalogError, match="duplicate"):
        check_unique([slack.SlackChannel, slack.SlackChannel])
    with pytest.raises(CatalogError, match="unknown"):
        channel_for(ChannelConfig(name="x", kind="irc", url=Secret("https://x")))


@pytest.mark.parametrize("kind", KINDS)
async def test_small_alert_shows_everything(kind, receiver, session):
    alert = sample_alert()
    payload, body, headers = await post(kind, alert, receiver, session)
    text = body.decode()
    for f in alert.findings:
        assert f.id in text
    assert "CVE-2021-44228" in text and "2.15.0" in text
    assert "app/.env" in text and "AKIA" in text
    assert "config:User" in text
    assert "more finding" not in text
    assert alert.api_url in text
    assert alert.image.short_digest in text
    assert headers["Content-Type"].startswith("application/json")


@pytest.mark.parametrize("kind", KINDS)
async def test_large_alert_fits_and_summarises(kind, receiver, session):
    alert = large_alert()
    payload, body, _ = await post(kind, alert, receiver, session)
    text = body.decode()
    # the most severe items are shown whatever the service's limits
    critical_finding = alert.findings[0]
    assert critical_finding.severity == "critical" and critical_finding.id in text
    assert alert.secrets[0].path in text
    if kind == "webhook":
        assert payload["omitted"] == {"findings": 0, "secrets": 0, "misconfigurations": 0}
        assert len(payload["alert"]["findings"]) == 500
    else:
        omitted = int(re.search(r"and (\d+) more findings", text).group(1))
        shown = sum(f.id in text for f in alert.findings)
        assert shown >= 15 and shown + omitted == len(alert.findings) == 500


async def test_advisory_reason_lists_advisories(receiver, session):
    alert = sample_alert(reason="advisory", advisories=[f"GHSA-000{i}-xxxx-yyyy" for i in range(8)])
    for kind in KINDS:
        _, body, _ = await post(kind, alert, receiver, session)
        text = body.decode()
        assert "GHSA-0000-xxxx-yyyy" in text
        if kind != "webhook":
            assert "and 3 more" in text


def test_text_from_images_is_escaped():
    alert = sample_alert()
    evil = msgspec.structs.replace(alert.findings[0], package="<!channel> & <script>")
    alert = alert.with_items([evil], [], [])
    [s] = make("slack").render(alert)
    assert b"<!channel>" not in s.body and b"&lt;!channel&gt; &amp;" in s.body
    [g] = make("googlechat").render(alert)
    assert b"<script>" not in g.body
    [d] = make("discord").render(alert)
    assert json.loads(d.body)["allowed_mentions"] == {"parse": []}


def test_huge_single_fields_are_truncated_not_failed():
    alert = sample_alert()
    long = "x" * 20_000
    f = AlertFinding(id="CVE-2024-0001", package=long, installed=long, fixed=long, severity="critical")
    alert = msgspec.structs.replace(alert.with_items([f], [], []),
                                    image=msgspec.structs.replace(alert.image, repository=long))
    for kind in KINDS[:-1]:
        [req] = make(kind).render(alert)
        payload = json.loads(req.body)
        CHECKS[kind](payload, req.body)


def test_every_request_carries_the_idempotency_key():
    alert = sample_alert()
    for kind in KINDS:
        [req] = make(kind).render(alert)
        assert req.idempotency_key == alert.idempotency_key


@pytest.mark.parametrize("kind", KINDS)
def test_channels_implement_the_protocol(kind):
    from imagewatch.notify.channels.base import Channel

    channel = make(kind)
    assert isinstance(channel, Channel) and channel.kind == kind and channel.name == f"{kind}-ops"
    empty = sample_alert().with_items([], [], [])
    [req] = channel.render(empty)  # rendering never fails, even with nothing to say
    json.loads(req.body)
