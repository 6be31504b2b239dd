"""The remediation plan on real advisory data: applying its upgrades removes exactly the findings it promised.

The packages are the real Debian 12 ``.deb`` files and the real Django 2.2 /
urllib3 / requests / PyYAML wheels, matched against the shared Debian, GitHub
and PyPI records. Newer wheels and debs are not available offline, so the plan
is applied at the inventory level: each package the plan upgrades is set to
its target version and matched again against the same records.
"""

from __future__ import annotations

import json
import re
import sys

import msgspec
import pytest

from harness.images import tools_missing
from harness.realdata import Unavailable, debian_root, python_wheels
from imagewatch.cli.main import main
from imagewatch.matcher.matching import match_packages
from imagewatch.matcher.remediation import plan_for
from imagewatch.models import OSInfo, Package
from imagewatch.store.db import connect_pool
from imagewatch.updater.sync import import_paths

from matcher.helpers import ALPINE, SECDB_319, apk, import_advisories

from .realimages import DEBIAN_PACKAGES, django_layout, shared_paths

DEBIAN_12 = OSInfo(id="debian", version_id="12", version_codename="bookworm")
BASE, APP = "sha256:" + "b" * 64, "sha256:" + "a" * 64


@pytest.fixture(scope="module")
async def shared_dsn(_db_factory):
    paths = shared_paths()
    dsn = await _db_factory.create()
    pool = await connect_pool(dsn, 1, 2, migrate=False)
    try:
        await import_paths(pool, paths)
    finally:
        await pool.close()
    yield dsn
    await _db_factory.drop(dsn)


def _packages() -> list[Package]:
    try:
        debs, wheels = debian_root(DEBIAN_PACKAGES), python_wheels()
    except Unavailable as exc:
        pytest.skip(str(exc))
    out = []
    for c in debs.manifest:
        source, _, version = (c.get("Source") or c["Package"]).partition(" ")
        out.append(Package(name=c["Package"], version=c["Version"], ecosystem="Debian", kind="os",
                           source_name=source, source_version=version.strip("()") or c["Version"], layer=BASE))
    out += [Package(name=w["name"], version=w["version"], ecosystem="PyPI", layer=APP) for w in wheels.manifest]
    return out


def _applied(packages: list[Package], plan) -> list[Package]:
    """The packages as they are once every upgrade of the plan is applied."""
    targets = {}
    for a in plan.actions:
        for name in a.packages or [a.package]:
            targets[(a.ecosystem, name)] = a.target
    out = []
    for p in packages:
        target = targets.get((p.ecosystem, p.name))
        if target is not None:
            p = msgspec.structs.replace(p, version=target, source_version=target if p.source_version else "")
        out.append(p)
    return out


def _keys(findings) -> set[tuple[str, str]]:
    return {(f.package, f.advisory_id) for f in findings if f.kind == "vulnerability"}


async def test_plan_applied_removes_exactly_the_promised_findings(shared_dsn):
    packages = _packages()
    pool = await connect_pool(shared_dsn, 1, 2, migrate=False)
    try:
        before = await match_packages(pool, packages, DEBIAN_12)
        plan = plan_for(before, packages, DEBIAN_12, [BASE, APP])
        after = await match_packages(pool, _applied(packages, plan), DEBIAN_12)
    finally:
        await pool.close()
    promised = {(p, i) for a in plan.actions for p in (a.packages or [a.package]) for i in a.ids}
    unfixed = {(u.package, u.advisory_id) for u in plan.unfixed}
    print(f"\nremediation: {len(_keys(before))} findings, {len(plan.actions)} upgrades fix {plan.fixable} "
          f"(base {plan.base_fixable}, app {plan.app_fixable}), {len(unfixed)} without fix, "
          f"{len(_keys(after))} after", file=sys.__stderr__)
    assert plan.fixable == len(promised) > 20 and promised | unfixed == _keys(before)
    assert _keys(after) == unfixed, "applying the plan removes the promised findings and nothing else changes"

    django = next(a for a in plan.actions if a.package.lower() == "django")
    assert django.kind == "lang" and django.installed == ["2.2"] and django.layer == "app"
    assert django.command == f"pip install 'Django=={django.target}'" and django.fixes > 10
    assert django.text.startswith(f"Django 2.2 → {django.target} (pip install")
    assert f"fixes {django.fixes}" in django.text
    # the smallest version that fixes all: one step lower leaves a finding of the group unfixed
    fixes = [min((v for v in f.fixed_versions if _newer(v, "2.2")), key=_v) for f in before
             if f.package == "Django" and f.fixed_versions]
    assert django.target == max(fixes, key=_v)

    # the Debian 12 packages are current: their findings have no fix in bookworm yet, listed apart
    assert {u.ecosystem for u in plan.unfixed} == {"Debian"} and plan.base_fixable == 0
    assert any("have no fix yet" in line for line in plan.advice)
    assert plan.top == max(plan.actions, key=lambda a: (a.fixes, a.critical)).text


