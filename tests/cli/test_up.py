"""`imagewatch up` on given servers: prints where to point a registry, serves, stops cleanly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request

from imagewatch.cli.embedded import free_port


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def test_up_runs_every_service_and_stops_on_sigint(tmp_path, nats_url, pg_dsn):
    port = free_port()
    env = dict(os.environ, IMAGEWATCH_NATS_URL=nats_url, IMAGEWATCH_DATABASE_URL=pg_dsn,
               IMAGEWATCH_API_PORT=str(port), IMAGEWATCH_LOG_FORMAT="json")
    env.pop("IMAGEWATCH_WEBHOOK_TOKEN", None)
    proc = subprocess.Popen([sys.executable, "-m", "imagewatch.cli", "up", "--data-dir", str(tmp_path / "data")],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        lines = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            lines.append(line)
            if "Press Ctrl-C" in line:
                break
        out = "".join(lines)
        token = (tmp_path / "data" / "webhook-token").read_text().strip()
        assert f"http://127.0.0.1:{port}/v1/events/distribution" in out
        assert token in out and "api" in out and "fetcher" in out
        for _ in range(100):
            try:
                status, body = _get(f"http://127.0.0.1:{port}/readyz")
                if status == 200:
                    break
            except OSError:
                pass
            time.sleep(0.1)
        assert status == 200 and b'"ready": true' in body
        assert _get(f"http://127.0.0.1:{port}/v1/images")[0] == 200
        assert b"imagewatch_http_requests_total" in _get(f"http://127.0.0.1:{port}/metrics")[1]
    finally:
        proc.send_signal(signal.SIGINT)
        rest, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0, rest
    assert "imagewatch stopped" in rest
    assert "Traceback" not in rest
