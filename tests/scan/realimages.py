"""Real images for the severity, coverage and priority tests, as OCI layouts, and the shared data store.

- ``debian_layout``: real Debian 12 ``.deb`` files (``harness.realdata.debian_root``),
  only their dpkg database and os-release kept (the analyser reads nothing else);
- ``django_layout``: Debian 12 os-release plus the real Django 2.2 / urllib3
  1.24.1 / requests 2.19.0 / PyYAML 6.0 wheels;
- ``alpine_layout``: an Alpine 3.22 os-release and apk database (no data for it).

``shared_store`` imports what a user would: the Debian slice, the CVE records
and vulnrichment, the GitHub advisories, the PyPI records of the wheels, KEV,
the EPSS slice and the end-of-life data.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from harness.images import ImageSpec, build_image
from harness.realdata import Unavailable, debian_root, python_wheels, tree_layer

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
SITE = "usr/local/lib/python3.11/site-packages"
DEBIAN_OS = b'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\n'
# Binary packages of sources the Debian slice has many records for.
DEBIAN_PACKAGES = ("base-files", "libc6", "libgnutls30", "libsystemd0", "perl-base", "util-linux", "gpgv",
                   "tar", "login", "passwd", "coreutils", "bash", "apt", "libudev1", "zlib1g")
PYPI = ("django", "urllib3", "requests", "pyyaml")


def shared_paths() -> list[Path]:
    """The shared data a user imports, or a skip when the folder is absent."""
    paths = [SHARED / "debian" / "osv", SHARED / "severity", SHARED / "ghsa", SHARED / "kev",
             SHARED / "epss" / "epss-slice-debian12-minbase.csv",
             *(SHARED / "osv" / "PyPI" / "vulns" / p for p in PYPI)]
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        pytest.skip(f"shared data not found: {', '.join(missing)} (see ../shared/data/README.md)")
    return paths


def _need(builder, *args):
    try:
        return builder(*args)
    except Unavailable as exc:
        pytest.skip(str(exc))


def debian_layout(root: Path) -> tuple[Path, list[dict[str, str]]]:
    """A Debian 12 image of real packages at ``root:app``, and their control fields."""
    built = _need(debian_root, DEBIAN_PACKAGES)
    layer = tree_layer(built.tree, keep=lambda rel: rel.startswith("var/lib/dpkg/"))
    layer["etc/os-release"] = DEBIAN_OS
    build_image(root, "app", ImageSpec(layers=[layer], cmd=["/bin/bash"]))
    return root, built.manifest


def django_layout(root: Path) -> Path:
    """Debian 12 with the real Django 2.2 wheel (and urllib3, requests, PyYAML) at ``root:app``."""
    built = _need(python_wheels)
    base = {"etc/os-release": DEBIAN_OS}
    build_image(root, "app", ImageSpec(layers=[base, tree_layer(built.tree, prefix=SITE)], cmd=["python3"]))
    return root


def alpine_layout(root: Path, version: str = "3.22.1") -> Path:
    """An Alpine ``version`` image with one apk package at ``root:app``."""
    apk = "C:Q1fakefakefakefakefakefakefakefake=\nP:musl\nV:1.2.5-r10\nA:x86_64\no:musl\nL:MIT\n\n"
    base = {"etc/os-release": f'ID=alpine\nVERSION_ID={version}\nPRETTY_NAME="Alpine Linux v{version}"\n'.encode(),
            "lib/apk/db/installed": apk.encode()}
    build_image(root, "app", ImageSpec(layers=[base], cmd=["/bin/sh"]))
    return root


def dpkg_less(a: str, b: str) -> bool:
    """``a < b`` by ``dpkg --compare-versions`` (the oracle, independent of our dpkg scheme)."""
    return subprocess.run(["dpkg", "--compare-versions", a, "lt", b], check=False).returncode == 0
