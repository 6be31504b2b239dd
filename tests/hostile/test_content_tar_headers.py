"""Oversized GNU long-name/long-link and PAX headers are refused before they are read, in bounded memory.

A 64 MiB extension header compresses to ~64 KB; read whole it drove a worker
to hundreds of MiB. Every kind (``L``, ``K``, ``x``, ``g``), first or later in
the layer, on the fast reader and after a hand-over to ``tarfile``, is refused
with ``layers: refused (extension_header)`` and Python's peak allocation
stays far below the header's size. Headers up to the cap still work.
"""

from __future__ import annotations

import io
import tracemalloc

import pytest

from hostile.bombs import fallback_then_bomb, long_name_bomb, regular
from imagewatch.layers import LayerRefused, walk_layer
from imagewatch.layers.tarstream import MAX_EXTENSION_BYTES

BOMB = 64 * 1024 * 1024
PEAK_LIMIT = 8 * 1024 * 1024  # a small fraction of the header, whatever the decompressor's buffers


def _walk_bounded(blob: bytes) -> tuple[BaseException | None, int]:
    tracemalloc.start()
    try:
        walk_layer(io.BytesIO(blob))
        error = None
    except LayerRefused as exc:
        error = exc
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return error, peak


@pytest.mark.parametrize("typ", [b"L", b"K", b"x", b"g"], ids=["gnu-longname", "gnu-longlink", "pax", "pax-global"])
def test_extension_header_bomb_is_refused_in_bounded_memory(typ):
    blob = long_name_bomb(BOMB, typ)
    assert len(blob) < 200_000  # small on the wire
    error, peak = _walk_bounded(blob)
    assert isinstance(error, LayerRefused) and error.reason == "extension_header"
    assert "exceeds the 1048576-byte limit" in str(error)
    assert peak < PEAK_LIMIT, f"peak Python allocation {peak} bytes"


def test_bomb_after_a_normal_member_is_refused_too():
    error, peak = _walk_bounded(long_name_bomb(BOMB, b"L", before=regular("etc/hostname", b"box\n")))
    assert isinstance(error, LayerRefused) and error.reason == "extension_header"
    assert peak < PEAK_LIMIT


def test_bomb_after_the_hand_over_to_tarfile_is_refused():
    error, peak = _walk_bounded(fallback_then_bomb(BOMB))
    assert isinstance(error, LayerRefused) and error.reason == "extension_header", error
    assert peak < PEAK_LIMIT


def test_rss_growth_stays_bounded_for_many_bombs():
    psutil = pytest.importorskip("psutil")
    process = psutil.Process()
    blob = long_name_bomb(BOMB, b"x")
    walk_layer_refusals = 0
    before = process.memory_info().rss
    for _ in range(5):
        with pytest.raises(LayerRefused):
            walk_layer(io.BytesIO(blob))
        walk_layer_refusals += 1
    growth = process.memory_info().rss - before
    assert walk_layer_refusals == 5 and growth < 48 * 1024 * 1024, f"RSS grew by {growth} bytes"


@pytest.mark.parametrize("typ", [b"L", b"x"])
def test_headers_up_to_the_cap_still_work(typ):
    walk = walk_layer(io.BytesIO(long_name_bomb(MAX_EXTENSION_BYTES - 512, typ)))
    assert walk.entries == 1 and len(next(iter(walk.paths))) > 1_000_000
