"""CISA's Known Exploited Vulnerabilities catalog (https://www.cisa.gov/known-exploited-vulnerabilities-catalog).

The catalog is one JSON document (``catalogVersion``, ``vulnerabilities`` of
``cveID``, ``dateAdded``, ``dueDate``, ``knownRansomwareCampaignUse`` …); it
is always imported whole, so an id missing from a newer catalog is delisted.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec

URL = "https://www.cisa.gov/sites/default/files/feeds/known_exploited_vulnerabilities.json"
_CVE = re.compile(r"^CVE-\d{4}-\d{4,}$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class KevEntry(msgspec.Struct, kw_only=True, frozen=True):
    """One listed CVE: when CISA added it, the remediation due date, and known ransomware use."""

    cve: str
    date_added: str = ""
    due_date: str = ""
    ransomware: bool = False
    name: str = ""


class KevCatalog(msgspec.Struct, kw_only=True):
    """A whole KEV catalog: its version and entries."""

    version: str
    entries: list[KevEntry]


def is_kev(doc: Any) -> bool:
    """Whether ``doc`` is a KEV catalog."""
    return isinstance(doc, dict) and "catalogVersion" in doc and isinstance(doc.get("vulnerabilities"), list)


def _date(value: Any) -> str:
    return value if isinstance(value, str) and _DATE.match(value) else ""


def parse_kev(doc: dict[str, Any]) -> KevCatalog:
    """The catalog's entries; rows without a well-formed CVE id are skipped."""
    entries = []
    for v in doc.get("vulnerabilities") or ():
        if not isinstance(v, dict) or not _CVE.match(str(v.get("cveID", ""))):
            continue
        entries.append(KevEntry(
            cve=v["cveID"], date_added=_date(v.get("dateAdded")), due_date=_date(v.get("dueDate")),
            ransomware=str(v.get("knownRansomwareCampaignUse", "")).lower() == "known",
            name=str(v.get("vulnerabilityName", ""))[:300]))
    return KevCatalog(version=str(doc.get("catalogVersion", "")), entries=entries)
