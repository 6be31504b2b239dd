"""Rust analyser: a gcc-built ELF carrying a cargo-auditable ``.dep-v0`` section, and Cargo.lock."""

from __future__ import annotations

import shutil
import subprocess
import zlib
from pathlib import Path

import pytest

from imagewatch.ecosystems.base import Analyser
from imagewatch.ecosystems.rust.analyser import RustAnalyser, parse_audit_data

DATA = Path(__file__).parent / "data" / "rust"
RUNTIME = {("itoa", "1.0.9"), ("serde", "1.0.188")}


@pytest.fixture(scope="session")
def audited_binary(tmp_path_factory) -> Path:
    gcc, objcopy = shutil.which("gcc"), shutil.which("objcopy")
    if gcc is None or objcopy is None:
        pytest.skip("gcc and objcopy are needed to build the cargo-auditable test binary")
    work = tmp_path_factory.mktemp("rustbin")
    (work / "main.c").write_text("int main(void) { return 0; }\n")
    (work / "dep-v0").write_bytes(zlib.compress((DATA / "dep-v0.json").read_bytes(), 9))
    subprocess.run([gcc, "-o", str(work / "plain"), str(work / "main.c")], check=True, timeout=60)
    subprocess.run([objcopy, "--add-section", f".dep-v0={work / 'dep-v0'}",
                    "--set-section-flags", ".dep-v0=noload,readonly",
                    str(work / "plain"), str(work / "rdemo")], check=True, timeout=60)
    return work


def test_wants():
    a = RustAnalyser()
    assert isinstance(a, Analyser)
    assert a.wants("usr/local/bin/rdemo", 400 << 10)
    assert a.wants("src/app/Cargo.lock", 5000)
    assert not a.wants("usr/share/doc/rdemo/README", 400 << 10)


def test_audited_binary(audited_binary):
    pkgs = RustAnalyser().analyse({"usr/local/bin/rdemo": audited_binary / "rdemo"})
    assert {(p.name, p.version) for p in pkgs} == RUNTIME  # no root crate, no build-only crates
    assert pkgs[0].purl == "pkg:cargo/itoa@1.0.9" and pkgs[0].ecosystem == "crates.io"
    assert pkgs[0].path == "usr/local/bin/rdemo"


def test_binary_without_section(audited_binary):
    assert RustAnalyser().analyse({"usr/bin/plain": audited_binary / "plain"}) == []


def test_cargo_lock():
    pkgs = RustAnalyser().analyse({"src/Cargo.lock": DATA / "Cargo.lock"})
    # The workspace crate (no source) is skipped; registry and git crates are kept.
    assert {(p.name, p.version) for p in pkgs} == RUNTIME | {("tinyjson", "2.5.1")}


def test_bad_section_data():
    assert parse_audit_data(b"not zlib", "x") == []
    assert parse_audit_data(zlib.compress(b"[1, 2]"), "x") == []
