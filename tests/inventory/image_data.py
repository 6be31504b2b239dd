"""Layers of the test images, from the real package data beside the analyser tests.

``BASE`` is a Debian 12 base (os-release, a real dpkg ``status`` with
``var/lib/dpkg/info/python3-yaml.list`` and the PyYAML ``METADATA`` that
package owns); ``LANG`` adds two Python distributions and two npm packages;
``REMOVE`` whites out one distribution's ``dist-info`` directory and rewrites
the dpkg status without ``libgcc-s1``.
"""

from __future__ import annotations

from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
OS_DATA = TESTS / "ecosystems" / "data"
LANG_DATA = TESTS / "ecosystems" / "data"
SITE = "usr/local/lib/python3.11/site-packages"

STATUS = (OS_DATA / "dpkg" / "status").read_bytes()


def _without(status: bytes, package: str) -> bytes:
    stanzas = [s for s in status.decode().split("\n\n") if s.strip()]
    kept = [s for s in stanzas if not s.lstrip().startswith(f"Package: {package}\n")]
    assert len(kept) == len(stanzas) - 1, package
    return ("\n\n".join(kept) + "\n").encode()


BASE = {
    "etc/os-release": (OS_DATA / "dpkg" / "os-release").read_bytes(),
    "var/lib/dpkg/status": STATUS,
    "var/lib/dpkg/info/python3-yaml.list": (OS_DATA / "dpkg" / "python3-yaml.list").read_bytes(),
    "usr/lib/python3/dist-packages/PyYAML-6.0.dist-info/METADATA":
        (LANG_DATA / "python" / "PyYAML-6.0.4.METADATA").read_bytes(),
}
LANG = {
    f"{SITE}/six-1.16.0.dist-info/METADATA": (LANG_DATA / "python" / "six-1.16.0.METADATA").read_bytes(),
    f"{SITE}/typing_extensions-4.16.0.dist-info/METADATA":
        (LANG_DATA / "python" / "typing_extensions-4.16.0.METADATA").read_bytes(),
    "app/node_modules/ms/package.json":
        (LANG_DATA / "node" / "npm-v3" / "node_modules" / "ms" / "package.json").read_bytes(),
    "app/node_modules/debug/package.json":
        (LANG_DATA / "node" / "npm-v3" / "node_modules" / "debug" / "package.json").read_bytes(),
}
REMOVE = {
    f"{SITE}/typing_extensions-4.16.0.dist-info": None,
    "var/lib/dpkg/status": _without(STATUS, "libgcc-s1"),
}
OTHER_APP = {f"{SITE}/six-1.16.0.dist-info/METADATA": LANG[f"{SITE}/six-1.16.0.dist-info/METADATA"]}

# (ecosystem, name, version, index of the introducing layer) expected for BASE + LANG + REMOVE.
EXPECTED = {
    ("Debian", "base-files", "12.4+deb12u11", 0),
    ("Debian", "libssl3", "3.0.19-1~deb12u2", 0),
    ("Debian", "zlib1g", "1:1.2.13.dfsg-1", 0),
    ("Debian", "python3-yaml", "6.0-3+b2", 0),
    ("PyPI", "six", "1.16.0", 1),
    ("npm", "ms", "2.1.2", 1),
    ("npm", "debug", "4.3.4", 1),
}
