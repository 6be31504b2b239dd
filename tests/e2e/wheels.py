"""Real wheels from PyPI, installed once with pip and cached between runs.

The cache is ``$IMAGEWATCH_TEST_CACHE/wheels/<key>`` (default
``~/.cache/imagewatch-tests``). When PyPI cannot be reached and nothing is
cached, the test is skipped with pip's error as the reason.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest


def cache_root() -> Path:
    """Where downloaded test inputs are kept between runs."""
    configured = os.environ.get("IMAGEWATCH_TEST_CACHE")
    return Path(configured) if configured else Path.home() / ".cache" / "imagewatch-tests"


def installed_wheels(*requirements: str) -> Path:
    """A directory holding ``pip install --target`` of the pinned ``requirements`` (no deps, wheels only)."""
    key = "_".join(sorted(r.lower().replace("==", "-") for r in requirements))
    target = cache_root() / "wheels" / key
    if target.is_dir():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{key}-", dir=target.parent))
    try:
        result = subprocess.run(
            [sys.executable, "-m", "pip", "install", "--disable-pip-version-check", "--no-input",
             "--target", str(scratch / "site"), "--no-deps", "--only-binary", ":all:", *requirements],
            capture_output=True, text=True, timeout=300, check=False)
        if result.returncode != 0:
            lines = [ln for ln in (result.stderr or result.stdout).splitlines() if ln.strip()]
            pytest.skip(f"pip could not install {' '.join(requirements)} (PyPI unreachable?): "
                        f"{lines[-1] if lines else result.returncode}")
        os.replace(scratch / "site", target)  # atomic: a half-installed tree is never cached
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return target


def layer_files(tree: Path, site_packages: str, scripts: str) -> dict[str, tuple[bytes, int]]:
    """The installed tree as layer files: packages under ``site_packages``, ``bin/`` under ``scripts``."""
    files: dict[str, tuple[bytes, int]] = {}
    for path in sorted(tree.rglob("*")):
        if not path.is_file():
            continue
        rel = path.relative_to(tree)
        where = f"{scripts}/{'/'.join(rel.parts[1:])}" if rel.parts[0] == "bin" else f"{site_packages}/{rel}"
        files[where] = (path.read_bytes(), path.stat().st_mode & 0o777)
    return files
