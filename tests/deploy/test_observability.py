"""The Prometheus alert rules pass ``promtool check rules`` and the Grafana dashboard only queries exported series."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from imagewatch.runtime.metrics import Metrics

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
ALERTS = DEPLOY / "prometheus" / "alerts.yaml"
DASHBOARD = DEPLOY / "grafana" / "imagewatch.json"
_FUNCTIONS = {"sum", "max", "min", "avg", "count", "rate", "increase", "delta", "irate", "histogram_quantile",
              "by", "without", "on", "group_left", "group_right", "and", "or", "unless", "clamp_min", "clamp_max",
              "abs", "time", "vector", "topk", "bottomk", "offset", "bool", "le"}


def exported() -> set[str]:
    """Every series name the services export (samples, so ``_bucket``/``_count`` and ``_total`` included)."""
    names = set()
    for family in Metrics("test").registry.collect():
        names.add(family.name)
        names.update(s.name for s in family.samples)
    names.update(f"{family.name}{suffix}" for family in Metrics("t").registry.collect()
                 for suffix in ("_bucket", "_count", "_sum", "_total"))
    return names


def metric_names(expr: str) -> set[str]:
    """The series names an expression selects (labels, strings, functions and numbers left out)."""
    expr = re.sub(r'"[^"]*"', '""', expr)
    expr = re.sub(r"\{[^}]*\}", "{}", expr)
    expr = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", expr)
    expr = re.sub(r"\[[^\]]*\]", "[]", expr)
    expr = re.sub(r"(?<![\w:])\d+(?:\.\d+)?(?:[eE][+-]?\d+)?", "0", expr)
    words = set(re.findall(r"[a-zA-Z_:][a-zA-Z0-9_:]*", expr))
    return {w for w in words if w not in _FUNCTIONS and not re.fullmatch(r"\d+[smhd]?", w)}


def test_alert_rules_pass_promtool():
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool not installed (apt-get install prometheus; `make test-deps` does it)")
    result = subprocess.run([promtool, "check", "rules", str(ALERTS)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_alert_rules_cover_the_issue_and_use_exported_series():
    rules = {r["alert"]: r for g in yaml.safe_load(ALERTS.read_text())["groups"] for r in g["rules"]}
    assert {"ImagewatchAdvisorySyncStale", "ImagewatchDeadLettersGrowing", "ImagewatchBacklogGrowing",
            "ImagewatchNotificationsFailing"} <= set(rules)
    assert "24 * 3600" in rules["ImagewatchAdvisorySyncStale"]["expr"]
    assert rules["ImagewatchBacklogGrowing"]["for"] == "15m"
    known = exported()
    for name, rule in rules.items():
        used = metric_names(rule["expr"])
        assert used, name
        assert used <= known, (name, used - known)


def test_grafana_dashboard_is_valid_and_queries_exported_series():
    dashboard = json.loads(DASHBOARD.read_text())
    assert dashboard["title"] and dashboard["uid"] and isinstance(dashboard["panels"], list)
    known = exported()
    queries = 0
    ids = set()
    for panel in dashboard["panels"]:
        assert panel["id"] not in ids
        ids.add(panel["id"])
        if panel["type"] == "row":
            continue
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            used = metric_names(target["expr"])
            assert used and used <= known, (panel["title"], used - known)
            assert any(n.startswith("imagewatch_") for n in used), panel["title"]
            queries += 1
    titles = " ".join(p["title"].lower() for p in dashboard["panels"])
    for topic in ("pipeline", "backlog", "fleet", "sync", "notification", "outbox"):
        assert topic in titles, topic
    assert queries >= 20


def test_metric_names_reads_promql():
    assert metric_names('sum by (stage) (rate(imagewatch_messages_handled_total{outcome="ok"}[5m])) * 60') == {
        "imagewatch_messages_handled_total"}
    assert metric_names("histogram_quantile(0.95, sum by (le) (rate(x_bucket[5m])))") == {"x_bucket"}
