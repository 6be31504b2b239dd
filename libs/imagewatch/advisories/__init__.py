"""Advisories: the OSV-shaped model, its sources, offline loading and matching.

Nothing here does I/O at import time; fetching is explicit and async.
"""

from imagewatch.advisories.index import AdvisoryIndex, package_keys
from imagewatch.advisories.match import affected_fixes, is_affected, match_package, package_lookup, range_affected
from imagewatch.advisories.merge import merge_findings
from imagewatch.advisories.model import (
    Advisory, AdvisoryError, Affected, Event, PackageRef, Range, Reference, SeverityScore, decode_json,
    encode_json, from_dict,
)
from imagewatch.advisories.names import normalise_name
from imagewatch.ecosystems.catalog import ecosystem_and_release, os_ecosystem
from imagewatch.advisories.severity import cvss_score, severity_of

__all__ = [
    "Advisory", "AdvisoryError", "AdvisoryIndex", "Affected", "Event", "PackageRef", "Range",
    "Reference", "SeverityScore", "affected_fixes", "cvss_score", "decode_json", "ecosystem_and_release",
    "encode_json", "from_dict",
    "is_affected", "load_path", "match_package", "merge_findings", "normalise_name",
    "os_ecosystem", "package_keys", "package_lookup", "range_affected", "severity_of",
]


def __getattr__(name: str):
    # load_path reads files of every source format, ecosystem converters included;
    # imported on first use so that those converters can import this package's model.
    if name == "load_path":
        from imagewatch.advisories.load import load_path

        return load_path
    raise AttributeError(name)
