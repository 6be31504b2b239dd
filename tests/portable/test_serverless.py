"""Export → push to a real registry → ``scan --db-repository`` with no server and nothing configured.

The same image scanned the server way (PostgreSQL) and the serverless way (a
database pulled from the registry into the cache of an empty HOME, no
``IMAGEWATCH_*`` variable) gives the same vulnerabilities and the same secret
and misconfiguration rules; no PostgreSQL process or data directory appears.
A second scan does not download the database again; a newer push is pulled.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from harness.images import push, tools_missing
from harness.registry import run_registry
from imagewatch.store.db import connect_pool
from imagewatch.updater.sync import import_paths
from scan.helpers import SECDB_319, TAG, URLLIB3, build_layout, unfixed_advisory

GO_RECORD = Path(__file__).resolve().parents[1] / "advisories" / "data" / "GO-2023-1840.json"


@pytest.fixture(scope="module")
def registry(tmp_path_factory):
    missing = tools_missing()
    if missing:
        pytest.skip(f"needs {', '.join(missing)} (apt-get install -y docker-registry skopeo umoci)")
    with run_registry(tmp_path_factory.mktemp("registry")) as running:
        yield running


@pytest.fixture
async def store_dsn(pg_dsn, tmp_path):
    pool = await connect_pool(pg_dsn, 1, 2)
    try:
        await import_paths(pool, [URLLIB3, SECDB_319, unfixed_advisory(tmp_path / "osv")])
    finally:
        await pool.close()
    return pg_dsn


def _clean_env(**extra: str) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items()
            if not k.startswith(("IMAGEWATCH_", "XDG_")) and k not in ("HOME", "NO_COLOR")}
    return {**keep, **extra}


def _cli(*args: str, env: dict, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "imagewatch.cli", *args], capture_output=True, text=True,
                          env=env, cwd=cwd, timeout=300)


def _vulns(doc: dict) -> list[tuple]:
    return sorted((r["Target"], v["VulnerabilityID"], v["PkgName"], v["InstalledVersion"],
                   v.get("FixedVersion", ""), v["Severity"])
                  for r in doc.get("Results", []) for v in r.get("Vulnerabilities", []))


def _rules(doc: dict) -> list[tuple]:
    return sorted((r["Target"], kind, s.get("RuleID") or s.get("ID"))
                  for r in doc.get("Results", []) for kind in ("Secrets", "Misconfigurations")
                  for s in r.get(kind, []))


def _postgres_processes_under(path: Path) -> list[str]:
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if "postgres" in cmdline and str(path) in cmdline:
                found.append(cmdline)
    return found


async def test_push_then_serverless_scan_matches_the_server_path(registry, store_dsn, tmp_path):
    layout = build_layout(tmp_path / "layout")
    image = push(layout, TAG, registry.ref("team/app", "1")).reference
    db_ref = registry.ref("imagewatch/db", "1")
    server_env = _clean_env(HOME=str(tmp_path / "server-home"), IMAGEWATCH_DATABASE_URL=store_dsn,
                            IMAGEWATCH_DATA_DIR=str(tmp_path / "server-data"))
    pushed = _cli("db", "push", db_ref, "--insecure", env=server_env, cwd=tmp_path)
    assert pushed.returncode == 0, pushed.stderr
    assert pushed.stdout.startswith(f"pushed {db_ref}@sha256:")

    server = _cli("scan", image, "--insecure", "-f", "json", env=server_env, cwd=tmp_path)
    assert server.returncode == 0, server.stderr

    home, work = tmp_path / "home", tmp_path / "work"
    home.mkdir()
    work.mkdir()
    env = _clean_env(HOME=str(home))
    first = _cli("scan", image, "--db-repository", db_ref, "--insecure", "-f", "json", "--debug",
                 env=env, cwd=work)
    assert first.returncode == 0, first.stderr
    assert f"pulled from {db_ref}" in first.stderr
    server_doc, serverless_doc = json.loads(server.stdout), json.loads(first.stdout)
    assert _vulns(server_doc) and _vulns(serverless_doc) == _vulns(server_doc)
    assert _rules(server_doc) and _rules(serverless_doc) == _rules(server_doc)

    cache = home / ".cache" / "imagewatch"
    assert (cache / "cache" / "db" / "imagewatch.db").is_file()
    assert not list(work.iterdir())  # nothing in the working directory
    assert not [p for p in (*home.rglob("*"), *work.rglob("*")) if p.name in ("postgres", "PG_VERSION")]
    assert _postgres_processes_under(home) == []

    again = _cli("scan", image, "--db-repository", db_ref, "--insecure", "-f", "json", "-d", env=env, cwd=work)
    assert again.returncode == 0 and f"up to date with {db_ref}" in again.stderr
    assert _vulns(json.loads(again.stdout)) == _vulns(server_doc)

    # the cached file alone serves a scan with nothing configured
    cached = _cli("scan", image, "--insecure", "-f", "json", "-d", env=env, cwd=work)
    assert cached.returncode == 0 and "found in the cache" in cached.stderr
    assert _vulns(json.loads(cached.stdout)) == _vulns(server_doc)

    # a newer database in the registry is pulled
    pool = await connect_pool(store_dsn, 1, 2)
    try:
        await import_paths(pool, [GO_RECORD])
    finally:
        await pool.close()
    assert _cli("db", "push", db_ref, "--insecure", env=server_env, cwd=tmp_path).returncode == 0
    newer = _cli("scan", image, "--db-repository", db_ref, "--insecure", "-f", "json", "-d", env=env, cwd=work)
    assert newer.returncode == 0 and f"pulled from {db_ref}" in newer.stderr
    assert _postgres_processes_under(home) == []


def test_secret_and_misconfig_scan_needs_no_database(tmp_path):
    if "umoci" in tools_missing():
        pytest.skip("umoci is not installed")
    layout = build_layout(tmp_path / "layout")
    home, work = tmp_path / "home", tmp_path / "work"
    home.mkdir()
    work.mkdir()
    # a database URL nobody answers: it must not even be tried
    env = _clean_env(HOME=str(home), IMAGEWATCH_DATABASE_URL="postgresql://nobody@127.0.0.1:1/none")
    done = _cli("scan", f"oci:{layout}:{TAG}", "--scanners", "secret,misconfig", "-f", "json",
                env=env, cwd=work)
    assert done.returncode == 0, done.stderr
    kinds = {kind for _t, kind, _r in _rules(json.loads(done.stdout))}
    assert kinds == {"Secrets", "Misconfigurations"}
    assert not [p for p in home.rglob("*") if p.name == "postgres"]


def test_pulled_database_that_is_not_ours_or_missing_is_refused(registry, tmp_path):
    layout = build_layout(tmp_path / "layout")
    image_ref = push(layout, TAG, registry.ref("team/other", "1")).reference
    env = _clean_env(HOME=str(tmp_path / "home"))
    wrong = _cli("scan", f"oci:{layout}:{TAG}", "--db-repository", image_ref, "--insecure", env=env, cwd=tmp_path)
    assert wrong.returncode == 3 and "is not an imagewatch database" in wrong.stderr
    assert wrong.stderr.count("\n") == 1
    missing = _cli("scan", f"oci:{layout}:{TAG}", "--db-repository", registry.ref("imagewatch/none", "1"),
                   "--insecure", env=env, cwd=tmp_path)
    assert missing.returncode == 3 and "404" in missing.stderr
    plain = _cli("scan", f"oci:{layout}:{TAG}", "--db-repository", registry.ref("imagewatch/none", "1"),
                 env=env, cwd=tmp_path)
    assert plain.returncode == 3
    assert f"{registry.host} answered plain HTTP; add it to IMAGEWATCH_INSECURE_REGISTRIES or use --insecure" \
        in plain.stderr


def test_proxy_variables_are_honoured(registry, tmp_path):
    from imagewatch.cli.embedded import free_port

    layout = build_layout(tmp_path / "layout")
    image = push(layout, TAG, registry.ref("team/proxied", "1")).reference
    dead = f"http://127.0.0.1:{free_port()}"
    env = _clean_env(HOME=str(tmp_path / "home"), HTTP_PROXY=dead, HTTPS_PROXY=dead, http_proxy=dead,
                     https_proxy=dead)
    env = {k: v for k, v in env.items() if k.lower() != "no_proxy"}
    through_proxy = _cli("scan", image, "--insecure", "--scanners", "secret", "-q", env=env, cwd=tmp_path)
    assert through_proxy.returncode != 0 and "unreachable" in through_proxy.stderr
    bypass = _cli("scan", image, "--insecure", "--scanners", "secret", "-q", env={**env, "NO_PROXY": "127.0.0.1"},
                  cwd=tmp_path)
    assert bypass.returncode == 0, bypass.stderr
