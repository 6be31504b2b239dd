"""Vulnerability queries: an image's findings, and the images having a given vulnerability."""

from __future__ import annotations

import json

import msgspec
from aiohttp import web

from imagewatch.matcher.matching import severity_counts
from imagewatch.matcher.priority import Ranked, rank_image
from imagewatch.models import SEVERITY_ORDER, Finding
from imagewatch.store import findings as store
from imagewatch.store import images as image_store

from imagewatch_services.api.keys import CTX


def _bad(message: str) -> web.HTTPBadRequest:
    return web.HTTPBadRequest(text=json.dumps({"error": message}), content_type="application/json")


def _int(request: web.Request, name: str, default: int, low: int, high: int) -> int:
    try:
        return max(low, min(high, int(request.query.get(name, str(default)))))
    except ValueError:
        raise _bad(f"{name}: expected an integer") from None


def _severities(request: web.Request) -> list[str] | None:
    raw = request.query.get("severity", "")
    wanted = [s.strip().lower() for s in raw.split(",") if s.strip()]
    unknown = [s for s in wanted if s not in SEVERITY_ORDER]
    if unknown:
        raise _bad(f"severity: unknown {', '.join(unknown)}; use {', '.join(SEVERITY_ORDER)}")
    return wanted or None


def _fixable(request: web.Request) -> bool | None:
    raw = request.query.get("fixable", "").lower()
    if raw in ("", "any"):
        return None
    if raw in ("true", "1", "yes"):
        return True
    if raw in ("false", "0", "no"):
        return False
    raise _bad("fixable: expected true or false")


def finding_json(f: Finding, ranked: Ranked | None = None) -> dict:
    """A finding as the API shows it: CVE first-class, installed and fixed versions, fixability.

    ``reachability`` (Go binaries): ``reachable``, ``package-linked``, ``not-linked`` or null.
    With ``ranked`` it also carries ``kev``, ``kev_ransomware``, ``epss``,
    ``epss_percentile`` and ``priority`` (rank, tier, tier_name, reasons).
    """
    extra = {}
    if ranked is not None:
        s = ranked.signals
        extra = {"kev": s.kev, "kev_ransomware": s.kev_ransomware, "kev_date_added": s.kev_date_added or None,
                 "epss": s.epss, "epss_percentile": s.epss_percentile,
                 "priority": msgspec.to_builtins(ranked.priority)}
    return extra | {
        "id": f.advisory_id, "cve": f.cve, "ids": f.ids or [f.advisory_id],
        "package": f.package, "ecosystem": f.ecosystem, "purl": f.purl or None,
        "installed_version": f.version, "fixed_versions": f.fixed_versions, "fixable": f.fixable,
        "severity": f.severity, "score": f.score, "summary": f.summary,
        "layer": f.layer or None, "path": f.path or None, "kind": f.kind,
        "reachability": f.reachability or None,
    } | extra


async def image_vulnerabilities(request: web.Request) -> web.Response:
    """``GET /v1/images/{digest}/vulnerabilities[?severity=high,critical&fixable=true&sort=&limit=&cursor=]``.

    Most severe first, or fix-first with ``sort=priority`` (docs/prioritisation.md);
    every item carries its KEV/EPSS data and priority. ``next_cursor`` pages on.
    ``counts`` is per severity over all findings. Known-malicious packages are
    not vulnerabilities: they are under ``/malware``.
    """
    digest = request.match_info["digest"]
    severity, fixable = _severities(request), _fixable(request)
    sort = request.query.get("sort", "severity")
    if sort not in ("severity", "priority"):
        raise _bad("sort: expected severity or priority")
    limit = _int(request, "limit", 100, 1, 1000)
    offset = _int(request, "cursor", 0, 0, 10**9) if request.query.get("cursor") else 0
    async with request.app[CTX].pool.acquire() as conn:
        if not await image_store.image_exists(conn, digest):
            return web.json_response({"error": "image not found"}, status=404)
        everything = await store.image_findings(conn, digest, kind="vulnerability")
        matched = await store.image_findings(conn, digest, severity=severity, fixable=fixable, kind="vulnerability")
        ranked = await rank_image(conn, digest, everything)
    by_key = {store.finding_key(r.finding): r for r in ranked}
    if sort == "priority":
        matched.sort(key=lambda f: by_key[store.finding_key(f)].priority.rank)
    page = matched[offset:offset + limit]
    more = offset + limit < len(matched)
    return web.json_response({
        "image": digest, "counts": severity_counts(everything), "total": len(matched), "sort": sort,
        "items": [finding_json(f, by_key.get(store.finding_key(f))) for f in page],
        "next_cursor": str(offset + limit) if more else None,
    })


async def findings_by_vulnerability(request: web.Request) -> web.Response:
    """``GET /v1/findings?cve=CVE-…`` (or ``id=`` any GHSA/PYSEC/GO-… id): images having it."""
    vuln_id = (request.query.get("cve") or request.query.get("id") or "").strip()
    if not vuln_id:
        raise _bad("give cve=CVE-... or id=<advisory id>")
    limit = _int(request, "limit", 100, 1, 500)
    async with request.app[CTX].pool.acquire() as conn:
        rows = await store.images_with_vulnerability(conn, vuln_id, limit=limit,
                                                     after=request.query.get("cursor") or None)
    items = [{**r, "findings": [finding_json(f) for f in r["findings"]]} for r in rows]
    return web.json_response({"id": vuln_id, "items": items,
                              "next_cursor": rows[-1]["digest"] if len(rows) == limit else None})
