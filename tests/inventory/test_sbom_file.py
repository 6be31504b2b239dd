"""Packages vendored by pip, read from the real ``pip/_vendor/bom.cdx.json`` its wheel ships."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from imagewatch.ecosystems.sbom.analyser import SbomAnalyser

pip = pytest.importorskip("pip")
BOM = Path(pip.__file__).parent / "_vendor" / "bom.cdx.json"


def test_pip_vendored_packages_from_its_cyclonedx_file():
    if not BOM.is_file():
        pytest.skip(f"this pip ships no {BOM.name}")
    analyser = SbomAnalyser()
    path = "usr/local/lib/python3.11/site-packages/pip/_vendor/bom.cdx.json"
    assert analyser.wants(path, BOM.stat().st_size) and not analyser.wants("app/bom.json", 10)
    found = analyser.analyse({path: BOM})
    listed = {c["purl"].split("@")[0].lower() for c in json.loads(BOM.read_text())["components"]
              if c.get("purl", "").startswith("pkg:pypi/")}
    assert {p.purl.split("@")[0] for p in found} == {purl.replace("_", "-") for purl in listed}
    assert {(p.ecosystem, p.path) for p in found} == {("PyPI", path)}
    assert any(p.name == "urllib3" for p in found)
