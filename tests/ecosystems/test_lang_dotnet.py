""".NET analyser on a deps.json as the SDK writes it at publish time."""

from __future__ import annotations

from pathlib import Path

from imagewatch.ecosystems.base import Analyser
from imagewatch.ecosystems.dotnet.analyser import DotnetAnalyser

DATA = Path(__file__).parent / "data" / "dotnet"


def test_wants():
    a = DotnetAnalyser()
    assert isinstance(a, Analyser)
    assert a.wants("app/webapp.deps.json", 3000)
    assert not a.wants("app/webapp.runtimeconfig.json", 300)


def test_packages_only(tmp_path):
    # The SDK may write a UTF-8 byte order mark; projects (the app, project references) are skipped.
    bom = tmp_path / "bom.deps.json"
    bom.write_bytes(b"\xef\xbb\xbf" + (DATA / "webapp.deps.json").read_bytes())
    for disk in (DATA / "webapp.deps.json", bom):
        pkgs = DotnetAnalyser().analyse({"app/webapp.deps.json": disk})
        assert [(p.name, p.version) for p in pkgs] == [("Newtonsoft.Json", "13.0.1"), ("Serilog", "2.12.0")]
        assert pkgs[0].purl == "pkg:nuget/Newtonsoft.Json@13.0.1" and pkgs[0].ecosystem == "NuGet"
