"""Notifier configuration and routing."""

from __future__ import annotations

import logging
import tomllib

import msgspec
import pytest

from imagewatch.notify.alert import ImageRef
from imagewatch.notify.routing import route
from imagewatch.notify.rules import RouteConfig
from imagewatch.notify.secret import Secret, secret_enc_hook
from imagewatch.notify.settings import load_rules as load_config

from .conftest import DATA, sample_alert


def config():
    return load_config(tomllib.loads((DATA / "notifier.toml").read_text())["notifier"])


def test_config_loads_and_never_shows_urls(caplog):
    cfg = config()
    assert [c.name for c in cfg.channels] == ["ops", "security", "team-b"]
    assert cfg.channel("ops").url.reveal().startswith("https://hooks.slack.com/")
    assert cfg.channel("security").secret.reveal() == "whsec-XXXXSECRETSIGNINGKEY"
    shown = [repr(cfg), str(cfg), f"{cfg.channel('ops').url}", f"{cfg}",
             msgspec.json.encode(cfg, enc_hook=secret_enc_hook).decode()]
    with caplog.at_level(logging.INFO):
        logging.getLogger("test").info("config %s %r", cfg, cfg.channels[0])
    shown.append(caplog.text)
    for text in shown:
        assert "XXXXSECRET" not in text and "hooks.slack.com" not in text
    assert cfg.routes[0].min_severity == "high" and cfg.routes[1].min_severity == "unknown"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["channels"].append(dict(d["channels"][0])), "duplicate channel name"),
        (lambda d: d["routes"][0]["channels"].append("nowhere"), "unknown channels"),
        (lambda d: d["channels"][0].update(kind="irc"), "unknown kind"),
        (lambda d: d["channels"][0].update(url="ftp://x"), "must be http"),
        (lambda d: d["channels"][1].pop("secret"), "needs a signing secret"),
        (lambda d: d["routes"][0].update(min_severity="urgent"), "Invalid enum value"),
        (lambda d: d["routes"][0].update(kinds=["virus"]), "Invalid enum value"),
        (lambda d: d["routes"][0].update(channels=[]), "at least one channel"),
        (lambda d: d["routes"][0].update(colour="red"), "unknown field"),
    ],
)
def test_config_errors(change, message):
    data = tomllib.loads((DATA / "notifier.toml").read_text())["notifier"]
    change(data)
    with pytest.raises(msgspec.ValidationError, match=message) as err:
        load_config(data)
    assert "XXXXSECRET" not in str(err.value)


def test_secret_masks_everywhere():
    s = Secret("hunter2")
    assert "hunter2" not in repr(s) + str(s) + f"{s}" + "%s" % s
    assert s == Secret("hunter2") and s.reveal() == "hunter2"


def test_route_filters_per_channel():
    cfg = config()
    out = route(sample_alert(), cfg.routes)
    assert sorted(out) == ["ops", "security"]  # team-a/api is no team-b image
    ops = out["ops"]
    assert {f.severity for f in ops.findings} == {"critical", "high"}
    assert ops.counts == {"critical": 1, "high": 3}
    assert [s.rule_id for s in ops.secrets] == ["aws-access-key-id", "github-pat"]
    assert ops.misconfigurations == []  # medium, below the route's minimum
    sec = out["security"]
    assert sec.findings == [] and len(sec.secrets) == 2 and sec.counts == {}
    assert ops.idempotency_key == sec.idempotency_key == sample_alert().idempotency_key


def test_route_by_registry_glob_and_only_fixable():
    cfg = config()
    alert = sample_alert()
    alert = msgspec.structs.replace(alert, image=msgspec.structs.replace(alert.image, repository="team-b/web"))
    out = route(alert, cfg.routes)
    assert sorted(out) == ["security", "team-b"]
    b = out["team-b"]
    assert all(f.fixable and f.severity in {"critical", "high", "medium"} for f in b.findings)
    assert len(b.findings) == 5 and b.secrets == [] and b.misconfigurations == []


def test_channel_in_two_routes_gets_the_union():
    routes = [
        RouteConfig(kinds=["secret"], channels=["x"]),
        RouteConfig(min_severity="critical", kinds=["vulnerability"], channels=["x"]),
        RouteConfig(min_severity="critical", channels=["x"]),
    ]
    out = route(sample_alert(), routes)["x"]
    assert [f.id for f in out.findings] == ["GHSA-jfh8-c2jp-5v3q"]
    assert len(out.secrets) == 2


def test_nothing_passes_nothing_sent():
    alert = sample_alert()
    assert route(alert, [RouteConfig(repositories=["team-z/*"], channels=["x"])]) == {}
    assert route(alert, [RouteConfig(min_severity="critical", kinds=["misconfiguration"], channels=["x"])]) == {}
    assert route(alert.with_items([], [], []), [RouteConfig(channels=["x"])]) == {}
    assert route(alert, []) == {}


def test_glob_matches_repository_or_registry_path():
    img = ImageRef(registry="ghcr.io", repository="acme/tools/cli", digest="sha256:00")
    assert RouteConfig(repositories=["acme/*"], channels=["x"]).matches(img)
    assert RouteConfig(repositories=["ghcr.io/acme/*"], channels=["x"]).matches(img)
    assert not RouteConfig(repositories=["docker.io/*"], channels=["x"]).matches(img)
