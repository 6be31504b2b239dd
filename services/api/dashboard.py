"""The dashboard's pages: fleet, image, vulnerability, pipeline, search and downloads.

Server-rendered HTML (``imagewatch.dashboard``), the same store queries as the
read API, no script. Access and CSRF are ``dashboard_auth``'s.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections import Counter
from datetime import datetime
from importlib import resources
from math import ceil
from urllib.parse import quote, urlencode

import msgspec
from aiohttp import web

from imagewatch.advisories.model import Affected
from imagewatch.cli.services import SERVICES
from imagewatch.dashboard.chart import trend_chart
from imagewatch.dashboard.views import diff_rows, layers_of, severity_rank
from imagewatch.messages import SUBJECT_TYPES
from imagewatch.models import OSInfo
from imagewatch.runtime import presence as presence_bucket
from imagewatch.report import ScanResult, render as render_report
from imagewatch.store import advisories as advisory_store
from imagewatch.store import dashboard as store
from imagewatch.store import findings as finding_store
from imagewatch.store import images as image_store
from imagewatch.store import metrics as metrics_store
from imagewatch.store import outbox as outbox_store
from imagewatch.store import packages as package_store
from imagewatch.store import secrets as secret_store

from imagewatch_services.api import dlq
from imagewatch_services.api.dashboard_auth import GATE, SESSION, csrf_ok, error_page, page
from imagewatch_services.api.keys import CTX
from imagewatch_services.api.packages import sbom_document

class TrendCache:
    """The trend per number of days, kept ``ttl`` seconds: it moves by the day, the fleet table by the push."""

    def __init__(self, ttl: float = 60.0) -> None:
        self.ttl = ttl
        self._kept: dict[int, tuple[float, list]] = {}
        self._lock = asyncio.Lock()

    async def get(self, pool, days: int) -> list:
        """The trend of ``days`` days, from the cache while fresh."""
        async with self._lock:
            kept = self._kept.get(days)
            if kept is not None and time.monotonic() - kept[0] < self.ttl:
                return kept[1]
            async with pool.acquire() as conn:
                points = await store.trend(conn, days)
            self._kept[days] = (time.monotonic(), points)
            return points


TRENDS = web.AppKey("dashboard_trends", TrendCache)
MAX_QUERY = 200
MAX_PAGE = 10_000
TREND_DAYS = (30, 90)
VULN_PREFIXES = ("CVE", "GHSA", "PYSEC", "GO", "RUSTSEC", "OSV", "DSA", "DLA", "DTSA", "USN", "ALSA", "ALBA",
                 "ALEA", "RHSA", "RHBA", "RHEA", "MAL", "GSD", "BIT", "DEBIAN", "UBUNTU", "ALPINE", "SUSE",
                 "OPENSUSE", "CGA", "RLSA", "MGASA", "HSEC", "ELSA", "PSF", "CURL", "EEF", "R", "RSEC")
_VULN_ID = re.compile(r"^(?P<prefix>[A-Za-z]{1,10})-[A-Za-z0-9][A-Za-z0-9._:-]{1,80}$")
_DIGEST = re.compile(r"^sha(256|512):[0-9a-f]{32,128}$")
FLEET_COLUMNS = (("repository", "Repository:tag"), ("critical", "Critical"), ("high", "High"),
                 ("medium", "Medium"), ("low", "Low"), ("fixable", "Fixable"), ("secrets", "Secrets"),
                 ("misconfigurations", "Misconfigurations"), ("pushed", "Last push"), ("state", "Scan state"))


def clean(text: str) -> str:
    """A query value without control characters (PostgreSQL text holds no NUL), at most MAX_QUERY long."""
    return "".join(ch for ch in text if ch >= " " and ch != "\x7f").strip()[:MAX_QUERY]


def _flag(request: web.Request, name: str) -> bool:
    return request.query.get(name, "").lower() in ("1", "true", "yes", "on")


def _int(request: web.Request, name: str, default: int, low: int, high: int) -> int:
    try:
        return max(low, min(high, int(request.query.get(name, default))))
    except ValueError:
        return default


def fleet_filter(request: web.Request) -> store.FleetFilter:
    """The fleet filter from the query string; unknown values fall back to the defaults."""
    sort = request.query.get("sort", "critical")
    sort = sort if sort in store.FLEET_SORTS else "critical"
    severities = tuple(s for s in (v.lower() for v in request.query.getall("severity", []))
                       if s in store.SEVERITIES)
    direction = request.query.get("dir", "asc" if sort == "repository" else "desc")
    return store.FleetFilter(repository=clean(request.query.get("repo", "")),
                             severities=tuple(dict.fromkeys(severities)), fixable=_flag(request, "fixable"),
                             secrets=_flag(request, "secrets"), sort=sort, descending=direction != "asc",
                             state=request.query.get("state", "") if request.query.get("state") in store.SCAN_STATES
                             else "")


def _params(flt: store.FleetFilter, days: int, page_no: int) -> list[tuple[str, str]]:
    params = [("sort", flt.sort), ("dir", "desc" if flt.descending else "asc")]
    if flt.repository:
        params.append(("repo", flt.repository))
    params += [("severity", s) for s in flt.severities]
    if flt.fixable:
        params.append(("fixable", "1"))
    if flt.secrets:
        params.append(("secrets", "1"))
    if flt.state:
        params.append(("state", flt.state))
    if days != TREND_DAYS[0]:
        params.append(("days", str(days)))
    if page_no > 1:
        params.append(("page", str(page_no)))
    return params


async def fleet(request: web.Request) -> web.Response:
    """``GET /``: every repository:tag with its current image, filtered, sorted and paginated,
    the trend of open findings and what is new since yesterday."""
    ctx = request.app[CTX]
    flt = fleet_filter(request)
    days = _int(request, "days", TREND_DAYS[0], 1, 366)
    days = days if days in TREND_DAYS else TREND_DAYS[0]
    page_no = _int(request, "page", 1, 1, MAX_PAGE)
    size = max(1, ctx.config.dashboard.page_size)
    async def rows_page():
        async with ctx.pool.acquire() as conn:
            return await store.fleet(conn, flt, limit=size, offset=(page_no - 1) * size,
                                     stall_deadline=ctx.config.bus.stall_deadline, stages=len(image_store.STAGES))

    async def recent():
        async with ctx.pool.acquire() as conn:
            return await store.new_since(conn)

    (rows, total), points, (new, new_total) = await asyncio.gather(
        rows_page(), request.app[TRENDS].get(ctx.pool, days), recent())

    def link(**changes) -> str:
        merged = {"days": days, "page": page_no} | changes
        return "/?" + urlencode(_params(flt, merged["days"], merged["page"]))

    def sort_link(key: str) -> str:
        descending = (not flt.descending) if key == flt.sort else key != "repository"
        other = store.FleetFilter(flt.repository, flt.severities, flt.fixable, flt.secrets, key, descending,
                                  flt.state)
        return "/?" + urlencode(_params(other, days, 1))

    return page(request, "fleet.html", page="fleet", rows=rows, total=total, page_no=page_no,
                pages=max(1, ceil(total / size)), flt=flt, days=days, chart=trend_chart(points), new=new,
                new_total=new_total, link=link, sort_link=sort_link, columns=FLEET_COLUMNS,
                severities=store.SEVERITIES, states=store.SCAN_STATES, query=flt.repository)


def _name(image: dict) -> str:
    if image["tags"]:
        t = image["tags"][0]
        return f"{t['registry']}/{t['repository']}:{t['tag']}"
    repo = image["repositories"][0] if image["repositories"] else ""
    return f"{repo}@{image['digest']}" if repo else image["digest"]


def _os_name(os: dict | None) -> str:
    if not os:
        return ""
    info = msgspec.convert(os, OSInfo)
    return info.pretty_name or f"{info.id} {info.version_id}".strip()


async def image(request: web.Request) -> web.Response:
    """``GET /images/{digest}``: tags, platform, layers and what each brought, vulnerabilities,
    secrets (preview only), the diff against the previous image of each tag, downloads."""
    ctx = request.app[CTX]
    digest = request.match_info["digest"]
    if not _DIGEST.match(digest):
        return error_page(request, 404, "Image not found", "That is not an image digest.")
    async with ctx.pool.acquire() as conn:
        found = await image_store.get_image(conn, digest, ctx.config.bus.stall_deadline)
        if found is None:
            return error_page(request, 404, "Image not found", "No stored image has that digest.")
        packages = await package_store.image_packages(conn, digest)
        findings = await finding_store.image_findings(conn, digest)
        secrets = await secret_store.image_secrets(conn, digest)
        platforms = await store.platform_images(conn, found["index_digest"] or "")
        diffs = []
        for d in await store.tag_diffs(conn, digest):
            previous = await finding_store.image_findings(conn, d["previous"]) if d["previous"] else []
            diffs.append({"name": f"{d['registry']}/{d['repository']}:{d['tag']}", "previous": d["previous"],
                          "new": diff_rows(findings, d["new_ids"]), "fixed": diff_rows(previous, d["fixed_ids"])})
    vulns = findings  # known-malicious packages (MAL- ids) are listed with the vulnerabilities
    counts = Counter(f.severity for f in vulns)
    return page(request, "image.html", page="image", image=found, name=_name(found), os_name=_os_name(found["os"]),
                layers=layers_of(found, packages, findings, secrets), vulns=vulns, counts=counts,
                fixable=sum(1 for f in vulns if f.fixed_versions), severities=store.SEVERITIES,
                secrets=[s for s in secrets if s.kind == "secret"],
                misconfigs=[s for s in secrets if s.kind == "misconfiguration"],
                malware=[s for s in secrets if s.kind == "malware"],
                diffs=diffs, platforms=platforms)


def fixed_of(affected: Affected) -> list[str]:
    """Every ``fixed`` version of an affected entry's ranges."""
    return list(dict.fromkeys(e.fixed for r in affected.ranges for e in r.events if e.fixed))


