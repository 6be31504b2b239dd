"""open_gzip: members back to back, bytes after the tar ignored unless needed, errors as gzip raises them."""

import gzip
import io

import pytest
from layers.layer_tars import f, gz, tar, zst

from imagewatch.layers import LayerError, walk_layer
from imagewatch.layers.decompress import open_gzip

SIMPLE = tar(f("etc/hostname", "box\n"), f("usr/bin/tool", b"\x7fELF"))
BIG = tar(*[f(f"srv/{i}", bytes([i % 251]) * 3000) for i in range(600)])


@pytest.mark.parametrize("prefer_isal", [True, False])
@pytest.mark.parametrize("trailer", [b"\0" * 100, b"junk" * 10, gz(b"x" * 5000)[:30], b"\x1f"])
@pytest.mark.parametrize("layer", [SIMPLE, BIG], ids=["small", "big"])
def test_bytes_after_the_tar_are_never_decoded(prefer_isal, trailer, layer):
    walk = walk_layer(io.BytesIO(gz(layer) + trailer), prefer_isal=prefer_isal)
    assert walk.entries == len(walk.paths) and walk.uncompressed_bytes <= len(layer)


def test_zstd_trailing_bytes_are_ignored_too():
    assert walk_layer(io.BytesIO(zst(BIG) + b"junk")).entries == 600


@pytest.mark.parametrize("prefer_isal", [True, False])
def test_members_inflate_like_gzip(prefer_isal):
    data = b"".join(gzip.compress(bytes([i]) * (i * 997), mtime=0) for i in range(1, 40)) + gzip.compress(b"")
    reader = open_gzip(io.BytesIO(data), prefer_isal)
    assert reader.read(10) == b"\x01" * 10
    assert reader.read() == gzip.decompress(data)[10:] and reader.read(5) == b""


@pytest.mark.parametrize("prefer_isal", [True, False])
@pytest.mark.parametrize("blob,message", [
    (gz(BIG)[:len(gz(BIG)) // 2], "EOFError: Compressed file ended"),
    (gz(BIG[:4096]) + b"junk", r"BadGzipFile: Not a gzipped file \(b'ju'\)"),
])
def test_damage_the_tar_needs_is_an_error(prefer_isal, blob, message):
    with pytest.raises(LayerError, match=message):
        walk_layer(io.BytesIO(blob), prefer_isal=prefer_isal)
