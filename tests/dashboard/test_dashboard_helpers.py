"""The dashboard's pure parts: session cookies and CSRF, the chart geometry, layers, escaping."""

from __future__ import annotations

from datetime import date, timedelta

from imagewatch.dashboard.chart import _nice_max, trend_chart
from imagewatch.dashboard.render import render, seg
from imagewatch.dashboard.session import SessionKeys
from imagewatch.dashboard.views import display_id, layer_commands, layers_of, other_ids, preview
from imagewatch.models import Finding, Package, SecretFinding


def test_session_cookie_roundtrip_forgery_expiry_and_rotation():
    keys = SessionKeys("write-token-0123456789abcdef", "read-token-0123456789abcdef", lifetime=60)
    session, cookie = keys.issue("read", now=1000)
    assert "token" not in cookie and keys.verify(cookie, now=1001) == session
    assert keys.verify(cookie, now=1061) is None  # expired
    body, mac = cookie.split(".")
    assert keys.verify(body + "." + mac[:-2] + ("AA" if not mac.endswith("AA") else "BB"), now=1001) is None
    assert keys.verify("x" * 600, now=1001) is None and keys.verify("a.b.c") is None and keys.verify("") is None
    other = SessionKeys("write-token-0123456789abcdef", "rotated-token-0123456789abcd")
    assert other.verify(cookie, now=1001) is None  # a rotated token ends every session
    assert keys.csrf_ok(session, keys.csrf(session)) and not keys.csrf_ok(session, "")
    second, _ = keys.issue("read", now=1000)
    assert not keys.csrf_ok(second, keys.csrf(session))  # tied to the session
    assert not keys.csrf_ok(None, keys.csrf(session))


def test_chart_geometry():
    assert [_nice_max(v) for v in (0, 1, 3, 7, 33, 101)] == [1, 1, 5, 10, 50, 200]
    today = date(2026, 12, 7)
    points = [(today - timedelta(days=29 - i), {"critical": i, "high": 0, "medium": 0, "low": 0, "unknown": 0})
              for i in range(30)]
    chart = trend_chart(points)
    assert chart.days == 30 and chart.first == today - timedelta(days=29) and chart.last == today
    critical = next(s for s in chart.series if s.severity == "critical")
    assert critical.last == 29 and len(critical.points.split()) == 30 and critical.dash == ""
    assert len({s.dash for s in chart.series}) == 5  # each line also differs by its dash pattern
    assert chart.y_ticks[0][0] == 0 and chart.y_ticks[-1][0] == 50


def test_layers_commands_and_contents():
    config = {"history": [{"created_by": "FROM alpine"}, {"created_by": "ENV A=1", "empty_layer": True},
                          {"created_by": "RUN pip install x"}]}
    assert layer_commands(config, 2) == ["FROM alpine", "RUN pip install x"]
    assert layer_commands(None, 2) == ["", ""]
    image = {"config": config, "layers": [
        {"position": 0, "digest": "sha256:l0", "diff_id": "sha256:d0", "size": 1},
        {"position": 1, "digest": "sha256:l1", "diff_id": "sha256:d1", "size": 2}]}
    pkg = Package(name="x", version="1", ecosystem="PyPI", layer="sha256:d1")
    f = Finding(advisory_id="GHSA-1", ids=["GHSA-1", "CVE-1"], package="x", version="1", ecosystem="PyPI",
                layer="sha256:d1")
    s = SecretFinding(kind="secret", rule_id="r", title="t", severity="high", layer_index=0, preview="ABCDEFG")
    views = layers_of(image, [pkg], [f], [s])
    assert [v.command for v in views] == ["FROM alpine", "RUN pip install x"]
    assert views[1].packages == [pkg] and views[1].findings == [f] and views[0].secrets == [s]
    assert display_id(f) == "CVE-1" and other_ids(f) == ["GHSA-1"] and preview(s) == "ABCD…"


def test_everything_is_escaped_and_links_are_segments():
    html = render("error.html", title="<script>x</script>", message='"><img onerror=1>', session=None,
                  csrf="", refresh=0, query="<q>", page="")
    assert "<script>x" not in html and "&lt;script&gt;" in html and "<img" not in html and "&lt;q&gt;" in html
    assert seg("sha256:ab/../x?y") == "sha256:ab%2F..%2Fx%3Fy"