async def vulnerability(request: web.Request) -> web.Response:
    """``GET /vulnerabilities/{id}``: the advisory (summary, references, severity, aliases),
    every image and tag having it, and the fixed versions."""
    vuln_id = clean(request.match_info["id"])
    if not vuln_id:
        return error_page(request, 404, "Not found", "Give a vulnerability id.")
    if vuln_id.upper().startswith("CVE-"):
        vuln_id = vuln_id.upper()
    async with request.app[CTX].pool.acquire() as conn:
        ids = await store.advisory_ids_for(conn, vuln_id)
        images = await finding_store.images_with_vulnerability(conn, vuln_id, limit=500)
        ids += sorted({f.advisory_id for img in images for f in img["findings"]} - set(ids))
        advisories = await advisory_store.get_advisories(conn, ids[:50])
    ratings: dict[str, str] = {}
    for img in images:
        for f in img["findings"]:
            if severity_rank(f.severity) >= severity_rank(ratings.get(f.advisory_id, "unknown")):
                ratings[f.advisory_id] = f.severity
    fixed = sorted({v for img in images for f in img["findings"] for v in f.fixed_versions})
    rated = max((f for img in images for f in img["findings"]), key=lambda f: severity_rank(f.severity), default=None)
    ordered = [advisories[i] for i in ids if i in advisories]
    return page(request, "vulnerability.html", page="vulnerability", vuln_id=vuln_id, advisories=ordered,
                images=images, truncated=len(images) == 500, ratings=ratings, fixed_versions=fixed, rated=rated,
                tag_count=len({t for img in images for t in img["tags"]}), fixed_of=fixed_of, query=vuln_id)


