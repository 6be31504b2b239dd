"""The Alert: everything one chat message says about one image event.

One alert per image event (a push, or new advisories affecting a known image),
never one per finding. Findings are in fix-first order (``matcher.priority``:
known exploited first), other items most severe first; secrets carry a
preview of at most 4 characters and never the raw value. ``counts`` and
``new_count`` always describe the items the alert holds, so an alert filtered
by a route or by the no-repeat rule stays self-consistent (``with_items``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from typing import Literal

import msgspec

from imagewatch.matcher.priority import ImageFacts, Priority, finding_signals, priority_of
from imagewatch.models import SEVERITY_ORDER, Finding, SecretFinding, Severity
from imagewatch.store.signals import Signals

PREVIEW_CHARS = 4
MAX_PROBLEMS_SHOWN = 5
SUMMARY_CHARS = 200


class ImageRef(msgspec.Struct, kw_only=True, frozen=True):
    """The image an alert is about; ``digest`` is the platform manifest digest."""

    registry: str = ""
    repository: str
    tag: str = ""
    digest: str
    platform: str = ""

    @property
    def short_digest(self) -> str:
        algo, _, hexpart = self.digest.partition(":")
        return f"{algo}:{hexpart[:12]}" if hexpart else self.digest[:19]

    @property
    def name(self) -> str:
        """``repository:tag``, or ``repository@short digest`` for an untagged image."""
        return f"{self.repository}:{self.tag}" if self.tag else f"{self.repository}@{self.short_digest}"


class AlertFinding(msgspec.Struct, kw_only=True, frozen=True):
    """One vulnerability as shown: id with its CVE alias, installed → fixed version."""

    id: str
    cve: str = ""
    package: str
    ecosystem: str = ""
    installed: str
    fixed: str = ""
    severity: Severity = "unknown"
    score: float | None = None
    fixable: bool = False
    new: bool = False
    summary: str = ""
    kev: bool = False
    kev_ransomware: bool = False
    epss: float | None = None
    tier: int = 0
    tier_name: str = ""

    @property
    def key(self) -> str:
        return f"vulnerability:{self.id}:{self.ecosystem}:{self.package}"


class AlertSecret(msgspec.Struct, kw_only=True, frozen=True):
    """One secret as shown: where it is, in which layer, and a redacted preview only.

    ``kind`` ``malware`` is a malicious or tampered file (rule and check in
    ``rule_id``/``title``, no preview) or a known-malicious package (its
    ``MAL-`` id and summary); they sort with secrets, ahead of vulnerabilities.
    """

    rule_id: str
    title: str
    severity: Severity
    path: str = ""
    line: int = 0
    layer_index: int | None = None
    removed_in: int | None = None
    preview: str = ""
    fingerprint: str = ""
    kind: Literal["secret", "malware"] = "secret"

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.rule_id}:{self.path}:{self.fingerprint or self.line}"


class AlertMisconfiguration(msgspec.Struct, kw_only=True, frozen=True):
    """One misconfiguration as shown (``path`` like ``config:Env`` for image config)."""

    rule_id: str
    title: str
    severity: Severity
    path: str = ""
    line: int = 0
    remediation: str = ""

    @property
    def key(self) -> str:
        return f"misconfiguration:{self.rule_id}:{self.path}"


AlertItem = AlertFinding | AlertSecret | AlertMisconfiguration


class Alert(msgspec.Struct, kw_only=True, frozen=True):
    """One message's worth of content for one image event.

    ``reason`` is ``push`` (a new image) or ``advisory`` (newly published
    ``advisories`` affect a known image). ``counts`` maps severity to the number
    of vulnerabilities held, most severe first. ``api_url`` links the full
    report; ``idempotency_key`` is the same for the same image event.
    ``partial`` says the scan could not read everything (``problems``, the
    first few lines): the alert may miss findings. ``not_covered`` names the
    OS release and ecosystems no advisory data covers: no findings there means
    nothing was checked, not clean. ``fix`` is the remediation plan's single most
    effective action in a few words (``matcher.remediation``), shown in the title.
    """

    image: ImageRef
    reason: Literal["push", "advisory"] = "push"
    advisories: list[str] = []
    counts: dict[str, int] = {}
    findings: list[AlertFinding] = []
    secrets: list[AlertSecret] = []
    misconfigurations: list[AlertMisconfiguration] = []
    new_count: int = 0
    api_url: str = ""
    idempotency_key: str = ""
    partial: bool = False
    problems: list[str] = []
    not_covered: list[str] = []
    fix: str = ""

    @property
    def is_empty(self) -> bool:
        return not (self.findings or self.secrets or self.misconfigurations)

    @property
    def max_severity(self) -> str:
        items: list[AlertItem] = [*self.findings, *self.secrets, *self.misconfigurations]
        return max((i.severity for i in items), key=SEVERITY_ORDER.__getitem__, default="unknown")

    def with_items(
        self,
        findings: Iterable[AlertFinding],
        secrets: Iterable[AlertSecret],
        misconfigurations: Iterable[AlertMisconfiguration],
    ) -> Alert:
        """A copy holding only these items, re-sorted, with counts recomputed."""
        fs = sorted(findings, key=_finding_order)
        return msgspec.structs.replace(
            self,
            findings=fs,
            secrets=sorted(secrets, key=_item_order),
            misconfigurations=sorted(misconfigurations, key=_item_order),
            counts=severity_counts(fs),
            new_count=sum(f.new for f in fs),
        )


def severity_counts(items: Iterable[AlertItem]) -> dict[str, int]:
    """Number of items per severity, most severe first, zero counts left out."""
    counts = dict.fromkeys(SEVERITY_ORDER, 0)
    for item in items:
        counts[item.severity] += 1
    return {sev: n for sev, n in counts.items() if n}


def redact_preview(preview: str) -> str:
    """At most the first 4 characters of a secret, then an ellipsis."""
    head = preview[:PREVIEW_CHARS].rstrip("…*")
    return f"{head}…" if head else ""


def build_alert(
    *,
    image: ImageRef,
    api_base: str,
    reason: Literal["push", "advisory"] = "push",
    advisories: Iterable[str] = (),
    findings: Iterable[Finding] = (),
    secrets: Iterable[SecretFinding] = (),
    new_ids: Iterable[str] = (),
    event_id: str = "",
    problems: Iterable[str] = (),
    signals: Mapping[str, Signals] | None = None,
    facts: ImageFacts | None = None,
    not_covered: Iterable[str] = (),
    fix: str = "",
) -> Alert:
    """Build the alert for one image event from stored findings and secrets.

    ``new_ids`` are advisory ids (or aliases) new since the previous image of the
    same tag (``FindingsReady.new``). ``event_id`` optionally distinguishes
    events that would otherwise share an idempotency key. ``signals`` (KEV,
    EPSS per CVE) and ``facts`` place each finding in the fix-first order
    (``matcher.priority``) and mark the known exploited ones. ``not_covered``
    are the OS release and ecosystems no advisory data covered (``matcher.coverage``);
    ``fix`` the most effective action of the image's remediation plan.
    """
    new = set(new_ids)
    findings = list(findings)
    facts = facts or ImageFacts()
    vulns = []
    for f in findings:
        if f.kind == "malware":
            continue
        s = finding_signals(f, signals or {})
        vulns.append(_alert_finding(f, new, s, priority_of(f, s, facts)))
    shown_secrets = [_alert_malicious_package(f) for f in findings if f.kind == "malware"]
    misconfigs = []
    for s in secrets:
        if s.kind in ("secret", "malware"):
            shown_secrets.append(_alert_secret(s))
        else:
            misconfigs.append(_alert_misconfiguration(s))
    advisory_ids = sorted(set(advisories))
    alert = Alert(
        image=image,
        reason=reason,
        advisories=advisory_ids,
        api_url=f"{api_base.rstrip('/')}/v1/images/{image.digest}",
        idempotency_key=idempotency_key(image, reason, advisory_ids, event_id),
        partial=bool(problems := list(problems)),
        problems=problems[:MAX_PROBLEMS_SHOWN],
        not_covered=list(not_covered),
        fix=fix,
    )
    return alert.with_items(vulns, shown_secrets, misconfigs)


def idempotency_key(image: ImageRef, reason: str, advisories: Iterable[str], event_id: str = "") -> str:
    """A stable key for one image event: the same inputs always give the same key."""
    parts = [image.registry, image.repository, image.tag, image.digest, image.platform, reason, event_id]
    parts.extend(sorted(advisories))
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]


def _alert_finding(f: Finding, new: set[str], s: Signals, p: Priority) -> AlertFinding:
    cve = f.cve or ""
    return AlertFinding(
        id=f.advisory_id,
        cve="" if cve == f.advisory_id else cve,
        package=f.package,
        ecosystem=f.ecosystem,
        installed=f.version,
        fixed=", ".join(f.fixed_versions),
        severity=f.severity,
        score=f.score,
        fixable=f.fixable,
        new=f.advisory_id in new or any(i in new for i in f.ids),
        summary=f.summary[:SUMMARY_CHARS],
        kev=s.kev, kev_ransomware=s.kev_ransomware, epss=s.epss, tier=p.tier, tier_name=p.tier_name,
    )


def _alert_secret(s: SecretFinding) -> AlertSecret:
    return AlertSecret(
        rule_id=s.rule_id, title=s.title, severity=s.severity, path=s.path, line=s.line,
        layer_index=s.layer_index, removed_in=s.removed_in,
        preview=redact_preview(s.preview), fingerprint=s.fingerprint,
        kind="malware" if s.kind == "malware" else "secret",
    )


def _alert_malicious_package(f: Finding) -> AlertSecret:
    title = f"Known-malicious package {f.package} {f.version} ({f.ecosystem}): {f.summary}"
    return AlertSecret(rule_id=f.advisory_id, title=title[:SUMMARY_CHARS], severity=f.severity,
                       path=f.path or f"{f.ecosystem}/{f.package}@{f.version}", kind="malware")


def _alert_misconfiguration(s: SecretFinding) -> AlertMisconfiguration:
    return AlertMisconfiguration(
        rule_id=s.rule_id, title=s.title, severity=s.severity, path=s.path, line=s.line,
        remediation=s.remediation,
    )


def _finding_order(f: AlertFinding) -> tuple:
    # The fix-first order of matcher.priority (the image facts are the same for every item).
    return (f.tier or 9, not f.kev_ransomware, -SEVERITY_ORDER[f.severity], not f.fixable, -(f.epss or 0.0),
            -(f.score or 0.0), f.id, f.package)


def _item_order(i: AlertSecret | AlertMisconfiguration) -> tuple:
    return (-SEVERITY_ORDER[i.severity], i.rule_id, i.path, i.line)
