"""The one record every report format renders: an image and what was found in it.

``ScanResult`` is built by ``imagewatch scan`` and by the API from stored rows;
the renderers, filters and suppressions are pure functions over it.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Literal

import msgspec

from imagewatch import __version__
from imagewatch.matcher.coverage import Coverage
from imagewatch.matcher.remediation import Plan, plan_for
from imagewatch.matcher.priority import ImageFacts, Ranked, rank
from imagewatch.models import EolFinding, Finding, OSInfo, Package, SecretFinding
from imagewatch.store.signals import Signals


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)


class Suppressed(msgspec.Struct, kw_only=True, omit_defaults=True):
    """A finding kept out of the results by an ignore entry or a VEX statement.

    ``status`` is ``ignored`` (ignore file) or the VEX status (``not_affected``,
    ``fixed``); ``source`` names the ignore file or the VEX document;
    ``justification`` is the VEX justification or the ignore entry's reason.
    Exactly one of ``finding`` (vulnerability) and ``secret`` (secret or
    misconfiguration) is set.
    """

    kind: Literal["vulnerability", "secret", "misconfiguration", "malware"]
    status: str
    source: str
    justification: str = ""
    statement: str = ""
    finding: Finding | None = None
    secret: SecretFinding | None = None


class ScanResult(msgspec.Struct, kw_only=True, omit_defaults=True):
    """Everything known about one scanned image, ready to render.

    ``reference`` is what the user named (``registry/repo:tag``), ``digest`` the
    manifest digest, ``platform`` like ``linux/amd64``. ``secrets`` holds both
    secrets and misconfigurations (``SecretFinding.kind``). ``suppressed`` is
    filled by ``apply_suppressions``. ``coverage`` says which OS release and
    ecosystems were checked against which data (None when not computed).
    ``created`` is timezone-aware UTC. ``signals`` holds the KEV/EPSS data of
    the findings' CVEs and ``facts`` the image's own facts (root, ports, in
    use): both feed the fix-first order (``ranking``); ``sort`` is how the
    table and JSON order vulnerabilities (``severity`` or ``priority``).
    ``eol`` lists the OS release and runtimes past their end of life.
    ``problems`` lists what the scan could not read: non-empty means partial.
    ``layers`` are the image's layer diff_ids, base first (for the remediation plan's layer attribution).
    """

    reference: str
    digest: str = ""
    platform: str = ""
    os: OSInfo | None = None
    packages: list[Package] = []
    findings: list[Finding] = []
    secrets: list[SecretFinding] = []
    suppressed: list[Suppressed] = []
    coverage: Coverage | None = None
    problems: list[str] = []
    signals: dict[str, Signals] = {}
    facts: ImageFacts | None = None
    eol: list[EolFinding] = []
    layers: list[str] = []
    sort: Literal["severity", "priority"] = "severity"
    created: datetime = msgspec.field(default_factory=_now)
    tool_version: str = __version__

    @property
    def created_iso(self) -> str:
        """``created`` as ``YYYY-MM-DDTHH:MM:SSZ`` (the form SPDX and CycloneDX accept)."""
        created = self.created
        if created.tzinfo is None:
            created = created.replace(tzinfo=timezone.utc)
        return created.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")

    @property
    def document_uuid(self) -> uuid.UUID:
        """A UUID fixed by image digest (or reference) and creation time, for SBOM identifiers."""
        key = f"imagewatch:{self.digest or self.reference}:{self.created_iso}"
        return uuid.uuid5(uuid.NAMESPACE_URL, key)

    @property
    def name(self) -> str:
        """The reference without tag or digest: ``registry/repo``."""
        ref = self.reference.split("@", 1)[0]
        slash = ref.rfind("/")
        colon = ref.rfind(":")
        return ref[:colon] if colon > slash else ref

    def ranking(self) -> dict[tuple[str, str, str, str, str], Ranked]:
        """Each finding (by ``finding_ref``) with its signals and priority, ranks over these findings."""
        return {finding_ref(r.finding): r for r in rank(self.findings, self.signals, self.facts or ImageFacts())}

    def remediation(self) -> Plan:
        """The remediation plan of the findings (``matcher.remediation``)."""
        return plan_for(self.findings, self.packages, self.os, self.layers, self.eol)

    @property
    def has_signals(self) -> bool:
        """Whether any finding's CVE has KEV or EPSS data (the table then shows those columns)."""
        return any(i in self.signals for f in self.findings for i in f.ids)


def finding_ref(f: Finding) -> tuple[str, str, str, str, str]:
    """A finding's identity within one result."""
    return (f.advisory_id, f.ecosystem, f.package, f.version, f.path)
