"""Ruby gems: gemspecs, RubyGems versions."""

from imagewatch.ecosystems.spec import Ecosystem, Language

ECOSYSTEM = Ecosystem(
    name="ruby",
    analysers=("imagewatch.ecosystems.ruby.analyser:RubyAnalyser",),
    languages=(Language("RubyGems", "rubygems", "gem", "", report_type="bundler"),),
)
