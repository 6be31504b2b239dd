"""analyse_layer + compose on layers built from real dpkg, apk and rpm data."""

import io
from pathlib import Path

import msgspec
import pytest

from imagewatch.ecosystems.catalog import default_analysers
from imagewatch.inventory.analysis import LayerAnalysis, analyse_layer
from imagewatch.inventory.compose import compose
from imagewatch.models import Package
from layers.layer_tars import f, gz, tar, zst

DATA = Path(__file__).resolve().parents[1] / "ecosystems" / "data"
GZ = "application/vnd.oci.image.layer.v1.tar+gzip"
STATUS = (DATA / "dpkg" / "status").read_text()
STANZAS = {s.split("\n", 1)[0].removeprefix("Package: "): s for s in STATUS.strip().split("\n\n")}
YAML_META = "usr/lib/python3/dist-packages/PyYAML-6.0.dist-info/METADATA"
REQUESTS_META = "usr/local/lib/python3.11/dist-packages/requests-2.31.0.dist-info/METADATA"


class MetadataAnalyser:
    """A stand-in language analyser for these tests: Name/Version from dist-info METADATA."""

    name, version, kind = "test-python", 1, "lang"

    def wants(self, path, size):
        return path.endswith(".dist-info/METADATA")

    def analyse(self, files):
        out = []
        for path, file in files.items():
            fields = dict(line.split(": ", 1) for line in file.read_text().splitlines() if ": " in line)
            out.append(Package(name=fields["Name"], version=fields["Version"], ecosystem="PyPI", path=path))
        return out


class BrokenAnalyser:
    name, version, kind = "broken", 3, "lang"

    def wants(self, path, size):
        return path == "etc/os-release"

    def analyse(self, files):
        raise RuntimeError("boom")


def status(*names):
    return "\n\n".join(STANZAS[n] for n in names) + "\n"


def meta(name, version):
    return f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"


BASE = ["base-files", "libssl3", "zlib1g", "libgcc-s1"]
L1 = tar(("lib", "symlink", "usr/lib"), f("etc/os-release", (DATA / "dpkg" / "os-release").read_text()),
         f("var/lib/dpkg/status", status(*BASE)),
         f("var/lib/dpkg/info/zlib1g:amd64.list", (DATA / "dpkg" / "zlib1g_amd64.list").read_text()),
         f("usr/lib/x86_64-linux-gnu/libz.so.1.2.13", b"\x7fELF"))
L2 = tar(f("var/lib/dpkg/status", status(*BASE, "python3-yaml")),
         f("var/lib/dpkg/info/python3-yaml.list", (DATA / "dpkg" / "python3-yaml.list").read_text()),
         f(YAML_META, meta("PyYAML", "6.0")), f(REQUESTS_META, meta("requests", "2.31.0")))
L3 = tar(f("var/lib/dpkg/status", status(*BASE)), f("var/lib/dpkg/info/.wh.python3-yaml.list", b""),
         f("usr/lib/python3/dist-packages/.wh.PyYAML-6.0.dist-info", b""))


def analyse(blob, extra=()):
    return analyse_layer(io.BytesIO(gz(blob)), GZ, [*default_analysers(), MetadataAnalyser(), *extra])


@pytest.fixture(scope="module")
def layers():
    return [("sha256:l1", analyse(L1)), ("sha256:l2", analyse(L2)), ("sha256:l3", analyse(L3))]


def by_name(inventory):
    return {(p.ecosystem, p.name): p for p in inventory.packages}


def test_layer_analysis_parts(layers):
    l1 = layers[0][1]
    assert l1.os.id == "debian" and l1.compression == "gzip"
    assert {p.name for p in l1.results["dpkg"].packages} == set(BASE)
    assert all(p.path == "var/lib/dpkg/status" for p in l1.results["dpkg"].packages)
    assert "var/lib/dpkg/info/zlib1g:amd64.list" in l1.results["dpkg"].owned
    assert l1.symlinks == {"lib": "usr/lib"}
    assert layers[2][1].whiteouts == {"var/lib/dpkg/info/python3-yaml.list",
                                      "usr/lib/python3/dist-packages/PyYAML-6.0.dist-info"}


def test_layer_analysis_is_cacheable_as_json(layers):
    l2 = layers[1][1]
    again = msgspec.json.decode(msgspec.json.encode(l2), type=LayerAnalysis)
    assert again == l2


def test_installed_in_layer_2_removed_in_layer_3(layers):
    two = by_name(compose(layers[:2]))
    assert two[("Debian", "python3-yaml")].layer == "sha256:l2"
    three = by_name(compose(layers))
    assert ("Debian", "python3-yaml") not in three
    assert ("PyPI", "PyYAML") not in three
    assert three[("PyPI", "requests")].layer == "sha256:l2"


def test_rewritten_status_keeps_the_introducing_layer(layers):
    three = by_name(compose(layers))
    assert {three[("Debian", n)].layer for n in BASE} == {"sha256:l1"}
    assert three[("Debian", "libssl3")].path == "var/lib/dpkg/status"


def test_language_package_owned_by_dpkg_is_dropped(layers):
    two = by_name(compose(layers[:2]))
    assert ("PyPI", "PyYAML") not in two  # python3-yaml owns its dist-info
    assert ("PyPI", "requests") in two  # pip-installed, owned by nobody


