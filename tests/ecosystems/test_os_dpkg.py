"""dpkg analyser on a real Debian 12 status file and real file lists."""

from pathlib import Path

from imagewatch.ecosystems.debian.analyser import DpkgAnalyser, parse_stanzas

DATA = Path(__file__).parent / "data" / "dpkg"


def _files() -> dict[str, Path]:
    return {
        "var/lib/dpkg/status": DATA / "status",
        "var/lib/dpkg/info/python3-yaml.list": DATA / "python3-yaml.list",
        "var/lib/dpkg/info/zlib1g:amd64.list": DATA / "zlib1g_amd64.list",
    }


def test_wants_status_status_d_and_lists_only():
    a = DpkgAnalyser()
    assert a.wants("var/lib/dpkg/status", 10)
    assert a.wants("var/lib/dpkg/status.d/libssl3", 10)
    assert a.wants("var/lib/dpkg/info/zlib1g:amd64.list", 10)
    assert not a.wants("var/lib/dpkg/info/zlib1g:amd64.md5sums", 10)
    assert not a.wants("var/lib/dpkg/status-old", 10)


def test_installed_packages_with_source():
    pkgs = {p.name: p for p in DpkgAnalyser().analyse(_files())}
    assert set(pkgs) == {"base-files", "libssl3", "zlib1g", "libgcc-s1", "python3-yaml"}  # tzdata: config-files only
    ssl = pkgs["libssl3"]
    assert (ssl.version, ssl.arch, ssl.source_name, ssl.source_version) == (
        "3.0.19-1~deb12u2", "amd64", "openssl", "3.0.19-1~deb12u2")
    yaml = pkgs["python3-yaml"]
    assert (yaml.version, yaml.source_name, yaml.source_version) == ("6.0-3+b2", "pyyaml", "6.0-3")
    assert pkgs["zlib1g"].epoch == 1 and pkgs["zlib1g"].version == "1:1.2.13.dfsg-1"
    assert pkgs["base-files"].source_name == "base-files"
    assert all(p.kind == "os" and p.ecosystem == "Debian" and p.path == "var/lib/dpkg/status"
               for p in pkgs.values())


def test_ownership_from_list_files():
    _, owned = DpkgAnalyser().analyse_with_owners(_files())
    yaml = owned["var/lib/dpkg/info/python3-yaml.list"]["python3-yaml"]
    assert "usr/lib/python3/dist-packages/PyYAML-6.0.dist-info/METADATA" in yaml
    assert "." not in yaml and all(not p.startswith("/") for p in yaml)
    # Debian 12 lists zlib under the pre-usrmerge path; composition resolves lib -> usr/lib
    assert "lib/x86_64-linux-gnu/libz.so.1.2.13" in owned["var/lib/dpkg/info/zlib1g:amd64.list"]["zlib1g"]


def test_distroless_status_d(tmp_path):
    stanza = next(s for s in (DATA / "status").read_text().split("\n\n") if s.startswith("Package: libssl3"))
    no_status = "\n".join(line for line in stanza.splitlines() if not line.startswith("Status:"))
    (tmp_path / "libssl3").write_text(no_status + "\n")
    (tmp_path / "libssl3.md5sums").write_text("0123456789abcdef0123456789abcdef  usr/lib/x86_64-linux-gnu/libssl.so.3\n")
    files = {"var/lib/dpkg/status.d/libssl3": tmp_path / "libssl3",
             "var/lib/dpkg/status.d/libssl3.md5sums": tmp_path / "libssl3.md5sums"}
    pkgs, owned = DpkgAnalyser().analyse_with_owners(files)
    assert [(p.name, p.source_name, p.path) for p in pkgs] == [
        ("libssl3", "openssl", "var/lib/dpkg/status.d/libssl3")]
    assert owned["var/lib/dpkg/status.d/libssl3.md5sums"] == {"libssl3": ["usr/lib/x86_64-linux-gnu/libssl.so.3"]}


def test_continuation_lines_are_joined():
    (stanza,) = parse_stanzas("Package: a\nDescription: x\n more\n .\n end\n")
    assert stanza["Description"] == "x\nmore\n.\nend"


def test_nothing_found_is_empty():
    assert DpkgAnalyser().analyse({}) == []
