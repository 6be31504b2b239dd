"""The dashboard's queries: the fleet table, the trend of open findings, what is new, the pipeline.

Every filter value is a bind parameter; sort columns come from a fixed table
(:data:`FLEET_SORTS`), never from the request.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import asyncpg

SEVERITIES = ("critical", "high", "medium", "low")
TREND_SEVERITIES = (*SEVERITIES, "unknown")
"""The trend also draws findings no source rated, so an unrated fleet does not look clean."""

SCAN_STATES = ("failed", "stalled", "running", "pending", "partial", "complete")

FLEET_SORTS: dict[str, str] = {
    "repository": "registry {d}, repository {d}, tag {d}, platform {d}",
    "critical": "critical {d}, high {d}, medium {d}, low {d}, registry, repository, tag, platform",
    "high": "high {d}, critical {d}, registry, repository, tag, platform",
    "medium": "medium {d}, registry, repository, tag, platform",
    "low": "low {d}, registry, repository, tag, platform",
    "fixable": "fixable {d}, critical {d}, registry, repository, tag, platform",
    "secrets": "secrets {d}, registry, repository, tag, platform",
    "misconfigurations": "misconfigurations {d}, registry, repository, tag, platform",
    "pushed": "updated_at {d}, registry, repository, tag, platform",
    "state": "scan_state {d}, registry, repository, tag, platform",
}
"""Sort key → ORDER BY clause (``{d}`` is ASC or DESC); ties broken by name so pages are stable."""


@dataclass(frozen=True)
class FleetFilter:
    """What the fleet table shows: a repository glob, severities, fixable only, with secrets only,
    one scan state (:data:`SCAN_STATES`)."""

    repository: str = ""
    severities: tuple[str, ...] = ()
    fixable: bool = False
    secrets: bool = False
    sort: str = "critical"
    descending: bool = True
    state: str = ""


def glob_to_like(pattern: str) -> str:
    """A shell glob (``*``, ``?``) as a LIKE pattern; ``%``, ``_`` and ``\\`` match themselves.

    A pattern without a wildcard matches as a substring.
    """
    out = []
    for ch in pattern:
        if ch in "%_\\":
            out.append("\\" + ch)
        elif ch == "*":
            out.append("%")
        elif ch == "?":
            out.append("_")
        else:
            out.append(ch)
    like = "".join(out)
    return like if ("*" in pattern or "?" in pattern) else f"%{like}%"


_COUNTS = """
WITH cur AS (
    SELECT t.registry, t.repository, t.tag, t.platform, t.digest, t.updated_at
    FROM image_tags t
    WHERE $1::text IS NULL OR t.repository LIKE $1 OR (t.registry || '/' || t.repository) LIKE $1
), f AS (
    SELECT image_digest,
           sum(n) FILTER (WHERE severity = 'critical') AS critical,
           sum(n) FILTER (WHERE severity = 'high') AS high,
           sum(n) FILTER (WHERE severity = 'medium') AS medium,
           sum(n) FILTER (WHERE severity = 'low') AS low,
           sum(fixable) FILTER (WHERE severity = 'critical') AS critical_fix,
           sum(fixable) FILTER (WHERE severity = 'high') AS high_fix,
           sum(fixable) FILTER (WHERE severity = 'medium') AS medium_fix,
           sum(fixable) FILTER (WHERE severity = 'low') AS low_fix,
           sum(fixable) AS fixable, sum(n) AS total
    FROM finding_counts WHERE image_digest IN (SELECT digest FROM cur) GROUP BY image_digest
), s AS (
    SELECT image_digest, count(*) FILTER (WHERE kind = 'secret') AS secrets,
           count(*) FILTER (WHERE kind = 'misconfiguration') AS misconfigurations
    FROM secret_findings WHERE image_digest IN (SELECT digest FROM cur) GROUP BY image_digest
), counted AS (
    SELECT cur.*,
           coalesce(f.critical, 0) AS critical, coalesce(f.high, 0) AS high,
           coalesce(f.medium, 0) AS medium, coalesce(f.low, 0) AS low,
           coalesce(f.critical_fix, 0) AS critical_fix, coalesce(f.high_fix, 0) AS high_fix,
           coalesce(f.medium_fix, 0) AS medium_fix, coalesce(f.low_fix, 0) AS low_fix,
           coalesce(f.fixable, 0) AS fixable, coalesce(f.total, 0) AS total,
           coalesce(s.secrets, 0) AS secrets, coalesce(s.misconfigurations, 0) AS misconfigurations
    FROM cur LEFT JOIN f ON f.image_digest = cur.digest LEFT JOIN s ON s.image_digest = cur.digest
)"""

_STAGES = """, st AS (
    SELECT image_digest, count(*) AS n, bool_or(state = 'failed') AS failed,
           bool_or(state = 'running' AND coalesce(heartbeat_at, started_at, updated_at)
                   < now() - make_interval(secs => $2)) AS stalled,
           bool_or(state = 'running') AS running, bool_or(state = 'pending') AS pending,
           bool_or(cardinality(problems) > 0) AS partial
    FROM scan_stages WHERE image_digest IN (SELECT digest FROM {scope}) GROUP BY image_digest
)"""

_STATE = """CASE WHEN st.failed THEN 'failed' WHEN st.stalled THEN 'stalled' WHEN st.running THEN 'running'
                WHEN st.n IS NULL OR st.n < $3 OR st.pending THEN 'pending'
                WHEN st.partial THEN 'partial' ELSE 'complete' END"""

_FLEET = (_COUNTS + _STAGES.format(scope="cur") + """, rows AS (
    SELECT counted.*, """ + _STATE + """ AS scan_state
    FROM counted LEFT JOIN st ON st.image_digest = counted.digest
)
SELECT *, count(*) OVER () AS total_rows FROM rows
WHERE {where} AND ($6::text IS NULL OR scan_state = $6)
ORDER BY {order}
LIMIT $4 OFFSET $5
""")
"""Every row's scan state computed before paging: for a state filter or the sort by state."""