async def test_os_packages_grouped_by_source_in_base_layers(shared_dsn):
    """Alpine 3.19 (the real secdb excerpt) under the real wheels: apk upgrades per origin, base advice."""
    pool = await connect_pool(shared_dsn, 1, 2, migrate=False)
    try:
        await import_advisories(pool, SECDB_319)
        packages = [apk("busybox", "1.36.1-r15"), apk("ssl_client", "1.36.1-r15", origin="busybox"),
                    apk("libssl3", "3.1.4-r0", origin="openssl"), apk("libcrypto3", "3.1.4-r0", origin="openssl"),
                    *(msgspec.structs.replace(p, layer=APP) for p in _packages() if p.kind == "lang")]
        packages = [msgspec.structs.replace(p, layer=BASE) if p.kind == "os" else p for p in packages]
        before = await match_packages(pool, packages, ALPINE)
        plan = plan_for(before, packages, ALPINE, [BASE, APP])
        after = await match_packages(pool, _applied(packages, plan), ALPINE)
    finally:
        await pool.close()
    unfixed = {(u.package, u.advisory_id) for u in plan.unfixed}
    assert _keys(after) == unfixed and plan.fixable == len(_keys(before)) - len(unfixed)
    by_source = {a.package: a for a in plan.actions if a.kind == "os"}
    assert set(by_source) == {"busybox", "openssl"}
    assert by_source["openssl"].command == "apk add --upgrade libcrypto3 libssl3"
    assert by_source["busybox"].command == "apk add --upgrade busybox ssl_client"
    assert all(a.layer == "base" for a in by_source.values())
    base_n = sum(a.fixes for a in by_source.values())
    assert plan.base_fixable == base_n > 0 and plan.app_fixable == plan.fixable - base_n > 0
    assert (f"{base_n} of {plan.fixable} fixable findings are in the base layers: rebuild on a current "
            f"alpine:3.19 base image or run apk upgrade in your build — fixes {base_n}") in plan.advice[0]


def _v(version: str):
    return tuple(int(x) for x in re.findall(r"\d+", version))


def _newer(a: str, b: str) -> bool:
    return _v(a) > _v(b)


@pytest.mark.skipif("umoci" in tools_missing(), reason="umoci is not installed")
def test_scan_table_and_json_show_the_plan(monkeypatch, tmp_path, shared_dsn, capsys):
    monkeypatch.setenv("IMAGEWATCH_DATABASE_URL", shared_dsn)
    monkeypatch.setenv("IMAGEWATCH_DATA_DIR", str(tmp_path / "data"))
    for name in ("IMAGEWATCH_CONFIG", "NO_COLOR"):
        monkeypatch.delenv(name, raising=False)
    layout = django_layout(tmp_path / "django")
    args = ["scan", f"oci:{layout}:app", "--scanners", "vuln", "--cache-dir", str(tmp_path / "c")]
    assert main([*args, "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    plan = doc["Remediation"]
    django = next(a for a in plan["Actions"] if a["Package"].lower() == "django")
    assert django["InstalledVersions"] == ["2.2"] and django["Command"].startswith("pip install")
    assert django["Layer"] == "app" and django["Fixes"] == len(django["IDs"])
    assert plan["Fixable"] == sum(a["Fixes"] for a in plan["Actions"]) and plan["Top"]
    assert main(args) == 0
    out = capsys.readouterr().out
    fix = out[out.index("\nFix\n===\n"):]
    assert f"First: {plan['Top']}" in fix and f"pip install '{django['Package']}=={django['Target']}'" in fix
