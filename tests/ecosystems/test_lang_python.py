"""Python analyser on metadata files copied from real installed distributions."""

from __future__ import annotations

from pathlib import Path

from imagewatch.ecosystems.base import Analyser
from imagewatch.ecosystems.python.analyser import PythonAnalyser

DATA = Path(__file__).parent / "data" / "python"
SITE = "usr/local/lib/python3.11/site-packages"


def test_wants():
    a = PythonAnalyser()
    assert isinstance(a, Analyser)
    assert a.wants(f"{SITE}/PyYAML-6.0.4.dist-info/METADATA", 2000)
    assert a.wants("usr/lib/python3/dist-packages/lazr.uri-1.0.6.egg-info/PKG-INFO", 5000)
    assert a.wants("usr/lib/python3/dist-packages/crcmod-1.7.egg-info", 5000)
    assert a.wants(f"{SITE}/foo-1.0-py3.11.egg/EGG-INFO/PKG-INFO", 5000)
    assert not a.wants(f"{SITE}/PyYAML-6.0.4.dist-info/RECORD", 2000)
    assert not a.wants(f"{SITE}/PyYAML-6.0.4.dist-info/METADATA", 100 << 20)


def test_analyse_real_metadata():
    files = {
        f"{SITE}/PyYAML-6.0.4.dist-info/METADATA": DATA / "PyYAML-6.0.4.METADATA",
        f"{SITE}/typing_extensions-4.16.0.dist-info/METADATA": DATA / "typing_extensions-4.16.0.METADATA",
        f"{SITE}/six-1.16.0.dist-info/METADATA": DATA / "six-1.16.0.METADATA",
        "usr/lib/python3/dist-packages/lazr.uri-1.0.6.egg-info/PKG-INFO": DATA / "lazr.uri-1.0.6.PKG-INFO",
        "usr/lib/python3/dist-packages/crcmod-1.7.egg-info": DATA / "crcmod-1.7.egg-info",
    }
    pkgs = {p.name: p for p in PythonAnalyser().analyse(files)}
    assert {n: p.version for n, p in pkgs.items()} == {
        "pyyaml": "6.0.4", "typing-extensions": "4.16.0", "six": "1.16.0",
        "lazr-uri": "1.0.6", "crcmod": "1.7",
    }
    assert pkgs["pyyaml"].purl == "pkg:pypi/pyyaml@6.0.4"
    assert pkgs["lazr-uri"].purl == "pkg:pypi/lazr-uri@1.0.6"
    assert pkgs["pyyaml"].licenses == ["MIT"]
    assert pkgs["typing-extensions"].licenses == ["PSF-2.0"]
    assert pkgs["crcmod"].path == "usr/lib/python3/dist-packages/crcmod-1.7.egg-info"
    assert all(p.ecosystem == "PyPI" and p.kind == "lang" for p in pkgs.values())


def test_missing_version_is_skipped(tmp_path):
    meta = tmp_path / "METADATA"
    meta.write_text("Metadata-Version: 2.1\nName: broken\n\nbody\n")
    assert PythonAnalyser().analyse({"x.dist-info/METADATA": meta}) == []