_FLEET_PAGED = (_COUNTS + """, page AS (
    SELECT *, count(*) OVER () AS total_rows FROM counted WHERE {where} ORDER BY {order} LIMIT $4 OFFSET $5
)""" + _STAGES.format(scope="page") + """
SELECT page.*, """ + _STATE + """ AS scan_state
FROM page LEFT JOIN st ON st.image_digest = page.digest
ORDER BY {order}
""")
"""Paged on the counts first; the scan state only for the page's rows (the usual case)."""


async def fleet(conn: asyncpg.Connection, flt: FleetFilter, *, limit: int, offset: int,
                stall_deadline: float, stages: int) -> tuple[list[dict[str, Any]], int]:
    """One page of the fleet (every current repository:tag per platform) and the number of matching rows.

    Each row: registry, repository, tag, platform, digest, updated_at (last
    push), counts per severity and fixable, secrets, misconfigurations and
    ``scan_state`` (failed, stalled, running, pending, partial, complete; a
    stage without a row counts as pending, like ``images.scan_status``).
    """
    where = ["TRUE"]
    severities = [s for s in flt.severities if s in SEVERITIES]
    if severities:
        suffix = "_fix" if flt.fixable else ""
        where.append("(" + " OR ".join(f"{s}{suffix} > 0" for s in severities) + ")")
    elif flt.fixable:
        where.append("fixable > 0")
    if flt.secrets:
        where.append("secrets > 0")
    order = FLEET_SORTS.get(flt.sort, FLEET_SORTS["critical"]).format(d="DESC" if flt.descending else "ASC")
    like = glob_to_like(flt.repository) if flt.repository else None
    state = flt.state if flt.state in SCAN_STATES else None
    if state or flt.sort == "state":
        sql = _FLEET.format(where=" AND ".join(where), order=order)
        extra: tuple = (state,)
    else:
        sql = _FLEET_PAGED.format(where=" AND ".join(where), order=order)
        extra = ()
    rows = await conn.fetch(sql, like, float(stall_deadline), stages, limit, offset, *extra)
    if not rows and offset:  # past the last page: still tell how many there are
        first = await conn.fetch(sql, like, float(stall_deadline), stages, 1, 0, *extra)
        return [], first[0]["total_rows"] if first else 0
    return [dict(r) for r in rows], rows[0]["total_rows"] if rows else 0