def test_ownership_follows_usrmerge_symlinks(layers):
    class Binary:
        name, version, kind = "test-binary", 1, "lang"

        def wants(self, path, size):
            return path.endswith(".so.1.2.13")

        def analyse(self, files):
            return [Package(name="zlib-embedded", version="1", ecosystem="Go", path=p) for p in files]

    l1 = analyse(L1, extra=[Binary()])
    assert l1.results["test-binary"].packages  # found at usr/lib/..., dpkg lists lib/...
    assert ("Go", "zlib-embedded") not in by_name(compose([("sha256:l1", l1)]))


def test_os_purls_and_ecosystem_by_distro(layers):
    ssl = by_name(compose(layers))[("Debian", "libssl3")]
    assert ssl.purl == "pkg:deb/debian/libssl3@3.0.19-1~deb12u2?arch=amd64&distro=debian-12"
    ubuntu = analyse(tar(f("etc/os-release", (DATA / "os" / "ubuntu-os-release").read_text())))
    inv = compose([*layers, ("sha256:u", ubuntu)])
    ssl = by_name(inv)[("Ubuntu", "libssl3")]
    assert inv.os.id == "ubuntu" and ssl.purl.startswith("pkg:deb/ubuntu/libssl3@") and "distro=ubuntu-22.04" in ssl.purl


def test_opaque_directory_hides_lower_files(layers):
    l4 = analyse(tar(("usr/local/lib/python3.11/dist-packages", "dir", None),
                     f("usr/local/lib/python3.11/dist-packages/.wh..wh..opq", b"")))
    assert ("PyPI", "requests") not in by_name(compose([*layers, ("sha256:l4", l4)]))


def test_file_replaced_by_a_later_copy_without_packages(layers):
    l4 = analyse(tar(f(REQUESTS_META, "garbage")))
    assert l4.results["test-python"].error.startswith("analysers.test-python: KeyError")
    assert ("PyPI", "requests") not in by_name(compose([*layers, ("sha256:l4", l4)]))


def test_broken_analyser_is_recorded_not_fatal():
    l1 = analyse(L1, extra=[BrokenAnalyser()])
    assert l1.results["broken"].error == "analysers.broken: RuntimeError: boom"
    assert l1.results["broken"].version == 3
    assert l1.results["dpkg"].packages


def test_alpine_image():
    layer = tar(f("etc/os-release", (DATA / "os" / "alpine-os-release").read_text()),
                f("lib/apk/db/installed", (DATA / "apk" / "installed").read_text()))
    inv = compose([("sha256:a", analyse_layer(io.BytesIO(zst(layer)), GZ, default_analysers()))])
    ssl = by_name(inv)[("Alpine", "libssl1.0")]
    assert ssl.purl == "pkg:apk/alpine/libssl1.0@1.0.2h-r1?arch=x86_64&distro=alpine-3.19.1"
    assert ssl.source_name == "openssl" and ssl.layer == "sha256:a"


def test_rocky_image_from_berkeleydb():
    layer = tar(f("etc/redhat-release", (DATA / "os" / "rocky-redhat-release").read_text()),
                f("var/lib/rpm/Packages", (DATA / "Packages").read_bytes()),
                f(".wh.hello-removed", b""))
    inv = compose([("sha256:r", analyse_layer(io.BytesIO(layer), GZ, default_analysers()))])
    hello = by_name(inv)[("Rocky Linux", "hello")]
    assert hello.purl == "pkg:rpm/rocky/hello@1.0-3.el9?arch=noarch&distro=rocky-9.3&epoch=2"
    assert hello.epoch == 2 and hello.source_name == "hello"


def test_rpm_owned_python_metadata_is_not_reported_twice():
    layer = tar(f("usr/lib/sysimage/rpm/rpmdb.sqlite", (DATA / "rpmdb.sqlite").read_bytes()),
                f("usr/lib/python3.9/site-packages/hello-1.0.dist-info/METADATA", meta("hello", "1.0")))
    la = analyse(layer)
    assert la.results["test-python"].packages
    inv = compose([("sha256:x", la)])
    assert {p.ecosystem for p in inv.packages} == {"Red Hat"}


def test_nested_archive_in_an_owned_file_is_dropped_but_owned_directories_do_not_count():
    class Nested:
        name, version, kind = "test-nested", 1, "lang"

        def wants(self, path, size):
            return path.startswith("usr/share/hello")

        def analyse(self, files):
            return [Package(name=p, version="1", ecosystem="Maven", path=f"{p}/BOOT-INF/lib/inner.jar")
                    for p in files]

    # the hello rpm owns the file usr/share/hello/hello.txt; hello-libs owns the directory usr/share/hello-libs
    layer = tar(f("var/lib/rpm/rpmdb.sqlite", (DATA / "rpmdb.sqlite").read_bytes()),
                f("usr/share/hello/hello.txt", b"PK"), f("usr/share/hello-libs/app.jar", b"PK"))
    la = analyse_layer(io.BytesIO(layer), GZ, [*default_analysers()[:3], Nested()])
    assert len(la.results["test-nested"].packages) == 2
    paths = {p.path for p in compose([("sha256:j", la)]).packages if p.ecosystem == "Maven"}
    assert paths == {"usr/share/hello-libs/app.jar/BOOT-INF/lib/inner.jar"}
