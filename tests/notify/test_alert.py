"""The Alert built from real findings: order, aliases, redaction, keys."""

from __future__ import annotations

import msgspec

from imagewatch.notify.alert import ImageRef, redact_preview

from .conftest import API, RAW_SECRET, large_alert, sample_alert


def test_image_and_link():
    alert = sample_alert()
    assert alert.image.name == "team-a/api:1.4.2"
    assert alert.image.short_digest == "sha256:5f3b0c8e1d9a"
    assert alert.api_url == f"{API}/v1/images/{alert.image.digest}"
    assert alert.reason == "push"


def test_untagged_image_name_uses_short_digest():
    img = ImageRef(repository="r", digest="sha256:" + "0" * 64)
    assert img.name == "r@sha256:000000000000"


def test_findings_most_severe_first_with_cve_alias():
    alert = sample_alert()
    assert [f.severity for f in alert.findings] == ["critical", "high", "high", "high", "medium", "low"]
    log4j = alert.findings[0]
    assert (log4j.id, log4j.cve, log4j.installed, log4j.fixed) == ("GHSA-jfh8-c2jp-5v3q", "CVE-2021-44228", "2.14.1", "2.15.0")
    assert log4j.fixable
    # a CVE advisory is not repeated as its own alias
    assert next(f for f in alert.findings if f.id == "CVE-2024-6387").cve == ""
    assert not alert.findings[-1].fixable


def test_counts_and_new():
    alert = sample_alert()
    assert alert.counts == {"critical": 1, "high": 3, "medium": 1, "low": 1}
    assert list(alert.counts) == ["critical", "high", "medium", "low"]
    assert alert.new_count == 2
    assert {f.id for f in alert.findings if f.new} == {"CVE-2024-6387", "GHSA-4374-p667-p6c8"}


def test_secrets_and_misconfigurations_split_and_redacted():
    alert = sample_alert()
    assert [s.rule_id for s in alert.secrets] == ["aws-access-key-id", "github-pat"]
    aws = alert.secrets[0]
    assert (aws.path, aws.line, aws.layer_index, aws.removed_in, aws.preview) == ("app/.env", 3, 4, 6, "AKIA…")
    assert [m.path for m in alert.misconfigurations] == ["config:User"]


def test_preview_never_longer_than_four_characters():
    assert redact_preview(RAW_SECRET) == "AKIA…"
    assert redact_preview("") == ""
    assert RAW_SECRET not in msgspec.json.encode(large_alert()).decode()


def test_idempotency_key_stable_per_event():
    a, b = sample_alert(), sample_alert()
    assert a.idempotency_key == b.idempotency_key and len(a.idempotency_key) == 32
    assert sample_alert(reason="advisory", advisories=["CVE-2024-1"]).idempotency_key != a.idempotency_key
    assert sample_alert(event_id="other").idempotency_key != a.idempotency_key
    # advisory order does not matter
    x = sample_alert(reason="advisory", advisories=["B", "A"])
    y = sample_alert(reason="advisory", advisories=["A", "B"])
    assert x.idempotency_key == y.idempotency_key and x.advisories == ["A", "B"]


def test_with_items_recomputes_counts():
    alert = sample_alert()
    only = alert.with_items(alert.findings[:1], [], [])
    assert only.counts == {"critical": 1} and only.new_count == 0
    assert only.idempotency_key == alert.idempotency_key
    assert alert.with_items([], [], []).is_empty


def test_alert_and_request_round_trip_as_json():
    from imagewatch.notify.channels.catalog import channel_for
    from imagewatch.notify.outbound import OutboundRequest
    from imagewatch.notify.rules import ChannelConfig
    from imagewatch.notify.secret import Secret

    alert = sample_alert()
    assert msgspec.json.decode(msgspec.json.encode(alert), type=type(alert)) == alert
    cfg = ChannelConfig(name="ops", kind="teams", url=Secret("https://example.invalid/x"))
    [req] = channel_for(cfg).render(alert)
    assert msgspec.json.decode(msgspec.json.encode(req), type=OutboundRequest) == req


def test_findings_in_fix_first_order_and_known_exploited_marked_on_real_kev():
    import json as _json
    from pathlib import Path

    import pytest

    from imagewatch.notify.channels import wording
    from imagewatch.signals.kev import parse_kev
    from imagewatch.store.signals import Signals

    kev_file = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "kev" / \
        "known_exploited_vulnerabilities.json"
    if not kev_file.is_file():
        pytest.skip(f"shared data missing at {kev_file}")
    kev = parse_kev(_json.loads(kev_file.read_bytes()))
    signals = {e.cve: Signals(kev=True, kev_ransomware=e.ransomware) for e in kev.entries}
    alert = sample_alert(signals=signals)
    # Log4Shell (KEV, ransomware) first, then the other KEV-listed ones by severity, then the rest.
    assert [f.cve or f.id for f in alert.findings] == [
        "CVE-2021-44228", "CVE-2023-4911", "CVE-2023-44487", "CVE-2024-6387", "CVE-2023-32681", "CVE-2011-3374"]
    assert [f.kev for f in alert.findings] == [True, True, True, False, False, False]
    line = wording.finding_line(alert.findings[0], wording.MARKDOWN)
    assert "**known exploited** (ransomware)" in line
    assert "known exploited" not in wording.finding_line(alert.findings[3], wording.MARKDOWN)
