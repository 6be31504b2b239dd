"""Advisories: the OSV-shaped model, its sources, offline loading and matching.

Nothing here does I/O at import time; fetching is explicit and async.
"""

from .index import AdvisoryIndex, package_keys
from .load import load_path
from .match import affected_fixes, is_affected, match_package, package_lookup, range_affected
from .merge import merge_findings
from .model import (
    Advisory, AdvisoryError, Affected, Event, PackageRef, Range, Reference, SeverityScore, decode_json,
    encode_json, from_dict,
)
from .names import normalise_name
from .release import ecosystem_and_release, os_ecosystem
from .severity import cvss_score, severity_of

__all__ = [
    "Advisory", "AdvisoryError", "AdvisoryIndex", "Affected", "Event", "PackageRef", "Range",
    "Reference", "SeverityScore", "affected_fixes", "cvss_score", "decode_json", "ecosystem_and_release",
    "encode_json", "from_dict",
    "is_affected", "load_path", "match_package", "merge_findings", "normalise_name",
    "os_ecosystem", "package_keys", "package_lookup", "range_affected", "severity_of",
]