def _summary(letter: dict) -> str:
    message = letter.get("message") or {}
    if message.get("repository"):
        return f"{message.get('registry', '')}/{message['repository']}:{message.get('tag', '')}".lstrip("/")
    digest = message.get("image_digest") or message.get("digest") or ""
    return digest[:19] if digest else "(unreadable)" if letter["subject"] in SUBJECT_TYPES else ""


async def pipeline(request: web.Request) -> web.Response:
    """``GET /pipeline``: per stage backlog, rate, p50/p95 and live replicas; dead letters with
    retry buttons; failed notifications; advisory sources; early failures."""
    ctx = request.app[CTX]
    backlog: dict[str, dict[str, int]] = {}
    bus_error, letters = "", []
    try:
        for b in await ctx.bus.backlogs():
            stage, _, subject = b.consumer.partition("-")
            if not subject.startswith("iw_"):  # an ordered (ephemeral) consumer, not a stage's durable one
                continue
            agg = backlog.setdefault(stage, {"pending": 0, "ack_pending": 0, "waiting": 0})
            agg["pending"] += b.pending
            agg["ack_pending"] += b.ack_pending
            agg["waiting"] = max(agg["waiting"], b.waiting)
        letters = [dlq.describe(seq, letter) for seq, letter in await ctx.bus.dead_letters(limit=200)]
    except Exception as exc:  # noqa: BLE001 - the page still shows what PostgreSQL knows
        bus_error = type(exc).__name__
    for letter in letters:
        letter["what"] = _summary(letter)
    processes: dict[str, list[str]] | None = {}
    try:
        for p in await presence_bucket.live(ctx.bus.js):
            processes.setdefault(p.service, []).append(p.name)
    except Exception:  # noqa: BLE001 - the approximation from waiting pulls stands in, and the page says so
        processes = None
    async with ctx.pool.acquire() as conn:
        stats = await store.stage_stats(conn, stall_deadline=ctx.config.bus.stall_deadline)
        failed = await outbox_store.list_outbox(conn, state="failed", limit=50)
        pending, _ = await metrics_store.outbox_backlog(conn)
        sources = await advisory_store.source_status(conn)
        failures = await store.scan_failures(conn)
    announced = [n for n in SERVICES if n in (processes or {})]
    names = list(dict.fromkeys([*image_store.STAGES, *sorted(backlog), *sorted(stats), *announced]))
    stages = []
    for name in names:
        s = stats.get(name, {"running": 0, "stalled": 0, "failed": 0, "per_minute": 0.0, "p50": None, "p95": None})
        b = backlog.get(name, {})
        stages.append({"name": name, **s, "pending": b.get("pending"), "ack_pending": b.get("ack_pending"),
                       "waiting": b.get("waiting"),
                       "replicas": None if processes is None else processes.get(name, [])})
    retried, missing = request.query.get("retried", ""), request.query.get("retry_failed", "")
    notice = f"Dead letter {retried} re-queued." if retried.isdigit() else ""
    problem = f"Dead letter {missing} could not be re-queued (gone or unreadable)." if missing.isdigit() else ""
    refresh = 30 if request.query.get("refresh") else 0
    return page(request, "pipeline.html", page="pipeline", stages=stages, letters=letters, bus_error=bus_error,
                failed_notifications=failed, outbox_pending=pending, sources=sources, failures=failures,
                notice=notice, problem=problem, refresh=refresh, presence_unreadable=processes is None,
                presence_interval=ctx.config.bus.presence_interval)


