"""Node analyser on a real npm install and lock files written by npm, Yarn and pnpm."""

from __future__ import annotations

from pathlib import Path

import pytest

from imagewatch.ecosystems.base import Analyser
from imagewatch.ecosystems.node.analyser import NodeAnalyser
from imagewatch.ecosystems.node.lockfiles import parse_package_lock, parse_pnpm_lock, parse_yarn_lock

DATA = Path(__file__).parent / "data" / "node"
# demo-app depends on debug 4.3.4 (-> ms 2.1.2) and @types/ms 0.7.34; is-number 7.0.0 is a dev dependency.
RUNTIME = {("debug", "4.3.4"), ("ms", "2.1.2"), ("@types/ms", "0.7.34")}
ALL = RUNTIME | {("is-number", "7.0.0")}


def _files(root: Path, prefix: str = "app") -> dict[str, Path]:
    return {f"{prefix}/{p.relative_to(root).as_posix()}": p for p in root.rglob("*") if p.is_file()}


def test_wants():
    a = NodeAnalyser()
    assert isinstance(a, Analyser)
    assert a.wants("app/node_modules/debug/package.json", 1500)
    assert a.wants("app/package.json", 300)
    assert a.wants("app/package-lock.json", 3000)
    assert a.wants("srv/yarn.lock", 3000) and a.wants("srv/pnpm-lock.yaml", 3000)
    assert not a.wants("app/node_modules/.package-lock.json", 3000)
    assert not a.wants("app/node_modules/x/yarn.lock", 3000)
    assert not a.wants("app/node_modules/debug/index.js", 300)


def test_installed_tree_and_lock_are_reported_once():
    pkgs = NodeAnalyser().analyse(_files(DATA / "npm-v3"))
    got = {(p.name, p.version): p for p in pkgs}
    # The installed tree (dev dependency included: it is on disk) plus the app itself.
    assert set(got) == ALL | {("demo-app", "1.0.0")}
    assert len(pkgs) == len(got)
    debug = got[("debug", "4.3.4")]
    assert debug.path == "app/node_modules/debug/package.json"
    assert debug.licenses == ["MIT"] and debug.ecosystem == "npm"
    assert got[("@types/ms", "0.7.34")].purl == "pkg:npm/%40types/ms@0.7.34"


def test_lock_only_layer():
    files = {"app/package-lock.json": DATA / "npm-v3" / "package-lock.json"}
    pkgs = NodeAnalyser().analyse(files)
    assert {(p.name, p.version) for p in pkgs} == RUNTIME
    assert {p.path for p in pkgs} == {"app/package-lock.json"}


@pytest.mark.parametrize("version", ["npm-v1", "npm-v2", "npm-v3"])
def test_package_lock_versions(version):
    text = (DATA / version / "package-lock.json").read_text()
    assert set(parse_package_lock(text)) == RUNTIME


def test_yarn_classic_and_berry():
    # yarn.lock records no dev flag, so the dev dependency is listed; Berry skips the workspace.
    assert set(parse_yarn_lock((DATA / "yarn-v1" / "yarn.lock").read_text())) == ALL
    assert set(parse_yarn_lock((DATA / "yarn-berry" / "yarn.lock").read_text())) == ALL


def test_yarn_classic_alias_and_scoped():
    text = (
        "# yarn lockfile v1\n\n\n"
        '"@babel/code-frame@^7.0.0", "@babel/code-frame@^7.10.4":\n'
        '  version "7.12.13"\n'
        '  resolved "https://registry.yarnpkg.com/@babel/code-frame/-/code-frame-7.12.13.tgz"\n\n'
        '"string-width-cjs@npm:string-width@^4.2.0":\n'
        '  version "4.2.3"\n'
    )
    assert parse_yarn_lock(text) == [("@babel/code-frame", "7.12.13"), ("string-width", "4.2.3")]


def test_pnpm_versions():
    assert set(parse_pnpm_lock((DATA / "pnpm-v6" / "pnpm-lock.yaml").read_text())) == RUNTIME
    assert set(parse_pnpm_lock((DATA / "pnpm-v9" / "pnpm-lock.yaml").read_text())) == ALL
    v5 = (
        "lockfileVersion: 5.4\n\npackages:\n\n"
        "  /@babel/core/7.12.13:\n    resolution: {integrity: sha512-x}\n    dev: false\n\n"
        "  /react-dom/18.2.0_react@18.2.0:\n    resolution: {integrity: sha512-y}\n    dev: false\n\n"
        "  /jest/29.0.0:\n    resolution: {integrity: sha512-z}\n    dev: true\n"
    )
    assert parse_pnpm_lock(v5) == [("@babel/core", "7.12.13"), ("react-dom", "18.2.0")]


def test_junk_is_ignored(tmp_path):
    bad_json = tmp_path / "package.json"
    bad_json.write_text('{"type": "module"}')
    bad_lock = tmp_path / "yarn.lock"
    bad_lock.write_text("__metadata:\n  - [unclosed\n")
    files = {"app/node_modules/x/lib/package.json": bad_json, "app/yarn.lock": bad_lock}
    assert NodeAnalyser().analyse(files) == []
