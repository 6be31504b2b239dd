"""Ruby analyser on gemspecs in the forms RubyGems 1.3 and 3.x write."""

from __future__ import annotations

from pathlib import Path

from imagewatch.ecosystems.base import Analyser
from imagewatch.ecosystems.ruby.analyser import RubyAnalyser, parse_gemspec

DATA = Path(__file__).parent / "data" / "ruby"
GEMS = "usr/local/bundle"


def test_wants():
    a = RubyAnalyser()
    assert isinstance(a, Analyser)
    assert a.wants(f"{GEMS}/specifications/rake-13.0.6.gemspec", 2000)
    assert a.wants("usr/lib/ruby/gems/3.1.0/specifications/default/json-2.6.1.gemspec", 2000)
    assert not a.wants("app/myapp.gemspec", 2000)  # a source gemspec, not an installed gem


def test_analyse():
    files = {f"{GEMS}/{p.relative_to(DATA).as_posix()}": p for p in DATA.rglob("*.gemspec")}
    pkgs = {p.name: p for p in RubyAnalyser().analyse(files)}
    assert {n: p.version for n, p in pkgs.items()} == {"rake": "13.0.6", "json": "2.6.1", "rack": "1.1.0"}
    assert pkgs["rake"].licenses == ["MIT"] and pkgs["json"].licenses == ["Ruby"]
    assert pkgs["rack"].licenses == []
    assert pkgs["rake"].purl == "pkg:gem/rake@13.0.6" and pkgs["rake"].ecosystem == "RubyGems"
    assert pkgs["json"].path == f"{GEMS}/specifications/default/json-2.6.1.gemspec"


def test_filename_fallback():
    pkg = parse_gemspec("Gem::Specification.new do |s|\nend\n",
                        "x/specifications/nokogiri-1.15.4-x86_64-linux.gemspec")
    assert (pkg.name, pkg.version) == ("nokogiri", "1.15.4")
    assert parse_gemspec("", "x/specifications/garbage.gemspec") is None
