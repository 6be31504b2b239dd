"""The one list of output formats; ``render`` picks one by name.

Add a format by importing its module and appending one instance to
``_formats()``; a duplicate ``name`` raises ``ReportError``.
"""

from __future__ import annotations

from functools import lru_cache

from imagewatch.report.base import Formatter, ReportError
from imagewatch.report.result import ScanResult


def _formats() -> list[Formatter]:
    # Imported here so that importing the registry stays cheap and cycle-free.
    from imagewatch.report.cyclonedx import CycloneDxFormat
    from imagewatch.report.json_report import JsonFormat
    from imagewatch.report.openvex import OpenVexFormat
    from imagewatch.report.sarif import SarifFormat
    from imagewatch.report.spdx import SpdxFormat
    from imagewatch.report.table import TableFormat

    return [TableFormat(), JsonFormat(), SarifFormat(), CycloneDxFormat(), SpdxFormat(), OpenVexFormat()]


def check_unique(formats: list[Formatter]) -> dict[str, Formatter]:
    """``formats`` by name; raises ``ReportError`` on a duplicate name or a non-Formatter."""
    out: dict[str, Formatter] = {}
    for f in formats:
        if not isinstance(f, Formatter):
            raise ReportError(f"report: {f!r} does not implement the Formatter protocol")
        if f.name in out:
            raise ReportError(f"report: duplicate format name {f.name!r}")
        out[f.name] = f
    return out


@lru_cache(maxsize=1)
def formats() -> dict[str, Formatter]:
    """Every registered format by name, in registration order."""
    return check_unique(_formats())


def get_format(name: str) -> Formatter:
    """The format called ``name``; raises ``ReportError`` listing the known ones."""
    try:
        return formats()[name]
    except KeyError:
        raise ReportError(f"report: unknown format {name!r} (use {'|'.join(formats())})") from None


def render(result: ScanResult, fmt: str, *, color: bool = False) -> bytes:
    """``result`` rendered in format ``fmt`` (table, json, sarif, cyclonedx, spdx)."""
    return get_format(fmt).render(result, color=color)


def media_type(fmt: str) -> str:
    """The HTTP content type for format ``fmt``."""
    return get_format(fmt).media_type
