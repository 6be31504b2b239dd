"""Rust crates: Cargo.lock and cargo-auditable binaries, semver."""

from imagewatch.ecosystems.spec import Ecosystem, Language

ECOSYSTEM = Ecosystem(
    name="rust",
    analysers=("imagewatch.ecosystems.rust.analyser:RustAnalyser",),
    languages=(Language("crates.io", "semver", "cargo", "", report_type="rust-binary"),),
)
