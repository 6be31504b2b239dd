"""The fix-first order: each finding's priority tier from explicit signals, then tie-breakers.

The rules are written out in ``docs/prioritisation.md``; this module is that
document as code and nothing more. A finding's tier is the first that holds:

1. ``known exploited``  – one of its CVEs is in CISA KEV;
2. ``likely exploited`` – EPSS probability >= 0.10 or EPSS percentile >= 0.95;
3. ``severe``           – severity critical or high;
4. ``moderate``         – severity medium, or unknown (never ranked under a known low);
5. ``low``              – severity low or info.

A finding whose ``reachability`` attribute (when the finding carries one)
says ``not-linked`` moves down one tier (5 stays 5). Within a tier the order
is: ransomware use (KEV), severity, fixable now, image used by a running
workload (admission saw it), image runs as root, image exposes ports, EPSS
probability, CVSS score, then ids for a stable order. No weights, no score:
each item carries the reasons that placed it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import msgspec

from imagewatch.models import SEVERITY_ORDER, Finding
from imagewatch.store.signals import Signals

EPSS_PROBABILITY = 0.10
EPSS_PERCENTILE = 0.95
TIERS = {1: "known exploited", 2: "likely exploited", 3: "severe", 4: "moderate", 5: "low"}


class ImageFacts(msgspec.Struct, kw_only=True, omit_defaults=True):
    """What the image itself adds to its findings' risk: root user, exposed ports, a running workload."""

    runs_as_root: bool = False
    exposed_ports: list[str] = []
    in_use: bool = False


class Priority(msgspec.Struct, kw_only=True, omit_defaults=True):
    """Where a finding sits in the fix-first list: its tier, why, and its position (1 = fix first)."""

    rank: int = 0
    tier: int
    tier_name: str
    reasons: list[str] = []


def image_facts(config: Mapping[str, Any] | None, *, in_use: bool = False) -> ImageFacts:
    """The facts of an image from its OCI config (``config.User``, ``config.ExposedPorts``).

    An empty user, ``root`` or uid ``0`` (with any group) runs as root; an
    image without a config counts as root, as a container runtime would run it.
    """
    inner = (config or {}).get("config") if isinstance(config, Mapping) else None
    inner = inner if isinstance(inner, Mapping) else {}
    user = str(inner.get("User") or "").strip()
    name = user.split(":", 1)[0]
    ports = inner.get("ExposedPorts")
    return ImageFacts(runs_as_root=name in ("", "root", "0"),
                      exposed_ports=sorted(str(p) for p in ports) if isinstance(ports, Mapping) else [],
                      in_use=in_use)


def finding_signals(f: Finding, signals: Mapping[str, Signals]) -> Signals:
    """The KEV and EPSS data of all of a finding's CVE ids together: listed if any is, the highest EPSS."""
    known = [signals[i] for i in (f.ids or [f.advisory_id]) if i in signals]
    if not known:
        return Signals()
    listed = [s for s in known if s.kev]
    scored = [s for s in known if s.epss is not None]
    best = max(scored, key=lambda s: (s.epss or 0.0, s.epss_percentile or 0.0)) if scored else None
    return Signals(kev=bool(listed), kev_ransomware=any(s.kev_ransomware for s in listed),
                   kev_date_added=min((s.kev_date_added for s in listed if s.kev_date_added), default=""),
                   epss=best.epss if best else None, epss_percentile=best.epss_percentile if best else None)


def _not_linked(f: Finding) -> bool:
    return getattr(f, "reachability", None) == "not-linked"


def priority_of(f: Finding, s: Signals, facts: ImageFacts) -> Priority:
    """The tier of one finding and the reasons, as listed in the module docstring."""
    reasons: list[str] = []
    if s.kev:
        tier = 1
        reasons.append("listed in CISA KEV" + (" (used in ransomware)" if s.kev_ransomware else "")
                       + (f" since {s.kev_date_added}" if s.kev_date_added else ""))
    elif (s.epss or 0.0) >= EPSS_PROBABILITY or (s.epss_percentile or 0.0) >= EPSS_PERCENTILE:
        tier = 2
        reasons.append(f"EPSS {s.epss:.2f} (percentile {s.epss_percentile:.2f})")
    elif f.severity in ("critical", "high"):
        tier = 3
        reasons.append(f"severity {f.severity}")
    elif f.severity in ("medium", "unknown"):
        tier = 4
        reasons.append(f"severity {f.severity}")
    else:
        tier = 5
        reasons.append(f"severity {f.severity}")
    if _not_linked(f):
        tier = min(5, tier + 1)
        reasons.append("vulnerable code not linked into the binary: one tier lower")
    if f.fixable:
        reasons.append("fix available")
    if facts.in_use:
        reasons.append("image used by a running workload")
    if facts.runs_as_root:
        reasons.append("image runs as root")
    if facts.exposed_ports:
        reasons.append("image exposes " + ", ".join(facts.exposed_ports[:5]))
    return Priority(tier=tier, tier_name=TIERS[tier], reasons=reasons)