async def trend(conn: asyncpg.Connection, days: int, today: date | None = None) -> list[tuple[date, dict[str, int]]]:
    """Open findings of the fleet per day for the last ``days`` days (oldest first), by severity.

    A day counts, for every tag, the findings of the image the tag pointed at
    by the end of that day (``tag_history``) that existed by then
    (``findings.first_seen``, counted per day in ``finding_counts``). Computed as +n / -n events per tag interval and
    finding day, summed up day by day.
    """
    today = today or await conn.fetchval("SELECT current_date")
    start = today - timedelta(days=days - 1)
    rows = await conn.fetch(
        """WITH hist AS (
               SELECT digest, since::date AS a,
                      (lead(since) OVER (PARTITION BY registry, repository, tag, platform ORDER BY since))::date AS b
               FROM tag_history
           ), iv AS (
               SELECT digest, greatest(a, $1::date) AS a, b FROM hist WHERE (b IS NULL OR b > $1::date) AND a <= $2::date
                 AND (b IS NULL OR b > a)
           ), fb AS (
               SELECT image_digest, severity, day AS fd, n FROM finding_counts
               WHERE image_digest IN (SELECT digest FROM iv) AND severity = ANY($3::text[])
           ), pairs AS (
               SELECT greatest(iv.a, fb.fd) AS day, iv.b, fb.severity, fb.n
               FROM iv JOIN fb ON fb.image_digest = iv.digest
               WHERE iv.b IS NULL OR greatest(iv.a, fb.fd) < iv.b
           )
           SELECT day, severity, sum(delta)::bigint AS delta FROM (
               SELECT day, severity, n AS delta FROM pairs
               UNION ALL
               SELECT b, severity, -n FROM pairs WHERE b IS NOT NULL
           ) ev WHERE day <= $2::date GROUP BY 1, 2""",
        start, today, list(TREND_SEVERITIES))
    deltas: dict[date, dict[str, int]] = {}
    for r in rows:
        deltas.setdefault(max(r["day"], start), {}).setdefault(r["severity"], 0)
        deltas[max(r["day"], start)][r["severity"]] += r["delta"]
    running = {s: 0 for s in TREND_SEVERITIES}
    out = []
    for i in range(days):
        day = start + timedelta(days=i)
        for sev, n in deltas.get(day, {}).items():
            running[sev] += n
        out.append((day, dict(running)))
    return out


async def new_since(conn: asyncpg.Connection, hours: float = 24, limit: int = 20) -> tuple[list[dict[str, Any]], int]:
    """Vulnerabilities the matcher reported new in the last ``hours`` (push diffs and re-matches).

    Each: id, highest severity among the current images having it, and the
    tags it is new on. Also the number of distinct ids.
    """
    rows = await conn.fetch(
        """WITH x AS (
               SELECT unnest(new_ids) AS id, registry, repository, tag, digest FROM tag_results
               WHERE computed_at >= now() - make_interval(secs => $1)
               UNION
               SELECT unnest(m.new_ids), t.registry, t.repository, t.tag, t.digest
               FROM matcher_rematches m JOIN image_tags t ON t.digest = m.image_digest
               WHERE m.matched_at >= now() - make_interval(secs => $1)
           ), g AS (
               SELECT id, array_agg(DISTINCT registry || '/' || repository || ':' || tag) AS tags,
                      array_agg(DISTINCT digest) AS digests, count(*) OVER () AS total
               FROM x GROUP BY id ORDER BY count(DISTINCT (registry, repository, tag)) DESC, id LIMIT $2
           )
           SELECT g.id, g.tags, g.total,
                  (SELECT f.severity FROM findings f WHERE f.image_digest = ANY(g.digests) AND g.id = ANY(f.ids)
                   ORDER BY CASE f.severity WHEN 'critical' THEN 5 WHEN 'high' THEN 4 WHEN 'medium' THEN 3
                                            WHEN 'low' THEN 2 WHEN 'info' THEN 1 ELSE 0 END DESC LIMIT 1) AS severity
           FROM g ORDER BY cardinality(g.tags) DESC, g.id""",
        float(hours) * 3600, limit)
    total = rows[0]["total"] if rows else 0
    return [{"id": r["id"], "tags": sorted(r["tags"]), "severity": r["severity"] or "unknown"} for r in rows], total


