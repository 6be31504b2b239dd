"""A running imagewatch fed by real pushes, for the dashboard's browser tests and screenshots.

A registry notifies the api; fetcher, inventory, secrets, matcher and notifier
(no channels: it decides, queues nothing and finishes its stage, as in
production) run on real NATS and PostgreSQL. The advisory store holds the
urllib3 OSV records and the Alpine 3.19 secdb of the test data, and, imported
as ``imagewatch db import`` does, the CVE ratings, the KEV catalog and the EPSS
scores of ``../shared/data`` (skipped, with a note, when that folder is absent). Pushed: ``team/py:v1`` twice
(urllib3 1.24.1, then 1.24.3: one advisory fixed), ``team/web:1.0`` (with a
planted token), ``team/xss:latest`` (file paths, ENV keys, labels and package
names holding HTML/script payloads) and ``team/poison:bad`` (more entries than
``inventory.max_entries``: refused and dead-lettered, for real).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

from harness.images import ImageSpec, push_image
from harness.registry import run_registry
from harness.stack import Stack, query, wait_for
from imagewatch.config import Config, load_config
from imagewatch.store.db import connect_pool
from imagewatch.updater.sync import import_paths

ADVISORY_DATA = Path(__file__).resolve().parents[1] / "advisories" / "data"
SHARED = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
SIGNALS = (SHARED / "severity", SHARED / "kev", SHARED / "epss" / "full",
           SHARED / "osv" / "PyPI" / "vulns" / "urllib3", SHARED / "ghsa" / "urllib3",
           SHARED / "distro" / "alpine-secdb" / "v3.19" / "main.json")
URLLIB3 = ADVISORY_DATA / "osv-yaml" / "urllib3"
SECDB_319 = ADVISORY_DATA / "secdb" / "v3.19" / "main.json"
WRITE_TOKEN = "test-token-0123456789abcdef"
XSS_SCRIPT = "<script>alert(1)</script>"
XSS_IMG = '"><img src=x onerror=alert(2)>'
MAX_ENTRIES = 60

APK_DB = """C:Q1fakefakefakefakefakefakefakefake=
P:libssl3
V:3.1.4-r0
A:x86_64
o:openssl
L:Apache-2.0

C:Q1fakefakefakefakefakefakefakefak2=
P:busybox
V:1.36.1-r20
A:x86_64
o:busybox
L:GPL-2.0-only

C:Q1fakefakefakefakefakefakefakefak3=
P:gnutls
V:3.8.1-r0
A:x86_64
o:gnutls
L:LGPL-2.1-or-later

C:Q1fakefakefakefakefakefakefakefak4=
P:perl
V:5.38.0-r0
A:x86_64
o:perl
L:Artistic-1.0-Perl OR GPL-1.0-or-later

"""
SITE = "usr/lib/python3.11/site-packages"
BASE = {"etc/os-release": b"ID=alpine\nVERSION_ID=3.19.1\nPRETTY_NAME=\"Alpine Linux v3.19\"\n",
        "lib/apk/db/installed": APK_DB.encode()}


RATED = [  # two rated advisories, so the demo fleet has severities besides "unknown"
    {"id": "GHSA-demo-urll-0001", "modified": "2030-01-01T00:00:00Z", "aliases": ["CVE-2099-0001"],
     "summary": "urllib3 demo advisory (test data)",
     "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
     "references": [{"type": "WEB", "url": "https://example.invalid/advisories/GHSA-demo-urll-0001"}],
     "affected": [{"package": {"ecosystem": "PyPI", "name": "urllib3"},
                   "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.26.5"}]}]}]},
    {"id": "GHSA-demo-urll-0002", "modified": "2030-01-01T00:00:00Z", "aliases": ["CVE-2099-0002"],
     "summary": "urllib3 demo advisory without a fix (test data)",
     "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H"}],
     "affected": [{"package": {"ecosystem": "PyPI", "name": "urllib3"},
                   "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}]}]}]},
]


def _metadata(name: str, version: str) -> bytes:
    return f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n\n".encode()


def py_image(urllib3: str) -> ImageSpec:
    """Alpine 3.19 with libssl3 3.1.4-r0 and urllib3 ``urllib3``."""
    app = {f"{SITE}/urllib3-{urllib3}.dist-info/METADATA": _metadata("urllib3", urllib3)}
    return ImageSpec(layers=[BASE, app], cmd=["python3", "-m", "app"], env={"APP_MODE": "production"})


def web_image() -> ImageSpec:
    """Alpine with a GitHub token left in a layer's env file."""
    token = "ghp_" + "R8sVq2mZ7xK4pL9nW3tY6uB1cE5dF0gH2jA4"
    app = {"srv/app/.env": f"GITHUB_TOKEN={token}\n".encode(), "srv/app/index.html": b"<h1>hi</h1>\n"}
    return ImageSpec(layers=[BASE, app], user="root", exposed_ports=["8080/tcp"])


