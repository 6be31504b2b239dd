"""Remediation rules beyond the real-data tests: Go modules, RPM, end of life, unfixable and app layers."""

from __future__ import annotations

from imagewatch.matcher.remediation import plan_for
from imagewatch.models import EolFinding, Finding, OSInfo, Package

BASE, APP = "sha256:" + "1" * 64, "sha256:" + "2" * 64


def _f(aid: str, pkg: str, version: str, eco: str, fixed: list[str], sev: str = "high", layer: str = APP) -> Finding:
    return Finding(advisory_id=aid, ids=[aid], package=pkg, version=version, ecosystem=eco, fixed_versions=fixed,
                   severity=sev, layer=layer)


def test_go_modules_rpm_and_end_of_life():
    os = OSInfo(id="rocky", version_id="8.9")
    packages = [Package(name="openssl-libs", version="1:1.1.1k-9.el8", ecosystem="Rocky Linux", kind="os",
                        source_name="openssl", layer=BASE),
                Package(name="golang.org/x/net", version="0.15.0", ecosystem="Go", layer=APP),
                Package(name="stdlib", version="1.21.0", ecosystem="Go", layer=APP)]
    findings = [_f("RLSA-1", "openssl-libs", "1:1.1.1k-9.el8", "Rocky Linux", ["1:1.1.1k-12.el8"], "critical", BASE),
                _f("GO-1", "golang.org/x/net", "0.15.0", "Go", ["0.17.0"]),
                _f("GO-2", "golang.org/x/net", "0.15.0", "Go", ["0.23.0", "0.16.0"]),
                _f("GO-3", "stdlib", "1.21.0", "Go", ["1.21.3"]),
                _f("GO-4", "stdlib", "1.21.0", "Go", [])]
    eol = [EolFinding(component="os", product="rocky-linux", cycle="8", name="Rocky Linux 8", eol="2029-05-31",
                      latest="9")]
    plan = plan_for(findings, packages, os, [BASE, APP], eol)
    by = {a.package: a for a in plan.actions}
    # smallest fix above the installed version per finding (0.16.0 for GO-2), greatest over the module
    assert by["golang.org/x/net"].target == "0.17.0" and by["golang.org/x/net"].fixes == 2
    assert by["golang.org/x/net"].command == "go get golang.org/x/net@v0.17.0, then rebuild"
    assert by["stdlib"].command == "rebuild with Go 1.21.3" and by["stdlib"].kind == "go"
    assert by["openssl"].command == "dnf upgrade openssl-libs" and by["openssl"].layer == "base"
    assert by["openssl"].critical == 1 and by["openssl"].target == "1:1.1.1k-12.el8"
    assert [u.advisory_id for u in plan.unfixed] == ["GO-4"]
    assert (plan.fixable, plan.base_fixable, plan.app_fixable) == (4, 1, 3)
    assert "Rocky Linux 8 is end of life (since 2029-05-31): move to 9" in plan.advice
    assert plan.top == by["golang.org/x/net"].text and plan.headline.startswith("upgrade golang.org/x/net to 0.17.0")


def test_fix_not_newer_than_installed_is_unfixed_and_no_layers_no_attribution():
    findings = [_f("PYSEC-1", "django", "3.2.25", "PyPI", ["3.2.20"]), _f("PYSEC-2", "django", "3.2.25", "PyPI", ["4.2.1"])]
    plan = plan_for(findings, [Package(name="django", version="3.2.25", ecosystem="PyPI")], None)
    [action] = plan.actions
    assert action.target == "4.2.1" and action.layer == "" and action.command == "pip install 'django==4.2.1'"
    assert [u.advisory_id for u in plan.unfixed] == ["PYSEC-1"] and plan.base_fixable == 0
    assert not any("base layers" in a for a in plan.advice)