async def retry(request: web.Request) -> web.StreamResponse:
    """``POST /pipeline/dead-letters/{id}/retry``: CSRF token and the write token (session or form) needed."""
    form = await request.post()
    if not csrf_ok(request, form):
        return error_page(request, 403, "Refused", "The form expired or did not come from this dashboard.")
    given = str(form.get("write_token", ""))[:512]
    if not (request[SESSION].can_write or (given and request.app[GATE].is_write_token(given))):
        return error_page(request, 403, "Refused", "Retrying a dead letter needs the write token.")
    raw = request.match_info["id"]
    try:
        done = await dlq.requeue(request.app[CTX].bus, raw)
    except dlq.RequeueRefused:
        return web.HTTPSeeOther(f"/pipeline?retry_failed={quote(raw if raw.isdigit() else '0')}")
    return web.HTTPSeeOther(f"/pipeline?retried={done['id']}")


async def search(request: web.Request) -> web.StreamResponse:
    """``GET /search?q=``: a vulnerability id goes to its page, a digest to its image, anything else
    filters the fleet by repository."""
    q = clean(request.query.get("q", ""))
    if not q:
        return web.HTTPSeeOther("/")
    if _DIGEST.match(q):
        return web.HTTPSeeOther(f"/images/{quote(q, safe=':')}")
    m = _VULN_ID.match(q)
    if m and m.group("prefix").upper() in VULN_PREFIXES and any(c.isdigit() for c in q):
        prefix = m.group("prefix").upper()
        vuln = q.upper() if prefix == "CVE" else "GHSA-" + q[5:].lower() if prefix == "GHSA" else q
        return web.HTTPSeeOther(f"/vulnerabilities/{quote(vuln, safe='')}")
    return web.HTTPSeeOther("/?" + urlencode({"repo": q}))