def xss_image() -> ImageSpec:
    """Every name an image controls holds a payload: paths, package names, ENV keys, labels."""
    evil_pkg = f"{XSS_SCRIPT}{XSS_IMG}"
    app = {
        f"app/{XSS_SCRIPT}/{XSS_IMG}.txt": b"hello\n",
        f"{SITE}/evil-1.0.dist-info/METADATA": _metadata(evil_pkg, "1.0"),
        f"{SITE}/urllib3-1.24.1.dist-info/METADATA": _metadata("urllib3", "1.24.1"),
    }
    return ImageSpec(layers=[BASE, app], env={f"{XSS_SCRIPT}KEY": "1", f"X{XSS_IMG}": "2"},
                     labels={XSS_SCRIPT: XSS_IMG})


def poison_image() -> ImageSpec:
    """A layer with more entries than the stack's ``inventory.max_entries``: refused, dead-lettered."""
    return ImageSpec(layers=[{f"data/{i}.txt": b"%d\n" % i for i in range(MAX_ENTRIES + 20)}])


@dataclass
class DashboardStack:
    """The running stack: the api's URL, the config, the pushed images' digests by name."""

    url: str
    config: Config
    dsn: str
    digests: dict[str, str] = field(default_factory=dict)


def stack_config(nats_url: str, dsn: str, data_dir: Path) -> Config:
    """The config of the demo stack (tokens of tests/conftest.py)."""
    config = load_config(env={
        "IMAGEWATCH_NATS_URL": nats_url, "IMAGEWATCH_DATABASE_URL": dsn,
        "IMAGEWATCH_WEBHOOK_TOKEN": WRITE_TOKEN, "IMAGEWATCH_ADMISSION_TOKEN": "admission-test-0123456789abcdef",
        "IMAGEWATCH_DATA_DIR": str(data_dir), "IMAGEWATCH_LOG_FORMAT": "json",
    })
    config.bus.nak_delay = 0.2
    config.bus.max_deliver = 2
    config.inventory.max_entries = MAX_ENTRIES
    return config


async def _stage_done(dsn: str, digest: str, stage: str) -> bool:
    rows = await query(dsn, "SELECT state FROM scan_stages WHERE image_digest = $1 AND stage = $2", digest, stage)
    return bool(rows) and rows[0]["state"] in ("done", "failed")


async def _dead_letters(config: Config, n: int) -> bool:
    from imagewatch.runtime.bus import Bus

    bus = await Bus.connect(config.bus, name="dashboard-harness")
    try:
        return len(await bus.dead_letters(limit=100)) >= n
    finally:
        await bus.close()


@contextlib.asynccontextmanager
async def dashboard_stack(workdir: Path, nats_url: str, dsn: str) -> AsyncIterator[DashboardStack]:
    """Start registry and services, import advisories, push the demo images and wait for their scans."""
    config = stack_config(nats_url, dsn, workdir / "data")
    rated = workdir / "rated"
    rated.mkdir(parents=True, exist_ok=True)
    for doc in RATED:
        (rated / f"{doc['id']}.json").write_text(json.dumps(doc))
    pool = await connect_pool(dsn, 1, 2, migrate=False)
    try:
        await import_paths(pool, [URLLIB3, SECDB_319, rated])
        signals = [p for p in SIGNALS if p.exists()]
        if len(signals) < len(SIGNALS):
            print(f"dashboard harness: no CVE ratings/KEV/EPSS at {SHARED}: most findings rate 'unknown'")
        if signals:
            await import_paths(pool, signals)
    finally:
        await pool.close()
    stack = Stack(config)
    stack.reserve_api_port()
    try:
        with run_registry(workdir / "registry", notify_url=f"{stack.api_url}/v1/events/distribution",
                          notify_headers={"Authorization": f"Bearer {WRITE_TOKEN}"},
                          notify_ignore_media_types=["application/octet-stream"]) as reg:
            config.fetcher.insecure_registries.append(reg.host)
            await stack.start("api", "fetcher", "inventory", "secrets", "matcher", "notifier")
            out = DashboardStack(stack.api_url, config, dsn)

            async def push(name: str, repository: str, tag: str, spec: ImageSpec) -> str:
                pushed = await asyncio.to_thread(push_image, reg.host, repository, tag, spec)
                out.digests[name] = pushed.digest
                return pushed.digest

            async def scanned(digest: str) -> None:
                for stage in ("matcher", "secrets", "notifier"):
                    await wait_for(lambda: _stage_done(dsn, digest, stage), timeout=90, what=f"{stage} of {digest}")

            await scanned(await push("py-v1-old", "team/py", "v1", py_image("1.24.1")))
            await scanned(await push("py-v1", "team/py", "v1", py_image("1.24.3")))
            await scanned(await push("web", "team/web", "1.0", web_image()))
            await scanned(await push("xss", "team/xss", "latest", xss_image()))
            await push("poison", "team/poison", "bad", poison_image())
            await wait_for(lambda: _dead_letters(config, 1), timeout=90, what="the poison image dead-lettered")
            yield out
    finally:
        await stack.stop()
