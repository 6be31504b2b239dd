"""The Debian security tracker's JSON (https://security-tracker.debian.org/tracker/data/json) as OSV records.

The document maps source package → issue (``CVE-…``, ``TEMP-…``) → ``releases``
→ codename → ``{status, fixed_version, urgency, nodsa, nodsa_reason}``. Per
release (``bookworm`` → ``Debian:12``):

* ``resolved`` with ``fixed_version`` ``0``: the release was never affected
  (``<not-affected>``), no entry;
* ``resolved`` with a version: affected below it (``introduced 0, fixed V``);
* ``open`` / ``undetermined``: affected, no fix; ``nodsa_reason``
  (``postponed``, ``ignored``) or ``nodsa`` ("Minor issue") say why Debian does
  not ship one, kept in ``database_specific``.

One record per issue, ``DEBIAN-<id>``, naming the CVE in ``upstream`` (so a
finding carries it as an alias), one ``affected`` entry per (release, source
package) with the tracker urgency in ``ecosystem_specific.urgency`` — the
distribution's own rating, first in the severity precedence.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from imagewatch.advisories.model import Advisory, Affected, Event, PackageRef, Range, Reference

SOURCE = "debian-security-tracker"
CODENAMES = {
    "jessie": "8", "stretch": "9", "buster": "10", "bullseye": "11", "bookworm": "12",
    "trixie": "13", "forky": "14", "duke": "15",
}


def is_tracker(doc: Any) -> bool:
    """Whether ``doc`` looks like the tracker JSON: package → issue → {releases: {...}}."""
    if not isinstance(doc, dict) or not doc:
        return False
    for issues in doc.values():
        if not isinstance(issues, dict) or not issues:
            return False
        first = next(iter(issues.values()))
        return isinstance(first, dict) and isinstance(first.get("releases"), dict)
    return False


def _entry(package: str, codename: str, release: dict[str, Any]) -> Affected | None:
    version = CODENAMES.get(codename)
    if version is None:
        return None
    status = str(release.get("status") or "")
    fixed = str(release.get("fixed_version") or "")
    if status == "resolved" and fixed in ("", "0"):
        return None  # not affected
    events = [Event(introduced="0")]
    if status == "resolved":
        events.append(Event(fixed=fixed))
    specific = {"status": status, "release": codename}
    for key in ("nodsa", "nodsa_reason"):
        if release.get(key):
            specific[key] = str(release[key])
    return Affected(
        package=PackageRef(ecosystem=f"Debian:{version}", name=package,
                           purl=f"pkg:deb/debian/{package}?arch=source&distro={codename}"),
        ranges=[Range(type="ECOSYSTEM", events=events)],
        ecosystem_specific={"urgency": str(release.get("urgency") or "not yet assigned")},
        database_specific=specific,
    )


def convert(doc: dict[str, Any], modified: str = "") -> Iterator[Advisory]:
    """One OSV record per tracker issue, across every source package and release it names."""
    by_issue: dict[str, list[Affected]] = {}
    details: dict[str, str] = {}
    for package, issues in doc.items():
        if not isinstance(issues, dict):
            continue
        for issue, body in issues.items():
            if not isinstance(body, dict) or not isinstance(body.get("releases"), dict):
                continue
            entries = by_issue.setdefault(issue, [])
            if body.get("description") and issue not in details:
                details[issue] = str(body["description"])
            for codename, release in sorted(body["releases"].items()):
                if isinstance(release, dict):
                    entry = _entry(package, codename, release)
                    if entry is not None:
                        entries.append(entry)
    for issue in sorted(by_issue):
        entries = by_issue[issue]
        if not entries:
            continue
        yield Advisory(
            id=f"DEBIAN-{issue}", modified=modified, details=details.get(issue, ""),
            upstream=[issue] if issue.startswith("CVE-") else [], affected=entries,
            references=[Reference(type="ADVISORY", url=f"https://security-tracker.debian.org/tracker/{issue}")],
            database_specific={"source": SOURCE},
        )
