"""Known-malicious package reports (OpenSSF malicious-packages, ``MAL-YYYY-N``) are malware, not vulnerabilities.

A package published with malicious intent has no fixed version and no CVSS
score: every install of it is a compromise. Its findings are therefore of kind
``malware``, severity ``critical``, whatever the record says, and carry the
record's summary. A record is a malicious-package report when its id or one of
its aliases is a ``MAL-`` id (OSV.dev also republishes these records in its
per-ecosystem exports, so the rule holds whichever feed brought the record).
"""

from __future__ import annotations

from collections.abc import Iterable

import msgspec

from imagewatch.models import Finding

PREFIX = "MAL-"
SOURCE = "ossf-malicious"


def is_malicious_id(ids: Iterable[str]) -> bool:
    """Whether any of ``ids`` is an OpenSSF malicious-packages id."""
    return any(i.startswith(PREFIX) for i in ids)


def as_malware(finding: Finding) -> Finding:
    """The finding as a ``malware`` finding (critical, primary id the ``MAL-`` id) when it is one."""
    ids = finding.ids or [finding.advisory_id]
    if not is_malicious_id(ids):
        return finding
    primary = finding.advisory_id if finding.advisory_id.startswith(PREFIX) else next(
        i for i in ids if i.startswith(PREFIX))
    summary = finding.summary or f"Malicious package {finding.package}"
    return msgspec.structs.replace(finding, kind="malware", severity="critical", advisory_id=primary,
                                   summary=summary, fixed_versions=[])
