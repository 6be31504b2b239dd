"""Inventory vs Trivy on images of real package content in a local registry.

Builds images from ``tests/harness/realdata`` (real ``.deb`` files with their
dpkg database, real wheels, npm packages, the ``nats-server`` Go binary,
Debian's log4j jar) and pushes them to a ``docker-registry`` started here.
For each image, one child process runs imagewatch's inventory the way the
services do (``RegistryClient`` pulls and verifies the layers,
``inventory_image`` analyses and composes, a ``DirectoryLayerCache``) and
another runs ``trivy image --format cyclonedx`` on the same reference; wall
time and peak RSS (``wait4``) of each, package counts and the package-set
difference are printed. A re-push that shares the base layers runs with the
caches the first image left (imagewatch's layer cache, Trivy's cache dir).

Trivy runs offline (``--skip-db-update --skip-java-db-update --offline-scan``)
with an empty Java index DB (the real one is a ~1 GB download): jars without
``pom.properties`` get no Maven coordinates from Trivy here.

Usage: ``.venv/bin/python bench/inventory.py [--repeat N] [--layer-concurrency 1,2] [--no-trivy]``.
Each image is measured ``--repeat`` times per tool; medians are printed (the
best run in brackets). ``--layer-concurrency`` runs imagewatch once per value
(layers fetched and analysed at once), so settings compare in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import sqlite3
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path
from urllib.parse import unquote

ROOT = Path(__file__).resolve().parents[1]
# bench/secrets.py would shadow the stdlib ``secrets`` the harness needs; tests/ holds the harness
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"] + [str(ROOT / "tests")]

TRIVY = Path(sys.executable).parent / "trivy"
OFFLINE = ["--skip-db-update", "--skip-java-db-update", "--offline-scan"]


# --------------------------------------------------------------------------- package keys


def purl_key(purl: str) -> tuple[str, str, str] | None:
    """(type, namespace/name, version) of a purl, with Trivy's spellings folded into ours.

    Trivy writes a deb epoch as a qualifier and Go's toolchain as ``v1.x``;
    imagewatch keeps the epoch in the version (``1:1.2.13``) and writes
    ``stdlib@1.x`` (the OSV form). PyPI names are compared normalised.
    """
    from packageurl import PackageURL
    from packaging.utils import canonicalize_name

    if not purl:
        return None
    p = PackageURL.from_string(purl)
    version = unquote(p.version or "")
    if p.type == "deb" and p.qualifiers.get("epoch"):
        version = f"{p.qualifiers['epoch']}:{version}"
    if p.type == "golang" and p.name == "stdlib":
        version = version.removeprefix("v")
    name = canonicalize_name(p.name) if p.type == "pypi" else p.name
    return p.type, f"{p.namespace}/{name}" if p.namespace else name, version


# --------------------------------------------------------------------------- child: imagewatch


async def _imagewatch(reference: str, host: str, cache: Path, out: Path, concurrency: str) -> None:
    import aiohttp

    from imagewatch.ecosystems.catalog import default_analysers
    from imagewatch.inventory.image import DirectoryLayerCache, LayerSource, inventory_image
    from imagewatch.oci import RegistryClient

    started = time.perf_counter()
    async with aiohttp.ClientSession() as session:
        client = RegistryClient(session, insecure_registries={host})
        [image] = await client.pull_images(reference)

        def source(layer):
            async def fetch(path: Path) -> None:
                await client.get_blob(image.reference, layer.digest, path, size=layer.size)
            return LayerSource(layer.diff_id, layer.media_type, fetch)

        tmp = cache / "tmp"
        tmp.mkdir(parents=True, exist_ok=True)
        kw = {"concurrency": int(concurrency)} if concurrency else {}
        result = await inventory_image([source(layer) for layer in image.layers], default_analysers(),
                                       DirectoryLayerCache(cache / "layers"), tmp_dir=tmp, **kw)
    packages = [{"purl": p.purl, "path": p.path, "ecosystem": p.ecosystem} for p in result.inventory.packages]
    out.write_text(json.dumps({"packages": packages, "layers_read": len(result.analysed),
                               "inventory_seconds": time.perf_counter() - started}))


# --------------------------------------------------------------------------- parent


def _measure(args: list[str]) -> tuple[float, float]:
    """Run ``args``; (wall seconds, peak RSS MiB of that process alone).

    GNU ``time`` reports the peak: a child forked straight from this (large)
    process would count the parent's pages in its own maximum RSS.
    """
    with tempfile.NamedTemporaryFile("r", prefix="iw-rss-") as rss:
        started = time.perf_counter()
        proc = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", rss.name, *args],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
        seconds = time.perf_counter() - started
        if proc.returncode != 0:
            raise RuntimeError(f"{args[0]} failed ({proc.returncode}): {proc.stderr.decode()[-2000:]}")
        return seconds, int(rss.read().split()[-1]) / 1024


def run_imagewatch(reference: str, host: str, cache: Path, out: Path, concurrency: str = "") -> dict:
    seconds, rss = _measure([sys.executable, __file__, "--child", reference, host, str(cache), str(out),
                             concurrency])
    data = json.loads(out.read_text())
    keys = {purl_key(p["purl"]) for p in data["packages"]} - {None}
    return {"seconds": seconds, "rss": rss, "keys": keys, "count": len(data["packages"]),
            "layers_read": data["layers_read"], "packages": data["packages"],
            "inventory_seconds": data["inventory_seconds"]}


def empty_java_db(cache: Path) -> None:
    """An empty Trivy Java index DB (schema of aquasecurity/trivy-java-db, version 1), so jars are analysed."""
    db_dir = cache / "java-db"
    db_dir.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(db_dir / "trivy-java.db") as db:
        db.executescript(
            "CREATE TABLE IF NOT EXISTS artifacts(id INTEGER PRIMARY KEY, group_id TEXT, artifact_id TEXT);"
            "CREATE TABLE IF NOT EXISTS indices(artifact_id INTEGER, version TEXT, sha1 BLOB, archive_type TEXT,"
            " foreign key (artifact_id) references artifacts(id));"
            "CREATE UNIQUE INDEX IF NOT EXISTS artifacts_idx ON artifacts(artifact_id, group_id);"
            "CREATE INDEX IF NOT EXISTS indices_artifact_idx ON indices(artifact_id);"
            "CREATE UNIQUE INDEX IF NOT EXISTS indices_sha1_idx ON indices(sha1);")
    (db_dir / "metadata.json").write_text(json.dumps({
        "Version": 1, "NextUpdate": "2999-01-01T00:00:00Z", "UpdatedAt": "2024-01-01T00:00:00Z",
        "DownloadedAt": "2024-01-01T00:00:00Z"}))


def run_trivy(reference: str, cache: Path, out: Path) -> dict:
    empty_java_db(cache)
    seconds, rss = _measure([str(TRIVY), "image", "--quiet", "--cache-dir", str(cache), "--insecure",
                             "--image-src", "remote", "--format", "cyclonedx", "--output", str(out),
                             *OFFLINE, reference])
    components = json.loads(out.read_text()).get("components", [])
    libraries = [c for c in components if c.get("type") == "library"]
    paths = {}
    for c in libraries:
        props = {p["name"]: p["value"] for p in c.get("properties", [])}
        paths[purl_key(c.get("purl", ""))] = props.get("aquasecurity:trivy:FilePath", "")
    return {"seconds": seconds, "rss": rss, "keys": set(paths) - {None}, "count": len(libraries), "paths": paths}


def build_images(registry: str) -> list[tuple[str, str]]:
    """Push the bench images; [(label, reference)] in the order they are measured."""
    from harness import realdata
    from harness.images import layer_tar
    from inventory.real_images import real_image
    from inventory.raw_images import push_raw

    image = real_image()  # base, pruned wheels, npm, Go binary + jar
    wheels = realdata.python_wheels()
    full_wheels = layer_tar(realdata.tree_layer(wheels.tree, "usr/local/lib/python3.11/site-packages"))
    site = Path(sysconfig.get_paths()["purelib"])
    venv = layer_tar(realdata.tree_layer(site, "usr/local/lib/python3.11/site-packages",
                                         keep=lambda rel: "__pycache__" not in rel, skip_above=64 << 20))
    base, _, npm, top = image.layers
    app2 = layer_tar(realdata.tree_layer(realdata.npm_packages().tree, "srv"))  # a new top layer
    images = [
        ("app (deb + wheels + npm + Go + jar)", "bench/app", "1", [base, full_wheels, npm, top]),
        ("re-push: same base + wheels, new top", "bench/app", "2", [base, full_wheels, app2]),
        ("python (deb + a real venv, 189 MB)", "bench/venv", "1", [base, venv]),
    ]
    out = []
    for label, repo, tag, layers in images:
        pushed = push_raw(registry, repo, tag, layers)
        out.append((label, pushed.reference))
    return out


def _median(runs: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1, help="runs per image and tool; medians are printed")
    parser.add_argument("--layer-concurrency", default="",
                        help="comma-separated values to compare (default: the library's)")
    parser.add_argument("--no-trivy", action="store_true", help="measure imagewatch only")
    parser.add_argument("--child", nargs=5, metavar=("REF", "HOST", "CACHE", "OUT", "CONCURRENCY"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        ref, host, cache, out, concurrency = args.child
        asyncio.run(_imagewatch(ref, host, Path(cache), Path(out), concurrency))
        return
    from harness.registry import run_registry

    settings = args.layer_concurrency.split(",") if args.layer_concurrency else [""]
    tools = [f"iw{c}" for c in settings] + ([] if args.no_trivy else ["trivy"])
    with tempfile.TemporaryDirectory(prefix="iw-bench-inv-") as scratch, run_registry(Path(scratch) / "reg") as reg:
        tmp = Path(scratch)
        images = build_images(reg.host)
        runs: dict[tuple[str, str], list[dict]] = {}
        for attempt in range(args.repeat):
            for tool in tools:  # each tool (and setting) in turn, so load changes hit all alike
                cache = tmp / f"{tool}-{attempt}"
                for label, ref in images:
                    if label.startswith("python"):  # its own cold caches: a fresh image
                        shutil.rmtree(cache / "layers", ignore_errors=True)
                        shutil.rmtree(cache / "fanal", ignore_errors=True)
                    if tool == "trivy":
                        res = run_trivy(ref, cache, tmp / "trivy.json")
                    else:
                        res = run_imagewatch(ref, reg.host, cache, tmp / "iw.json", tool.removeprefix("iw"))
                    runs.setdefault((label, tool), []).append(res)
        print(f"medians of {args.repeat} (best in brackets)")
        print(f"{'image':<38} {'tool':<14} {'wall s':>13} {'in-process s':>13} {'peak RSS MiB':>13} "
              f"{'packages':>9} {'layers read':>12}")
        diffs = []
        for label, _ in images:
            for tool in tools:
                rs = runs[(label, tool)]
                best = min(rs, key=lambda r: r["seconds"])
                wall = f"{_median(rs, 'seconds'):.2f} ({best['seconds']:.2f})"
                name = "trivy" if tool == "trivy" else "imagewatch" + (f" c={tool[2:]}" if tool[2:] else "")
                if tool == "trivy":
                    print(f"{'':<38} {name:<14} {wall:>13} {'':>13} {_median(rs, 'rss'):13.0f} {best['count']:9d}")
                    continue
                inproc = f"{_median(rs, 'inventory_seconds'):.2f} ({min(r['inventory_seconds'] for r in rs):.2f})"
                print(f"{label if tool == tools[0] else '':<38} {name:<14} {wall:>13} {inproc:>13} "
                      f"{_median(rs, 'rss'):13.0f} {best['count']:9d} {best['layers_read']:12d}")
            if not args.no_trivy:
                iw, tv = runs[(label, tools[0])][0], runs[(label, "trivy")][0]
                diffs.append((label, sorted(tv["keys"] - iw["keys"]), sorted(iw["keys"] - tv["keys"]), tv, iw))
        for label, only_trivy, only_iw, tv, iw in diffs:
            print(f"\n{label}: {len(tv['keys'] & iw['keys'])} packages in both")
            for key in only_trivy:
                print(f"  only Trivy:      {key}  ({tv['paths'].get(key, '')})")
            for key in only_iw:
                paths = sorted({p['path'] for p in iw['packages'] if purl_key(p['purl']) == key})
                print(f"  only imagewatch: {key}  ({', '.join(paths)})")
        for label, _ in images:  # every setting must find the same packages
            found = {tool: sorted(json.dumps(p, sort_keys=True) for p in runs[(label, tool)][0]["packages"])
                     for tool in tools if tool != "trivy"}
            if len({json.dumps(v) for v in found.values()}) > 1:
                print(f"\nWARNING: {label}: layer-concurrency settings found different packages")


if __name__ == "__main__":
    main()
