"""--severity, --ignore-unfixed and the exit-code decision."""

from __future__ import annotations

import pytest

from imagewatch.models import Finding
from imagewatch.report import ScanResult, filter_result, parse_severities, should_fail


def test_parse_severities():
    assert parse_severities("HIGH, critical") == {"high", "critical"}
    assert parse_severities(["LOW"]) == {"low"}
    with pytest.raises(ValueError, match="report: unknown severity severe"):
        parse_severities("HIGH,SEVERE")


def test_severity_filter(scan_result):
    out = filter_result(scan_result, "CRITICAL")
    assert [f.package for f in out.findings] == ["zlib1g"]
    assert [s.rule_id for s in out.secrets] == ["aws-access-key-id"]
    assert out.packages == scan_result.packages, "the SBOM part is never filtered"
    assert len(scan_result.findings) == 8, "the input is not modified"


def test_ignore_unfixed(scan_result):
    out = filter_result(scan_result, None, ignore_unfixed=True)
    assert "zlib1g" not in {f.package for f in out.findings}
    assert len(out.findings) == 7
    assert len(out.secrets) == 4, "secrets and misconfigurations are always actionable"


def test_filters_combine(scan_result):
    out = filter_result(scan_result, {"critical", "high"}, ignore_unfixed=True)
    assert sorted(f.package for f in out.findings) == ["golang.org/x/net", "libc6", "stdlib"]


@pytest.mark.parametrize("severities,ignore_unfixed,expected", [
    (None, False, True),
    ({"critical"}, False, True),           # zlib is critical
    ({"critical"}, True, True),            # ... unfixed, but the AWS key is critical too
    ({"low"}, False, False),               # nothing low
    ({"medium"}, True, True),
])
def test_should_fail(scan_result, severities, ignore_unfixed, expected):
    assert should_fail(scan_result, severities, ignore_unfixed) is expected


def test_should_fail_vulnerabilities_only():
    result = ScanResult(reference="r/x:1", findings=[
        Finding(advisory_id="CVE-2023-45853", package="zlib1g", version="1:1.2.13.dfsg-1",
                ecosystem="Debian", severity="critical")])
    assert should_fail(result, {"critical"})
    assert not should_fail(result, {"critical"}, ignore_unfixed=True), "unfixed only: passes"
    assert not should_fail(result, {"high"})
    assert not should_fail(ScanResult(reference="r/x:1")), "a clean image never fails"
