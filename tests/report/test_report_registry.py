"""The format registry."""

from __future__ import annotations

import pytest

from imagewatch.report import ReportError, ScanResult, formats, get_format, media_type, render
from imagewatch.report.json_report import JsonFormat
from imagewatch.report.catalog import check_unique


def test_every_format_is_registered():
    assert list(formats()) == ["table", "json", "sarif", "cyclonedx", "spdx", "openvex"]
    assert media_type("cyclonedx").startswith("application/vnd.cyclonedx+json")
    assert media_type("spdx") == "application/spdx+json"
    assert media_type("sarif") == "application/sarif+json"


def test_unknown_format():
    with pytest.raises(ReportError, match=r"report: unknown format 'xml' \(use table\|json"):
        render(ScanResult(reference="r/x:1"), "xml")


def test_duplicate_name_raises():
    with pytest.raises(ReportError, match="duplicate format name 'json'"):
        check_unique([JsonFormat(), JsonFormat()])
    with pytest.raises(ReportError, match="does not implement"):
        check_unique([object()])


def test_get_format_returns_instance():
    assert get_format("json").name == "json"
