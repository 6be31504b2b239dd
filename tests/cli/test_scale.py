"""``imagewatch up --scale``: N processes of a stage, each with its own name, metrics port and log identity."""

from __future__ import annotations

import io
import json
import os
import random
import re
import signal
import subprocess
import sys
import time
import urllib.request

import pytest
import structlog

from imagewatch.cli.embedded import free_port, port_open
from imagewatch.cli.main import main
from imagewatch.cli.scale import MAX_REPLICAS, ScaleError, parse_scale
from imagewatch.cli.services import SERVICES
from imagewatch.cli.up import plan_replicas
from imagewatch.runtime.logs import bind_message, configure, get_logger


def test_scale_is_parsed_per_service():
    assert parse_scale("inventory=3,secrets=2", SERVICES) == {"inventory": 3, "secrets": 2}
    assert parse_scale(" inventory = 3 , ", SERVICES) == {"inventory": 3}
    assert parse_scale("", SERVICES) == {}


@pytest.mark.parametrize("text,error", [
    ("invntory=2", "unknown service 'invntory' (did you mean inventory?)"),
    ("scanner=2", "unknown service 'scanner'"),
    ("inventory=0", "at least 1"),
    ("inventory=-2", "at least 1"),
    (f"inventory={MAX_REPLICAS + 1}", f"at most {MAX_REPLICAS}"),
    ("inventory=two", "whole number"),
    ("inventory", "SERVICE=N"),
    ("=3", "SERVICE=N"),
    ("inventory=2,inventory=3", "given twice"),
    ("api=2", "the api listens on one port"),
])
def test_bad_scale_values_are_refused_with_the_reason(text, error):
    with pytest.raises(ScaleError, match=re.escape(error)):
        parse_scale(text, SERVICES)


def test_up_refuses_a_bad_scale_before_starting_anything(capsys, tmp_path):
    assert main(["up", "--data-dir", str(tmp_path), "--scale", "inventory=0"]) == 2
    assert "inventory=0" in capsys.readouterr().err
    assert not (tmp_path / "nats").exists() and not (tmp_path / "postgres").exists()


def test_each_replica_has_its_own_name_and_metrics_port():
    services = ["api", "fetcher", "inventory", "secrets"]
    plan = plan_replicas(services, {"inventory": 3, "secrets": 2}, metrics_base=9100)
    assert [(r.name, r.metrics_port) for r in plan] == [
        ("api-1", None), ("fetcher-1", 9100), ("inventory-1", 9101), ("inventory-2", 9102),
        ("inventory-3", 9103), ("secrets-1", 9104), ("secrets-2", 9105)]
    assert all(r.metrics_port is None for r in plan_replicas(services, {"inventory": 2}))


def test_every_log_line_carries_the_replica_host_and_pid(monkeypatch):
    monkeypatch.setenv("IMAGEWATCH_REPLICA", "inventory-2")
    stream = io.StringIO()
    configure("json", "info", stream=stream)
    try:
        bind_message(msg_id="m-1")  # clears the message context, never the identity
        get_logger("inventory").info("handled")
        line = json.loads(stream.getvalue().splitlines()[-1])
    finally:
        structlog.contextvars.clear_contextvars()
        structlog.reset_defaults()
    assert line["replica"] == "inventory-2" and line["pid"] == os.getpid()
    assert line["hostname"] and line["msg_id"] == "m-1"


def _free_run(count: int) -> int:
    """A base port with ``count`` free ports from it, below the ephemeral range (outgoing connections)."""
    low = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
    for _ in range(50):
        base = random.randrange(10000, low - count)
        if not any(port_open(base + i) for i in range(count)):
            return base
    raise AssertionError("no run of free ports")


def _healthz(port: int) -> dict | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as resp:
            return json.loads(resp.read())
    except OSError:
        return None


def test_up_runs_the_replicas_on_consecutive_metrics_ports(tmp_path, nats_url, pg_dsn):
    api_port = free_port()
    replicas = ["fetcher-1", "fetcher-2", "inventory-1", "inventory-2", "inventory-3", "secrets-1", "matcher-1",
                "notifier-1", "updater-1"]
    base = _free_run(len(replicas))
    env = dict(os.environ, IMAGEWATCH_NATS_URL=nats_url, IMAGEWATCH_DATABASE_URL=pg_dsn,
               IMAGEWATCH_API_PORT=str(api_port), IMAGEWATCH_LOG_FORMAT="json",
               IMAGEWATCH_METRICS_PORT=str(base))
    env.pop("IMAGEWATCH_WEBHOOK_TOKEN", None)
    proc = subprocess.Popen([sys.executable, "-m", "imagewatch.cli", "up", "--data-dir", str(tmp_path / "data"),
                             "--scale", "fetcher=2,inventory=3"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        banner = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            banner.append(proc.stdout.readline())
            if "Press Ctrl-C" in banner[-1]:
                break
        text = "".join(banner)
        assert "replicas fetcher×2, inventory×3" in text
        assert f"inventory-3:{base + 4}" in text
        seen: dict[int, dict] = {}
        deadline = time.monotonic() + 90
        while len(seen) < len(replicas) and time.monotonic() < deadline:
            for i in range(len(replicas)):
                if i not in seen and (answer := _healthz(base + i)):
                    seen[i] = answer
            time.sleep(0.2)
        assert {i: seen.get(i, {}).get("replica") for i in range(len(replicas))} == dict(enumerate(replicas))
        assert seen[4]["service"] == "inventory"
    finally:
        proc.send_signal(signal.SIGINT)
        rest, _ = proc.communicate(timeout=90)
    assert proc.returncode == 0, rest
    started = {json.loads(line).get("replica") for line in rest.splitlines()
               if line.startswith("{") and '"service started"' in line}
    started |= {json.loads(line).get("replica") for line in banner if line.startswith("{") and '"service started"' in line}
    assert {"fetcher-2", "inventory-3"} <= started
    assert "Traceback" not in rest
