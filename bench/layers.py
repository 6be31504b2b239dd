"""Layer reading speed: gzip (isal vs zlib) and zstd decompression, alone and with the tar walk.

Builds a synthetic ~200 MB layer (many small text-like files and a few large
binaries, compressing about 3:1) in a temporary directory, then prints MB/s of
uncompressed tar for each path. Usage: ``python bench/layers.py [--mb 200]``.
"""

from __future__ import annotations

import argparse
import gzip
import io
import os
import random
import tarfile
import tempfile
import time
from pathlib import Path

import zstandard
from isal import igzip, igzip_threaded

from imagewatch.analysers.registry import default_analysers
from imagewatch.layers import analyse_layer, walk_layer
from imagewatch.layers.decompress import open_gzip


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


def timed(label: str, size: int, fn) -> None:
    start = time.perf_counter()
    fn()
    secs = time.perf_counter() - start
    print(f"{label:<44} {secs:7.2f} s  {size / secs / 1e6:8.1f} MB/s")


def drain(reader) -> None:
    while reader.read(1 << 20):
        pass


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mb", type=int, default=200)
    args = ap.parse_args()
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
            with p.open("rb") as f:
                drain(opener(f))

        timed("decompress gzip, zlib (stdlib gzip)", size, lambda: read(gz, lambda f: gzip.GzipFile(fileobj=f)))
        timed("decompress gzip, isal igzip", size, lambda: read(gz, lambda f: open_gzip(f)))
        timed("decompress gzip, isal igzip_threaded", size,
              lambda: read(gz, lambda f: igzip_threaded.open(f, "rb", threads=1)))
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
        print(f"entries: {walk(raw).entries}; bytes read by on_entry: {count[0] / 1e6:.0f} MB")


if __name__ == "__main__":
    main()
