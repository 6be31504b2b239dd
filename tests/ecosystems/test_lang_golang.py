"""Go binary analyser: a real Go 1.19 binary and handcrafted build info blobs."""

from __future__ import annotations

import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from imagewatch.ecosystems.base import Analyser
from imagewatch.ecosystems.go.analyser import GoBinaryAnalyser, read_build_info
from imagewatch.ecosystems.go.buildinfo import MAGIC, parse_blob

DATA = Path(__file__).parent / "data" / "go"
SENTINEL = b"0123456789abcdef"  # any 16 bytes: the parser only checks the '\n' before the end one


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


MODINFO = (
    "path\texample.com/app/cmd/app\n"
    "mod\texample.com/app\tv1.4.0\th1:abc=\n"
    "dep\tgithub.com/google/uuid\tv1.3.0\th1:t6J=\n"
    "dep\tgolang.org/x/net\tv0.7.0\th1:x=\n"
    "=>\tgolang.org/x/net\tv0.17.0\th1:y=\n"
    "dep\texample.com/local\tv0.0.0\n"
    "=>\t../local\t\t\n"
    "build\tGOOS=linux\n"
)


def _wrapped(text: str) -> bytes:
    return SENTINEL + text.encode() + SENTINEL


def test_protocol_and_wants():
    a = GoBinaryAnalyser()
    assert isinstance(a, Analyser) and a.kind == "lang"
    assert a.wants("usr/local/bin/nats-server", 10 << 20)
    assert a.wants("manager", 40 << 20)
    assert a.wants("opt/app/server", 5 << 20)
    assert not a.wants("usr/local/bin/tiny", 100)
    assert not a.wants("usr/share/doc/x/changelog", 1 << 20)
    assert not a.wants("opt/app/static/app.js", 1 << 20)


def test_inline_blob():
    blob = MAGIC + bytes([8, 0x2]) + bytes(16)
    version, mod = b"go1.21.3", _wrapped(MODINFO)
    blob += _varint(len(version)) + version + _varint(len(mod)) + mod
    info = parse_blob(blob)
    assert info.go_version == "go1.21.3"
    assert info.path == "example.com/app/cmd/app"
    assert info.main.path == "example.com/app" and info.main.version == "v1.4.0"
    assert [d.path for d in info.deps] == ["github.com/google/uuid", "golang.org/x/net", "example.com/local"]
    assert info.deps[1].replace.version == "v0.17.0"
    assert info.settings["GOOS"] == "linux"


def test_pointer_blob_big_endian_32bit():
    # Pre-1.18 layout: the header points at Go string headers {data, len}.
    base = 0x8000
    mem = bytearray(0x200)
    version, mod = b"go1.16.15", _wrapped(MODINFO)
    mem[0x40:0x40 + len(version)] = version
    mem[0x80:0x80 + len(mod)] = mod
    struct.pack_into(">II", mem, 0x20, base + 0x40, len(version))
    struct.pack_into(">II", mem, 0x30, base + 0x80, len(mod))
    blob = MAGIC + bytes([4, 0x1]) + struct.pack(">II", base + 0x20, base + 0x30) + bytes(8)

    def read_at(addr: int, size: int) -> bytes:
        return bytes(mem[addr - base:addr - base + size])

    info = parse_blob(blob, read_at)
    assert info.go_version == "go1.16.15"
    assert info.main.version == "v1.4.0" and len(info.deps) == 3


def test_packages_from_blob(tmp_path):
    from imagewatch.ecosystems.go.analyser import packages_from_build_info
    blob = MAGIC + bytes([8, 0x2]) + bytes(16)
    mod = _wrapped(MODINFO)
    blob += _varint(8) + b"go1.21.3" + _varint(len(mod)) + mod
    pkgs = packages_from_build_info(parse_blob(blob), "app/server")
    got = {(p.name, p.version) for p in pkgs}
    assert got == {("example.com/app", "v1.4.0"), ("github.com/google/uuid", "v1.3.0"),
                   ("golang.org/x/net", "v0.17.0"), ("stdlib", "1.21.3")}
    uuid = next(p for p in pkgs if p.name == "github.com/google/uuid")
    assert uuid.purl == "pkg:golang/github.com/google/uuid@v1.3.0"
    assert uuid.ecosystem == "Go" and uuid.path == "app/server"


def test_real_binary():
    pkgs = GoBinaryAnalyser().analyse({"usr/local/bin/hello": DATA / "hello"})
    assert {(p.name, p.version) for p in pkgs} == {("example.com/hello", ""), ("stdlib", "1.19.8")}
    assert all(p.path == "usr/local/bin/hello" for p in pkgs)
    assert next(p for p in pkgs if p.name == "stdlib").purl == "pkg:golang/stdlib@1.19.8"


def test_real_binary_without_section_headers(tmp_path):
    # Clearing e_shnum forces the fallback that scans the file for the magic.
    raw = bytearray((DATA / "hello").read_bytes())
    struct.pack_into("<H", raw, 60, 0)
    target = tmp_path / "hello"
    target.write_bytes(raw)
    info = read_build_info(target)
    assert info is not None and info.go_version == "go1.19.8"
    assert info.deps[0].path == "example.com/greet" and info.deps[0].replace.path == "./greet"


def test_not_go(tmp_path):
    text = tmp_path / "script"
    text.write_bytes(b"#!/bin/sh\necho hi\n" * 100)
    files = {"bin/script": text}
    c_binary = shutil.which("true")
    if c_binary:
        files["bin/true"] = Path(c_binary)
    assert GoBinaryAnalyser().analyse(files) == []


@pytest.mark.parametrize("length", [0, 4, 40, 60, 64, 200, 4096, 300_000])
def test_truncated_binary(tmp_path, length):
    cut = tmp_path / "cut"
    cut.write_bytes((DATA / "hello").read_bytes()[:length])
    assert GoBinaryAnalyser().analyse({"bin/cut": cut}) == []


@pytest.fixture(scope="session")
def fresh_go_binary(tmp_path_factory):
    go = shutil.which("go")
    if go is None:
        pytest.skip("the go toolchain is not on PATH; the committed binary covers the real-binary case")
    work = tmp_path_factory.mktemp("gobuild")
    (work / "go.mod").write_text("module example.com/fresh\n\ngo 1.19\n")
    (work / "main.go").write_text('package main\n\nfunc main() { println("hi") }\n')
    env = {"GOPROXY": "off", "GOFLAGS": "-mod=mod", "GOCACHE": str(work / "cache"),
           "HOME": str(work), "PATH": str(Path(go).parent)}
    subprocess.run([go, "build", "-o", "fresh", "."], cwd=work, env=env, check=True,
                   capture_output=True, timeout=240)
    version = subprocess.run([go, "env", "GOVERSION"], env=env, capture_output=True,
                             text=True, check=True).stdout.strip()
    return work / "fresh", version


def test_freshly_built_binary(fresh_go_binary):
    binary, go_version = fresh_go_binary
    pkgs = GoBinaryAnalyser().analyse({"bin/fresh": binary})
    assert ("stdlib", go_version.removeprefix("go")) in {(p.name, p.version) for p in pkgs}
    assert "example.com/fresh" in {p.name for p in pkgs}
