"""Debian's chromium driven by Playwright for Python (never a downloaded browser build).

``ensure_chromium`` installs the ``chromium`` package with apt when it is
missing and we are root (as ``make test-deps`` does); otherwise it says why not.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def ensure_chromium() -> str | None:
    """None when /usr/bin/chromium is there (installed now if needed), else the reason it is not."""
    if CHROMIUM.exists():
        return None
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        return "chromium missing (apt-get install chromium)"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], env=env, check=False, capture_output=True)
    done = subprocess.run(["apt-get", "install", "-y", "-qq", "chromium"], env=env, check=False,
                          capture_output=True, text=True)
    return None if CHROMIUM.exists() else f"apt-get install chromium failed: {done.stderr[-300:]}"


async def launch(playwright):
    """A headless Debian chromium."""
    return await playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
