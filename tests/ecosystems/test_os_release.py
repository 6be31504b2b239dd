"""OS detection from os-release and the older release files."""

from pathlib import Path

from imagewatch.ecosystems.osrelease import detect_os, parse_os_release

DATA = Path(__file__).parent / "data"


def test_debian_os_release():
    info = detect_os({"etc/os-release": DATA / "dpkg" / "os-release"})
    assert (info.id, info.version_id, info.version_codename) == ("debian", "12", "bookworm")
    assert info.pretty_name == "Debian GNU/Linux 12 (bookworm)"


def test_usr_lib_os_release_alpine_and_ubuntu():
    assert detect_os({"usr/lib/os-release": DATA / "os" / "alpine-os-release"}).version_id == "3.19.1"
    ubuntu = detect_os({"etc/os-release": DATA / "os" / "ubuntu-os-release"})
    assert (ubuntu.id, ubuntu.version_id, ubuntu.version_codename) == ("ubuntu", "22.04", "jammy")


def test_fallback_release_files(tmp_path):
    rocky = detect_os({"etc/redhat-release": DATA / "os" / "rocky-redhat-release"})
    assert (rocky.id, rocky.version_id) == ("rocky", "9.3")
    assert detect_os({"etc/debian_version": DATA / "os" / "debian_version"}).version_id == "12"
    (tmp_path / "a").write_text("3.18.4\n")
    assert detect_os({"etc/alpine-release": tmp_path / "a"}).id == "alpine"
    assert detect_os({}) is None


def test_quoting():
    assert parse_os_release('A="x y"\n# c\nB=\'z\'\nC=plain\n') == {"A": "x y", "B": "z", "C": "plain"}
