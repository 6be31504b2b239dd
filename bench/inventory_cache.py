"""Inventory cost of a re-push that shares its base layer, with the per-layer cache.

The base layer is a gzip tar of this interpreter's ``site-packages`` (real
``dist-info`` directories, thousands of files); each "app" layer is one small
Python distribution. Prints wall time of: the first image (cold cache), a
second image sharing the base (only its new layer is read), the same image
again (all cached), and a re-analysis after bumping one analyser's version.
Usage: ``python bench/inventory_cache.py``.
"""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import io
import sysconfig
import tarfile
import tempfile
import time
from pathlib import Path

from imagewatch.ecosystems.python.analyser import PythonAnalyser
from imagewatch.ecosystems.catalog import default_analysers
from imagewatch.inventory.image import DirectoryLayerCache, LayerSource, inventory_image

GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"


def site_packages_layer() -> bytes:
    site = Path(sysconfig.get_paths()["purelib"])
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        tf.add(site, arcname="usr/local/lib/python3.11/site-packages",
               filter=lambda ti: None if "__pycache__" in ti.name else ti)
    return gzip.compress(buf.getvalue(), compresslevel=6)


def app_layer(name: str) -> bytes:
    meta = f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n".encode()
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        ti = tarfile.TarInfo(f"app/{name}-1.0.dist-info/METADATA")
        ti.size = len(meta)
        tf.addfile(ti, io.BytesIO(meta))
    return gzip.compress(buf.getvalue())


def source(blob: bytes) -> LayerSource:
    async def fetch(path: Path) -> None:
        path.write_bytes(blob)
    return LayerSource("sha256:" + hashlib.sha256(gzip.decompress(blob)).hexdigest(), GZIP, fetch)


async def timed(label: str, layers, cache, tmp: Path) -> None:
    started = time.perf_counter()
    result = await inventory_image(layers, default_analysers(), cache, tmp_dir=tmp)
    seconds = time.perf_counter() - started
    print(f"{label:<34} {seconds * 1000:9.1f} ms  {len(result.inventory.packages):5d} packages  "
          f"layers read: {len(result.analysed)}")


async def main() -> None:
    base = site_packages_layer()
    print(f"base layer: {len(base) / 1e6:.1f} MB gzip")
    with tempfile.TemporaryDirectory(prefix="iw-bench-") as scratch:
        tmp = Path(scratch)
        cache = DirectoryLayerCache(tmp / "cache")
        first = [source(base), source(app_layer("first"))]
        second = [source(base), source(app_layer("second"))]
        await timed("first image (cold)", first, cache, tmp)
        await timed("re-push sharing the base", second, cache, tmp)
        await timed("same image again (all cached)", second, cache, tmp)
        PythonAnalyser.version += 1
        await timed("python-dist version bumped", second, cache, tmp)


if __name__ == "__main__":
    asyncio.run(main())
