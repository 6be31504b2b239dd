"""Test images made of real package content (``harness.realdata``), and what each layer really holds.

``real_layers()`` returns the layer tars of the image, base first:

0. Debian: real ``.deb`` files unpacked, with the dpkg status and file lists
   (``liblog4j1.2-java`` ships ``usr/share/java/log4j-1.2-1.2.17.jar`` and
   three symlinks to it, all owned by dpkg).
1. Real wheels in ``usr/local/lib/python3.11/site-packages`` (Django pruned to
   its metadata and ``__init__.py``: the image stays small).
2. Real npm packages under ``app/node_modules``.
3. The real Go binary ``nats-server`` at ``usr/local/bin/nats-server`` with a
   hard link ``usr/bin/nats-server``, and Debian's log4j jar copied into a
   Maven local repository (``root/.m2/repository/log4j/log4j/1.2.17/``).

``change_layer()`` is a fifth layer: a whited-out file and directory, an
opaque ``node_modules`` that keeps only lodash, and symlinks whose targets
climb out of the image root.
"""

from __future__ import annotations

import io
import tarfile
from collections.abc import Sequence
from dataclasses import dataclass

import pytest

from harness import realdata
from harness.images import layer_tar

SITE = "usr/local/lib/python3.11/site-packages"
GO_BINARY = "usr/local/bin/nats-server"
GO_HARDLINK = "usr/bin/nats-server"
M2_JAR = "root/.m2/repository/log4j/log4j/1.2.17/log4j-1.2.17.jar"
DEB_JAR = "usr/share/java/log4j-1.2-1.2.17.jar"
# A file this machine has but no test image does: reading it would mean escaping the image.
HOST_ONLY = "usr/lib/node_modules/npm/package.json"


@dataclass(frozen=True)
class Entry:
    """One raw tar member: a file (``data``), ``symlink``/``hardlink`` (``link``) or ``dir``."""

    name: str
    kind: str = "file"
    data: bytes = b""
    link: str = ""
    mode: int = 0o644


def raw_layer(entries: Sequence[Entry]) -> bytes:
    """An uncompressed tar of ``entries`` in order (hard links and ``.wh.`` names as given)."""
    out = io.BytesIO()
    kinds = {"file": tarfile.REGTYPE, "symlink": tarfile.SYMTYPE, "hardlink": tarfile.LNKTYPE,
             "dir": tarfile.DIRTYPE}
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for e in entries:
            info = tarfile.TarInfo(e.name)
            info.type, info.mode, info.mtime, info.linkname = kinds[e.kind], e.mode, 1_700_000_000, e.link
            info.size = len(e.data) if e.kind == "file" else 0
            tar.addfile(info, io.BytesIO(e.data) if e.kind == "file" else None)
    return out.getvalue()


def need(builder, *args):
    """``builder(*args)``, or skip the test with the reason real data is unavailable."""
    try:
        return builder(*args)
    except realdata.Unavailable as exc:
        pytest.skip(str(exc))


def _keep_wheel_file(rel: str) -> bool:
    return not rel.startswith("django/") or rel == "django/__init__.py"


@dataclass
class RealImage:
    """Layer tars, base first, and what the sources say each layer holds."""

    layers: list[bytes]
    debian: list[dict[str, str]]
    wheels: list[dict[str, str]]
    npm: list[dict[str, str]]
    go: dict[str, str]


def real_image() -> RealImage:
    """The four real layers (see the module docstring); skips when real data is unavailable."""
    deb = need(realdata.debian_root)
    wheels = need(realdata.python_wheels)
    npm = need(realdata.npm_packages)
    binary = need(realdata.go_binary)
    go = need(realdata.go_modules, binary)
    jar = (deb.tree / DEB_JAR).read_bytes()
    top = raw_layer([
        Entry("usr/local/bin/", "dir", mode=0o755),
        Entry(GO_BINARY, data=binary.read_bytes(), mode=0o755),
        Entry("usr/bin/", "dir", mode=0o755),
        Entry(GO_HARDLINK, "hardlink", link=GO_BINARY, mode=0o755),
        Entry(M2_JAR, data=jar),
    ])
    layers = [
        layer_tar(realdata.tree_layer(deb.tree)),
        layer_tar(realdata.tree_layer(wheels.tree, SITE, keep=_keep_wheel_file)),
        layer_tar(realdata.tree_layer(npm.tree, "app")),
        top,
    ]
    return RealImage(layers, deb.manifest, wheels.manifest, npm.manifest, go)


def change_layer(image: RealImage) -> bytes:
    """Whiteouts (a file, a directory), an opaque ``app/node_modules`` and escaping symlinks."""
    npm = need(realdata.npm_packages)
    urllib3 = next(w for w in image.wheels if w["name"] == "urllib3")
    return raw_layer([
        Entry(f"{SITE}/.wh.urllib3-{urllib3['version']}.dist-info"),  # a directory whited out
        Entry("usr/local/bin/.wh.nats-server"),  # a file whited out; its hard link stays
        Entry("app/node_modules/.wh..wh..opq"),
        Entry("app/node_modules/lodash/package.json",
              data=(npm.tree / "node_modules/lodash/package.json").read_bytes()),
        Entry("app/node_modules/escape/package.json", "symlink", link="../../../../../../../../" + HOST_ONLY),
        Entry("app/node_modules/abs/package.json", "symlink", link="/" + HOST_ONLY),
    ])