def order_key(f: Finding, s: Signals, facts: ImageFacts, p: Priority) -> tuple:
    """The sort key: tier, then the tie-breakers in the documented order (smaller sorts first)."""
    return (p.tier, not s.kev_ransomware, -SEVERITY_ORDER.get(f.severity, 0), not f.fixable,
            not facts.in_use, not facts.runs_as_root, not facts.exposed_ports,
            -(s.epss or 0.0), -(f.score or 0.0), f.cve or f.advisory_id, f.package, f.version)


class Ranked(msgspec.Struct, kw_only=True):
    """One finding with its signals and priority, as placed in the fix-first list."""

    finding: Finding
    signals: Signals
    priority: Priority
    facts: ImageFacts


def rank(findings: Iterable[Finding], signals: Mapping[str, Signals], facts: ImageFacts) -> list[Ranked]:
    """The findings of one image in fix-first order, each with ``priority.rank`` set from 1."""
    rows = []
    for f in findings:
        s = finding_signals(f, signals)
        rows.append(Ranked(finding=f, signals=s, priority=priority_of(f, s, facts), facts=facts))
    return rank_rows(rows)


def rank_rows(rows: Iterable[Ranked]) -> list[Ranked]:
    """Rows (of one or many images) in fix-first order, ranks set from 1."""
    ordered = sorted(rows, key=lambda r: order_key(r.finding, r.signals, r.facts, r.priority))
    for i, r in enumerate(ordered, 1):
        r.priority.rank = i
    return ordered


async def rank_image(conn: Any, digest: str, findings: list[Finding]) -> list[Ranked]:
    """An image's stored findings in fix-first order, with KEV/EPSS, image facts and workload use from the store."""
    from imagewatch.store import images as images_store
    from imagewatch.store import signals as signals_store
    from imagewatch.store import workloads

    signals = await signals_store.signals_for(conn, (i for f in findings for i in (f.ids or [f.advisory_id])))
    config = (await images_store.image_configs(conn, [digest])).get(digest)
    facts = image_facts(config, in_use=digest in await workloads.in_use(conn, [digest]))
    return rank(findings, signals, facts)


class FleetItem(msgspec.Struct, kw_only=True):
    """One vulnerability across the current images: its best-placed finding, and where it is."""

    id: str
    best: Ranked
    images: list[str]
    names: list[str]
    packages: list[str]


async def rank_fleet(conn: Any, limit: int = 50) -> list[FleetItem]:
    """The top ``limit`` vulnerabilities across every image a tag points at now, grouped by CVE.

    All findings are ranked together (each with its own image's facts); a
    vulnerability is placed where its best-placed finding is.
    """
    from imagewatch.store import findings as findings_store
    from imagewatch.store import images as images_store
    from imagewatch.store import signals as signals_store
    from imagewatch.store import workloads

    names = await images_store.current_tag_names(conn)
    digests = sorted(names)
    found = await findings_store.findings_of_images(conn, digests)
    signals = await signals_store.signals_for(conn, (i for _, f in found for i in (f.ids or [f.advisory_id])))
    configs = await images_store.image_configs(conn, digests)
    used = await workloads.in_use(conn, digests)
    facts = {d: image_facts(configs.get(d), in_use=d in used) for d in digests}
    rows, where = [], []
    for digest, f in found:
        s = finding_signals(f, signals)
        rows.append(Ranked(finding=f, signals=s, priority=priority_of(f, s, facts[digest]), facts=facts[digest]))
        where.append(digest)
    image_of = {id(r): d for r, d in zip(rows, where)}
    groups: dict[str, FleetItem] = {}
    for r in rank_rows(rows):
        key = r.finding.cve or r.finding.advisory_id
        digest = image_of[id(r)]
        item = groups.get(key)
        if item is None:
            item = groups[key] = FleetItem(id=key, best=r, images=[], names=[], packages=[])
        if digest not in item.images:
            item.images.append(digest)
            item.names.extend(n for n in names.get(digest, []) if n not in item.names)
        pkg = f"{r.finding.ecosystem}/{r.finding.package}"
        if pkg not in item.packages:
            item.packages.append(pkg)
    out = list(groups.values())[:limit]
    for i, item in enumerate(out, 1):
        item.best.priority.rank = i
    return out
