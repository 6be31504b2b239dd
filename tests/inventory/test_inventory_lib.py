"""``imagewatch.inventory.image`` without servers: caching per analyser, composition, refusals."""

from __future__ import annotations

import hashlib
from pathlib import Path

import msgspec
import pytest

from harness.images import layer_tar
from inventory.image_data import BASE, EXPECTED, LANG, REMOVE
from imagewatch.inventory import image as inventory
from imagewatch.ecosystems.python.analyser import PythonAnalyser
from imagewatch.ecosystems.catalog import default_analysers
from imagewatch.inventory.image import DirectoryLayerCache, LayerFailed, LayerSource, inventory_image
from imagewatch.layers import LayerLimits

TAR = "application/vnd.oci.image.layer.v1.tar"


def _sources(*tars: bytes) -> list[LayerSource]:
    def fetcher(data: bytes):
        async def fetch(path: Path) -> None:
            path.write_bytes(data)
        return fetch
    return [LayerSource("sha256:" + hashlib.sha256(t).hexdigest(), TAR, fetcher(t)) for t in tars]


@pytest.fixture
def spy(monkeypatch):
    """Record the analyser names of every layer pass."""
    calls: list[list[str]] = []
    real = inventory._analysis.analyse_layer

    def analyse_layer(fileobj, media_type, analysers, *args, **kwargs):
        calls.append([a.name for a in analysers])
        return real(fileobj, media_type, analysers, *args, **kwargs)

    monkeypatch.setattr(inventory._analysis, "analyse_layer", analyse_layer)
    return calls


async def test_compose_caches_and_reanalyses_only_a_bumped_analyser(tmp_path, spy, monkeypatch):
    cache = DirectoryLayerCache(tmp_path / "cache")
    sources = _sources(layer_tar(BASE), layer_tar(LANG), layer_tar(REMOVE))
    analysers = default_analysers()
    first = await inventory_image(sources, analysers, cache, tmp_dir=tmp_path)
    got = {(p.ecosystem, p.name, p.version, [s.diff_id for s in sources].index(p.layer))
           for p in first.inventory.packages}
    assert got == EXPECTED
    assert first.inventory.os.id == "debian" and first.inventory.os.version_id == "12"
    assert set(first.analysed) == {s.diff_id for s in sources} and len(spy) == 3

    again = await inventory_image(sources, analysers, cache, tmp_dir=tmp_path)
    assert again.analysed == {} and len(spy) == 3
    assert msgspec.json.encode(again.inventory) == msgspec.json.encode(first.inventory)

    before = inventory.stage_version(analysers)
    monkeypatch.setattr(PythonAnalyser, "version", 2)
    bumped = await inventory_image(sources, default_analysers(), cache, tmp_dir=tmp_path)
    assert spy[3:] == [["python-dist"]] * 3
    assert bumped.analysed == {s.diff_id: ["python-dist"] for s in sources}
    assert inventory.stage_version(default_analysers()) != before
    assert msgspec.json.encode(bumped.inventory) == msgspec.json.encode(first.inventory)


async def test_refused_layer_names_the_layer_and_reason(tmp_path):
    cache = DirectoryLayerCache(tmp_path / "cache")
    many = {f"junk/{i}": b"" for i in range(50)}
    [bomb] = _sources(layer_tar(many))
    with pytest.raises(LayerFailed) as info:
        await inventory_image([bomb], default_analysers(), cache, LayerLimits(max_entries=20), tmp_path)
    assert str(info.value).startswith("layers: refused (entries)") and info.value.reason == "entries"
    assert bomb.diff_id in str(info.value)
    assert not (tmp_path / "cache").exists()
    assert [p for p in tmp_path.iterdir() if p.name.startswith("iw-")] == []
