"""Layer reading speed: gzip (isal vs zlib) and zstd decompression, alone and with the tar walk.

Builds a synthetic ~200 MB layer (many small text-like files and a few large
binaries, compressing about 3:1) in a temporary directory, then prints MB/s of
uncompressed tar for each path. A second, entry-heavy layer (``--small-files``
files of 0.1–4 KB, like a ``site-packages``) shows the per-entry cost: header
parsing with ``tarfile`` against ``layers.tarstream.TarReader`` in the same run,
then the walk and the analysis. Each step runs ``--repeat`` times; medians.
Usage: ``python bench/layers.py [--mb 200] [--small-files 30000] [--repeat 5]``.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import os
import random
import statistics
import tarfile
import tempfile
import time
from pathlib import Path

import zstandard
from isal import igzip

from imagewatch.ecosystems.catalog import default_analysers
from imagewatch.layers import walk_layer
from imagewatch.inventory.analysis import analyse_layer
from imagewatch.layers.decompress import open_gzip
try:
    from imagewatch.layers.tarstream import TarReader
except ImportError:  # an older checkout (PYTHONPATH), for before/after figures
    TarReader = None

REPEAT = 5


def build_tar(path: Path, total_mb: int) -> int:
    rnd = random.Random(42)
    words = [os.urandom(rnd.randint(2, 8)).hex() for _ in range(4000)]
    total, n = total_mb * 1024 * 1024, 0
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as tf:
        written = 0
        while written < total:
            big = n % 500 == 499
            size = rnd.randint(2_000_000, 8_000_000) if big else int(rnd.expovariate(1 / 20_000)) + 100
            if big:
                data = os.urandom(size // 3) + bytes(size // 3) + " ".join(rnd.choices(words, k=size // 18)).encode()
            else:
                data = " ".join(rnd.choices(words, k=size // 6)).encode()[:size]
            ti = tarfile.TarInfo(f"usr/share/bench/d{n % 97}/file-{n}.txt")
            ti.size = len(data)
            tf.addfile(ti, io.BytesIO(data))
            written += len(data) + 512
            n += 1
    return path.stat().st_size


def timed(label: str, size: int, fn, entries: int = 0) -> None:
    runs = []
    for _ in range(REPEAT):
        start = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - start)
    secs = statistics.median(runs)
    per_entry = f"  {secs / entries * 1e6:6.1f} µs/entry" if entries else ""
    print(f"{label:<48} {secs:7.3f} s  {size / secs / 1e6:8.1f} MB/s{per_entry}")


def build_small(path: Path, files: int) -> int:
    """An entry-heavy tar: ``files`` text files of 0.1–4 KB in nested directories, PAX format."""
    rnd = random.Random(7)
    words = [os.urandom(rnd.randint(2, 6)).hex() for _ in range(2000)]
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as tf:
        for n in range(files):
            data = " ".join(rnd.choices(words, k=rnd.randint(10, 400))).encode()
            ti = tarfile.TarInfo(f"usr/local/lib/python3.11/site-packages/pkg{n % 300}/sub{n % 7}/mod_{n}.py")
            ti.size, ti.mode = len(data), 0o644
            tf.addfile(ti, io.BytesIO(data))
    return path.stat().st_size


def small_files(tmp: Path, files: int) -> None:
    raw = tmp / "small.tar"
    size = build_small(raw, files)
    gz = tmp / "small.tar.gz"
    with raw.open("rb") as src, igzip.open(gz, "wb", compresslevel=2) as out:
        out.write(src.read())
    with raw.open("rb") as f:
        entries = walk_layer(f).entries
    print(f"\nentry-heavy layer: {entries} entries, {size / 1e6:.0f} MB tar, {gz.stat().st_size / 1e6:.0f} MB gzip")

    def headers_tarfile():
        with raw.open("rb") as f, tarfile.open(fileobj=f, mode="r:") as tf:
            while tf.next() is not None:
                tf.members.clear()

    def headers_tarstream():
        with raw.open("rb") as f:
            for _ in TarReader(f, 1 << 40).members():
                pass

    def walk(p):
        with p.open("rb") as f:
            walk_layer(f)

    analysers = default_analysers()

    def analyse():
        with gz.open("rb") as f:
            analyse_layer(f, "application/vnd.oci.image.layer.v1.tar+gzip", analysers)

    timed("headers only, tarfile (plain tar)", size, headers_tarfile, entries)
    if TarReader is not None:
        timed("headers only, TarReader (plain tar)", size, headers_tarstream, entries)
    timed("walk_layer plain tar", size, lambda: walk(raw), entries)
    timed("walk_layer gzip via isal", size, lambda: walk(gz), entries)
    timed(f"analyse_layer gzip, {len(analysers)} analysers", size, analyse, entries)


def drain(reader) -> None:
    while reader.read(1 << 20):
        pass


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mb", type=int, default=200)
    ap.add_argument("--small-files", type=int, default=30000)
    ap.add_argument("--repeat", type=int, default=REPEAT)
    args = ap.parse_args()
    globals()["REPEAT"] = args.repeat
    with tempfile.TemporaryDirectory(prefix="iw-bench-") as d:
        tmp = Path(d)
        raw = tmp / "layer.tar"
        size = build_tar(raw, args.mb)
        with raw.open("rb") as src, igzip.open(tmp / "layer.tar.gz", "wb", compresslevel=2) as out:
            while chunk := src.read(1 << 20):
                out.write(chunk)
        with raw.open("rb") as src, (tmp / "layer.tar.zst").open("wb") as out:
            zstandard.ZstdCompressor(level=3).copy_stream(src, out)
        gz, zst = tmp / "layer.tar.gz", tmp / "layer.tar.zst"
        print(f"uncompressed tar {size / 1e6:.0f} MB; gzip {gz.stat().st_size / 1e6:.0f} MB;"
              f" zstd {zst.stat().st_size / 1e6:.0f} MB (MB/s are of uncompressed bytes)")

        def read(p, opener):
            with p.open("rb") as f, opener(f) as reader:
                drain(reader)

        timed("decompress gzip, zlib (stdlib gzip)", size, lambda: read(gz, lambda f: gzip.GzipFile(fileobj=f)))
        timed("decompress gzip, isal igzip", size, lambda: read(gz, lambda f: igzip.IGzipFile(fileobj=f)))
        timed("decompress gzip, isal by member (open_gzip)", size, lambda: read(gz, open_gzip))
        timed("decompress zstd, zstandard", size, lambda: read(
            zst, lambda f: zstandard.ZstdDecompressor().stream_reader(f, read_across_frames=True)))
        timed("read plain tar", size, lambda: read(raw, lambda f: f))

        def walk(p, **kw):
            with p.open("rb") as f:
                return walk_layer(f, **kw)

        timed("walk_layer plain tar", size, lambda: walk(raw))
        timed("walk_layer gzip via zlib", size, lambda: walk(gz, prefer_isal=False))
        timed("walk_layer gzip via isal", size, lambda: walk(gz))
        timed("walk_layer zstd", size, lambda: walk(zst))
        with raw.open("rb") as f:
            digest = hashlib.sha256()
            while chunk := f.read(1 << 20):
                digest.update(chunk)
        claim = "sha256:" + digest.hexdigest()
        timed("walk_layer gzip via isal + diff_id check", size, lambda: walk(gz, diff_id=claim))
        count = [0]

        def on_entry(entry, read):
            if read is not None and entry.size < 1 << 20:
                count[0] += len(read())

        timed("walk_layer gzip isal + read every small file", size, lambda: walk(gz, on_entry=on_entry))
        analysers = default_analysers()

        def analyse():
            with gz.open("rb") as f:
                analyse_layer(f, "application/vnd.oci.image.layer.v1.tar+gzip", analysers)

        timed(f"analyse_layer gzip, {len(analysers)} analysers", size, analyse)
        print(f"entries: {walk(raw).entries}; bytes read by on_entry: {count[0] / REPEAT / 1e6:.0f} MB")
        small_files(tmp, args.small_files)


if __name__ == "__main__":
    main()