async def tag_diffs(conn: asyncpg.Connection, digest: str) -> list[dict[str, Any]]:
    """The matcher's diff of every tag whose latest push was ``digest``: previous image, new and fixed ids."""
    rows = await conn.fetch(
        """SELECT registry, repository, tag, platform, previous, new_ids, fixed_ids, computed_at
           FROM tag_results WHERE digest = $1 ORDER BY registry, repository, tag, platform""", digest)
    return [dict(r) for r in rows]


async def platform_images(conn: asyncpg.Connection, index_digest: str) -> list[dict[str, Any]]:
    """The platform images of one index (multi-platform push), by platform."""
    if not index_digest:
        return []
    rows = await conn.fetch("SELECT digest, platform FROM images WHERE index_digest = $1 ORDER BY platform, digest",
                            index_digest)
    return [dict(r) for r in rows]


async def advisory_ids_for(conn: asyncpg.Connection, vuln_id: str) -> list[str]:
    """Stored advisories known under ``vuln_id``: itself, or those naming it as an alias or upstream id."""
    rows = await conn.fetch(
        """SELECT id FROM advisories WHERE id = $1
           UNION SELECT advisory_id FROM advisory_severities WHERE vuln_id = $1
           ORDER BY 1 LIMIT 50""", vuln_id)
    return [r["id"] for r in rows]


async def stage_stats(conn: asyncpg.Connection, window_minutes: int = 15,
                      stall_deadline: float = 30.0) -> dict[str, dict[str, Any]]:
    """Per stage from ``scan_stages``: running, stalled, failed, done in the last ``window_minutes``,
    and p50/p95 stage seconds over the last 24 h."""
    rows = await conn.fetch(
        """SELECT stage,
                  count(*) FILTER (WHERE state = 'running'
                                     AND coalesce(heartbeat_at, started_at, updated_at)
                                         >= now() - make_interval(secs => $2)) AS running,
                  count(*) FILTER (WHERE state = 'running'
                                     AND coalesce(heartbeat_at, started_at, updated_at)
                                         < now() - make_interval(secs => $2)) AS stalled,
                  count(*) FILTER (WHERE state = 'failed') AS failed,
                  count(*) FILTER (WHERE state = 'done'
                                     AND finished_at >= now() - make_interval(mins => $1)) AS recent,
                  percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM finished_at - started_at))
                    FILTER (WHERE state = 'done' AND finished_at >= now() - interval '1 day') AS p50,
                  percentile_cont(0.95) WITHIN GROUP (ORDER BY extract(epoch FROM finished_at - started_at))
                    FILTER (WHERE state = 'done' AND finished_at >= now() - interval '1 day') AS p95
           FROM scan_stages WHERE started_at IS NOT NULL OR state <> 'pending' GROUP BY stage""",
        window_minutes, float(stall_deadline))
    return {r["stage"]: {"running": r["running"], "stalled": r["stalled"], "failed": r["failed"],
                         "per_minute": r["recent"] / window_minutes,
                         "p50": r["p50"], "p95": r["p95"]} for r in rows}


async def scan_failures(conn: asyncpg.Connection, limit: int = 20) -> list[dict[str, Any]]:
    """The latest failures before an image was known (unknown tag, refused credentials)."""
    rows = await conn.fetch(
        "SELECT reference, stage, reason, failed_at FROM scan_failures ORDER BY id DESC LIMIT $1", limit)
    return [dict(r) for r in rows]
