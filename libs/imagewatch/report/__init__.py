"""Reports of a scan: table, JSON, SARIF, CycloneDX and SPDX; filters; suppressions.

Everything here is a pure function over ``ScanResult``; ``imagewatch scan`` and
the API's SBOM endpoint call ``render``. Loading an ignore file or VEX document
is the only I/O, and only when asked.
"""

from __future__ import annotations

from imagewatch.report.base import Formatter, ReportError
from imagewatch.report.filters import filter_result, should_fail
from imagewatch.report.ignorefile import IgnoreEntry, IgnoreFile, IgnoreFileError, load_ignore_file, parse_ignore_file
from imagewatch.report.catalog import formats, get_format, media_type, render
from imagewatch.report.result import ScanResult, Suppressed
from imagewatch.report.severity import parse_severities
from imagewatch.report.suppress import apply_suppressions
from imagewatch.report.vex import VexDoc, VexError, load_vex, parse_vex

__all__ = [
    "Formatter", "IgnoreEntry", "IgnoreFile", "IgnoreFileError", "ReportError", "ScanResult",
    "Suppressed", "VexDoc", "VexError", "apply_suppressions", "filter_result", "formats",
    "get_format", "load_ignore_file", "load_vex", "media_type", "parse_ignore_file",
    "parse_severities", "parse_vex", "render", "should_fail",
]
