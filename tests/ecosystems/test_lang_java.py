"""Java analyser on real Maven Central jars and fat archives built around them."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from imagewatch.ecosystems.java import analyser as java
from imagewatch.ecosystems.base import Analyser
from imagewatch.ecosystems.java.analyser import JavaAnalyser
from imagewatch.ecosystems.java.archive import parse_manifest

DATA = Path(__file__).parent / "data" / "java"
ANNOTATION = ("javax.annotation:javax.annotation-api", "1.3.2")  # has pom.properties
INJECT = ("javax.inject", "1")  # no manifest, no pom: file name only
JCIP = ("jcip-annotations", "1.0")  # manifest without Implementation-*: file name only
KOTLIN = ("kotlin-stdlib-jdk8", "2.1.0")  # manifest says 2.1.0-release-394; the file name wins
OTEL = ("opentelemetry-common", "1.55.0")


def _pairs(pkgs):
    return {(p.name, p.version) for p in pkgs}


def _zip(entries: dict[str, bytes], stored: bool = False) -> bytes:
    buf = io.BytesIO()
    method = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
    with zipfile.ZipFile(buf, "w", method) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return buf.getvalue()


def test_wants():
    a = JavaAnalyser()
    assert isinstance(a, Analyser)
    assert a.wants("app/app.jar", 1 << 20) and a.wants("opt/x/ROOT.WAR", 1 << 20)
    assert a.wants("usr/share/jenkins/plugins/git.hpi", 1 << 20)
    assert not a.wants("app/app.jar.sha1", 40)
    assert not a.wants("app/huge.jar", 2 << 30)


@pytest.mark.parametrize("base,expected", [
    ("javax.annotation-api-1.3.2.jar", ANNOTATION),
    ("javax.inject-1.jar", INJECT),
    ("jcip-annotations-1.0.jar", JCIP),
    ("kotlin-stdlib-jdk8-2.1.0.jar", KOTLIN),
    ("opentelemetry-common-1.55.0.jar", OTEL),
])
def test_real_jars(base, expected):
    pkgs = JavaAnalyser().analyse({f"usr/share/java/{base}": DATA / base})
    assert _pairs(pkgs) == {expected}
    assert pkgs[0].ecosystem == "Maven" and pkgs[0].path == f"usr/share/java/{base}"


def test_purl():
    [pkg] = JavaAnalyser().analyse({"a/javax.annotation-api-1.3.2.jar": DATA / "javax.annotation-api-1.3.2.jar"})
    assert pkg.purl == "pkg:maven/javax.annotation/javax.annotation-api@1.3.2"


def test_spring_boot_fat_jar(tmp_path):
    inner = {f"BOOT-INF/lib/{p.name}": p.read_bytes() for p in DATA.glob("*.jar")}
    app = _zip({
        "META-INF/MANIFEST.MF": b"Manifest-Version: 1.0\r\nMain-Class: org.springframework.boot.loader.JarLauncher\r\n"
                                b"Start-Class: com.example.Demo\r\n\r\n",
        "META-INF/maven/com.example/demo/pom.properties": b"#Created by Apache Maven 3.9.6\n"
                                                          b"artifactId=demo\ngroupId=com.example\nversion=0.0.1-SNAPSHOT\n",
        "BOOT-INF/classes/com/example/Demo.class": b"\xca\xfe\xba\xbe",
        **inner,
    }, stored=True)
    (tmp_path / "app.jar").write_bytes(app)
    pkgs = JavaAnalyser().analyse({"app/app.jar": tmp_path / "app.jar"})
    assert _pairs(pkgs) == {("com.example:demo", "0.0.1-SNAPSHOT"), ANNOTATION, INJECT, JCIP, KOTLIN, OTEL}
    by_name = {p.name: p for p in pkgs}
    assert by_name["javax.inject"].path == "app/app.jar/BOOT-INF/lib/javax.inject-1.jar"
    assert by_name["com.example:demo"].path == "app/app.jar"


def test_war_in_ear_and_shaded_jar(tmp_path):
    shaded = _zip({
        "META-INF/MANIFEST.MF": b"Manifest-Version: 1.0\n",
        "META-INF/maven/com.acme/tool/pom.properties": b"groupId=com.acme\nartifactId=tool\nversion=2.0\n",
        "META-INF/maven/com.google.guava/guava/pom.properties":
            b"groupId=com.google.guava\nartifactId=guava\nversion=31.1-jre\n",
    })
    war = _zip({"WEB-INF/lib/tool-2.0.jar": shaded,
                "WEB-INF/lib/javax.inject-1.jar": (DATA / "javax.inject-1.jar").read_bytes()})
    ear = _zip({"web.war": war, "META-INF/application.xml": b"<application/>"})
    (tmp_path / "shop.ear").write_bytes(ear)
    pkgs = JavaAnalyser().analyse({"opt/shop.ear": tmp_path / "shop.ear"})
    assert _pairs(pkgs) == {("com.acme:tool", "2.0"), ("com.google.guava:guava", "31.1-jre"), INJECT}


def test_limits(tmp_path, monkeypatch):
    deep = (DATA / "javax.inject-1.jar").read_bytes()
    for level in range(5):
        deep = _zip({f"lib/level{level}-1.0.jar": deep})
    (tmp_path / "deep.jar").write_bytes(deep)
    pkgs = JavaAnalyser().analyse({"deep.jar": tmp_path / "deep.jar"})
    assert ("javax.inject", "1") not in _pairs(pkgs)  # below MAX_DEPTH
    assert len(pkgs) == java.MAX_DEPTH  # level4 ... level2 identified by file name

    monkeypatch.setattr(java, "MAX_NESTED_BYTES", 100)
    big = _zip({"lib/javax.inject-1.jar": (DATA / "javax.inject-1.jar").read_bytes()})
    (tmp_path / "big.jar").write_bytes(big)
    assert JavaAnalyser().analyse({"big.jar": tmp_path / "big.jar"}) == []


def test_not_a_zip(tmp_path):
    (tmp_path / "x.jar").write_bytes(b"not a zip at all")
    assert JavaAnalyser().analyse({"x.jar": tmp_path / "x.jar"}) == []


def test_manifest_continuation_lines():
    with zipfile.ZipFile(DATA / "javax.annotation-api-1.3.2.jar") as zf:
        manifest = parse_manifest(zf.read("META-INF/MANIFEST.MF").decode())
    assert manifest["Bundle-License"] == "https://github.com/javaee/javax.annotation/blob/master/LICENSE"
    assert manifest["Implementation-Vendor-Id"] == "org.glassfish"
