"""inventory_image with several layers in flight: same result in any timing, lowest error, shared layers once."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Mapping
from pathlib import Path

import msgspec
import pytest
from layers.layer_tars import f, tar

from imagewatch.inventory.image import DirectoryLayerCache, LayerFailed, LayerSource, inventory_image
from imagewatch.models import Package

TAR = "application/vnd.oci.image.layer.v1.tar"


class Lines:
    """A test analyser: one lang package per line of every ``*.pkgs`` file."""

    name, version = "lines", 1

    def wants(self, path: str, size: int) -> bool:
        return path.endswith(".pkgs")

    def analyse(self, files: Mapping[str, Path]) -> list[Package]:
        return [Package(name=line, version="1", ecosystem="PyPI", kind="lang", path=path)
                for path, file in files.items() for line in file.read_text().split()]


def _source(data: bytes, delay: float, fetched: list[str]) -> LayerSource:
    diff_id = "sha256:" + hashlib.sha256(data).hexdigest()

    async def fetch(path: Path) -> None:
        await asyncio.sleep(delay)
        fetched.append(diff_id)
        path.write_bytes(data)
    return LayerSource(diff_id, TAR, fetch)


LAYERS = [tar(f(f"app{i}/x.pkgs", f"pkg{i} shared\n")) for i in range(4)]


@pytest.mark.parametrize("delays", [(0, 0, 0, 0), (0.05, 0, 0.02, 0), (0, 0.03, 0, 0.06)])
@pytest.mark.parametrize("concurrency", [1, 2, 3])
async def test_result_does_not_depend_on_timing(tmp_path, delays, concurrency):
    fetched: list[str] = []
    sources = [_source(data, d, fetched) for data, d in zip(LAYERS, delays)]
    sources.append(sources[1])  # a layer that appears twice is read once
    got = await inventory_image(sources, [Lines()], DirectoryLayerCache(tmp_path / f"c{concurrency}"),
                                tmp_dir=tmp_path, concurrency=concurrency)
    assert sorted(fetched) == sorted({s.diff_id for s in sources})
    assert list(got.analysed) == [s.diff_id for s in sources[:4]]  # in layer order
    reference = await inventory_image(sources, [Lines()], DirectoryLayerCache(tmp_path / "ref"),
                                      tmp_dir=tmp_path, concurrency=1)
    assert msgspec.json.encode(got.inventory) == msgspec.json.encode(reference.inventory)
    shared = [p for p in got.inventory.packages if p.name == "shared"]
    assert [p.layer for p in shared] == [s.diff_id for s in sources[:4]]


async def test_lowest_failing_layer_is_reported_even_when_a_higher_one_fails_first(tmp_path):
    fetched: list[str] = []
    good = _source(LAYERS[0], 0, fetched)
    slow_bad = _source(b"\x1f\x8bnot gzip at all" * 40, 0.08, fetched)
    fast_bad = _source(b"\x28\xb5\x2f\xfdnot zstd either" * 40, 0, fetched)
    with pytest.raises(LayerFailed) as info:
        await inventory_image([good, slow_bad, fast_bad], [Lines()], DirectoryLayerCache(tmp_path / "c"),
                              tmp_dir=tmp_path, concurrency=3)
    assert info.value.diff_id == slow_bad.diff_id
    await asyncio.sleep(0.1)  # nothing left running writes into tmp_path
    assert [p for p in tmp_path.iterdir() if p.name.startswith("iw-")] == []