def _attachment(body: bytes, content_type: str, filename: str) -> web.Response:
    return web.Response(body=body, headers={"Content-Type": content_type,
                                            "Content-Disposition": f'attachment; filename="{filename}"'})


async def download(request: web.Request) -> web.Response:
    """``GET /images/{digest}/sbom.cdx.json|sbom.spdx.json|report.json``: the SBOMs of
    ``/v1/images/{digest}/sbom`` and the JSON report of ``imagewatch scan --format json``."""
    ctx = request.app[CTX]
    digest, name = request.match_info["digest"], request.match_info["file"]
    if not _DIGEST.match(digest):
        return error_page(request, 404, "Image not found", "That is not an image digest.")
    short = digest.partition(":")[2][:12]
    async with ctx.pool.acquire() as conn:
        if name in ("sbom.cdx.json", "sbom.spdx.json"):
            fmt = "cyclonedx" if name == "sbom.cdx.json" else "spdx"
            body = await sbom_document(conn, digest, fmt)
            if body is None:
                return error_page(request, 404, "Image not found", "No stored image has that digest.")
            kind = "application/vnd.cyclonedx+json" if fmt == "cyclonedx" else "application/spdx+json"
            return _attachment(body, kind, f"{short}.{name}")
        if name != "report.json":
            return error_page(request, 404, "Not found", "No such download.")
        found = await image_store.get_image(conn, digest, ctx.config.bus.stall_deadline)
        if found is None:
            return error_page(request, 404, "Image not found", "No stored image has that digest.")
        result = ScanResult(
            reference=_name(found), digest=digest, platform=found["platform"],
            os=msgspec.convert(found["os"], OSInfo) if found["os"] else None,
            packages=await package_store.image_packages(conn, digest),
            findings=await finding_store.image_findings(conn, digest),
            secrets=await secret_store.image_secrets(conn, digest), problems=found["problems"],
            layers=[layer["diff_id"] for layer in found["layers"]],
            **({"created": datetime.fromisoformat(f).replace(microsecond=0)}
               if (f := found["stages"]["matcher"].get("finished_at")) else {}))
    return _attachment(render_report(result, "json"), "application/json", f"{short}.report.json")


_STATIC = {"dashboard.css": "text/css"}


async def static(request: web.Request) -> web.Response:
    """``GET /static/{name}``: the dashboard's own files (a fixed list)."""
    name = request.match_info["name"]
    if name not in _STATIC:
        raise web.HTTPNotFound()
    body = (resources.files("imagewatch.dashboard") / "static" / name).read_bytes()
    return web.Response(body=body, headers={"Content-Type": f"{_STATIC[name]}; charset=utf-8",
                                            "Cache-Control": "max-age=3600"})


ROUTES = [
    web.get("/", fleet),
    web.get("/images/{digest}", image),
    web.get("/images/{digest}/{file}", download),
    web.get("/vulnerabilities/{id}", vulnerability),
    web.get("/pipeline", pipeline),
    web.post("/pipeline/dead-letters/{id}/retry", retry),
    web.get("/search", search),
    web.get("/static/{name}", static),
]
