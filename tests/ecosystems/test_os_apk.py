"""apk analyser on real Alpine installed-db records."""

from pathlib import Path

from imagewatch.ecosystems.alpine.analyser import INSTALLED, ApkAnalyser

DATA = Path(__file__).parent / "data" / "apk" / "installed"


def test_packages_with_origin_and_arch():
    a = ApkAnalyser()
    assert a.wants("lib/apk/db/installed", 1) and not a.wants("lib/apk/db/triggers", 1)
    pkgs = {p.name: p for p in a.analyse({INSTALLED: DATA})}
    assert set(pkgs) == {"musl", "zlib", "libssl1.0", "scanelf"}
    ssl = pkgs["libssl1.0"]
    assert (ssl.version, ssl.arch, ssl.source_name, ssl.source_version) == (
        "1.0.2h-r1", "x86_64", "openssl", "1.0.2h-r1")
    assert pkgs["scanelf"].source_name == "pax-utils"
    assert pkgs["musl"].licenses == ["MIT"]
    assert all(p.ecosystem == "Alpine" and p.kind == "os" and p.path == INSTALLED for p in pkgs.values())


def test_ownership_joins_f_and_r():
    _, owned = ApkAnalyser().analyse_with_owners({INSTALLED: DATA})
    assert owned[INSTALLED]["libssl1.0"] == ["lib/libssl.so.1.0.0", "usr/lib/libssl.so.1.0.0"]
    assert owned[INSTALLED]["scanelf"] == ["usr/bin/scanelf"]
