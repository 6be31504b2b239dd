"""The pure decision and the configuration checks, without servers."""

from __future__ import annotations

import pytest

from imagewatch.config import ConfigError, load_config
from imagewatch.notify.alert import ImageRef, build_alert
from imagewatch.notify.channels.catalog import channels_for
from imagewatch.notify.compose import decide
from imagewatch.notify.settings import api_base, load_settings
from imagewatch.notify.settings import load_rules as load_notify

from .conftest import TOKEN, leaked, vuln

IMAGE = ImageRef(registry="r.test", repository="team-a/api", tag="1.0", digest="sha256:" + "a" * 64)
NOTIFY = load_notify({
    "channels": [{"name": "ops", "kind": "slack", "url": f"https://hooks.slack.test/{TOKEN}"},
                 {"name": "hook", "kind": "webhook", "url": "https://siem.test/in", "secret": "k"}],
    "routes": [{"repositories": ["team-a/*"], "min_severity": "high", "channels": ["ops"]},
               {"kinds": ["secret"], "channels": ["hook"]}],
})
RENDERERS = channels_for(NOTIFY)


def alert(*findings, secrets=()):
    return build_alert(image=IMAGE, api_base="https://iw.test", findings=findings, secrets=secrets)


def test_decide_routes_renders_and_records_only_what_is_sent():
    d = decide(alert(vuln("CVE-1", "critical"), vuln("CVE-2", "low"), secrets=[leaked()]), {},
               NOTIFY.routes, RENDERERS)
    assert sorted((e.channel, e.kind, e.part) for e in d.entries) == [("hook", "webhook", 0), ("ops", "slack", 0)]
    assert [f.id for f in d.per_channel["ops"].findings] == ["CVE-1"]
    assert d.per_channel["hook"].findings == []
    # CVE-2 passed no route: not recorded, so a later route change could still alert it.
    secret_key = d.per_channel["hook"].secrets[0].key
    assert sorted(d.changed) == sorted(["vulnerability:CVE-1:Debian:openssl", secret_key])
    assert len({e.request.idempotency_key for e in d.entries}) == 1


def test_decide_nothing_fresh_or_nothing_routed_sends_nothing():
    first = decide(alert(vuln("CVE-1", "critical")), {}, NOTIFY.routes, RENDERERS)
    again = decide(alert(vuln("CVE-1", "critical")), first.changed, NOTIFY.routes, RENDERERS)
    assert not again.sends and again.changed == {}
    low = decide(alert(vuln("CVE-3", "medium")), {}, NOTIFY.routes, RENDERERS)
    assert not low.sends and low.changed == {}


def test_risen_severity_is_a_new_event_with_a_new_key():
    first = decide(alert(vuln("CVE-1", "high")), {}, NOTIFY.routes, RENDERERS)
    risen = decide(alert(vuln("CVE-1", "critical")), first.changed, NOTIFY.routes, RENDERERS)
    assert risen.sends and risen.changed == {"vulnerability:CVE-1:Debian:openssl": "critical"}
    assert risen.entries[0].request.idempotency_key != first.entries[0].request.idempotency_key
    same = decide(alert(vuln("CVE-1", "high")), {}, NOTIFY.routes, RENDERERS)
    assert same.entries[0].request.idempotency_key == first.entries[0].request.idempotency_key


def test_settings_reject_bad_channels_without_showing_urls():
    cfg = load_config(env={})
    cfg.notifier.channels = [{"name": "x", "kind": "irc", "url": f"https://chat.test/{TOKEN}"}]
    with pytest.raises(ConfigError, match="unknown kind 'irc'") as err:
        load_settings(cfg)
    assert TOKEN not in str(err.value)
    cfg.notifier.channels = [{"name": "x", "kind": "webhook", "url": f"https://chat.test/{TOKEN}"}]
    with pytest.raises(ConfigError, match="needs a signing secret"):
        load_settings(cfg)
    cfg.notifier.channels = [{"name": "x", "kind": "slack", "url": f"https://chat.test/{TOKEN}"}]
    cfg.notifier.routes = [{"channels": ["y"]}]
    with pytest.raises(ConfigError, match="unknown channels"):
        load_settings(cfg)
    cfg.notifier.routes = [{"channels": ["x"]}]
    assert TOKEN not in repr(load_settings(cfg))


def test_api_base_precedence():
    cfg = load_config(env={})
    cfg.api.port = 9999
    assert api_base(cfg) == "http://127.0.0.1:9999"
    cfg.api.public_url = "https://iw.example.com/"
    assert api_base(cfg) == "https://iw.example.com"
    cfg.notifier.api_base = "https://alerts.example.com/api"
    assert api_base(cfg) == "https://alerts.example.com/api"
