"""The dashboard's store queries on real PostgreSQL: counts kept by triggers, fleet filters, trend, new."""

from __future__ import annotations

from datetime import timedelta

import pytest

from imagewatch.models import Finding, SecretFinding
from imagewatch.store import dashboard as store
from imagewatch.store import findings as finding_store
from imagewatch.store import secrets as secret_store
from imagewatch.store.db import connect_pool

from services.api.conftest import add_image, finding


@pytest.fixture
async def pool(pg_dsn):
    p = await connect_pool(pg_dsn, 1, 2)
    yield p
    await p.close()


def test_glob_to_like():
    assert store.glob_to_like("team/*") == "team/%"
    assert store.glob_to_like("a?c") == "a_c"
    assert store.glob_to_like("team") == "%team%"
    assert store.glob_to_like("50%_\\") == "%50\\%\\_\\\\%"


async def _counts(conn, digest):
    rows = await conn.fetch("SELECT severity, sum(n) AS n, sum(fixable) AS f FROM finding_counts "
                            "WHERE image_digest = $1 GROUP BY 1", digest)
    return {r["severity"]: (r["n"], r["f"]) for r in rows}


async def test_finding_counts_follow_every_write(pool):
    digest = await add_image(pool, "a", tag="1", findings=[
        finding("CVE-1", "critical"), finding("CVE-2", "critical", fixed=False), finding("CVE-3", "low")])
    async with pool.acquire() as conn:
        assert await _counts(conn, digest) == {"critical": (2, 1), "low": (1, 1)}
        await finding_store.replace_findings(conn, digest, [finding("CVE-3", "low"), finding("CVE-4", "high")])
        assert await _counts(conn, digest) == {"high": (1, 1), "low": (1, 1)}
        await conn.execute("UPDATE findings SET severity = 'medium' WHERE image_digest = $1", digest)
        assert await _counts(conn, digest) == {"medium": (2, 2)}
        await conn.execute("DELETE FROM images WHERE digest = $1", digest)
        assert await _counts(conn, digest) == {}


async def test_fleet_filters_sorts_and_states(pool):
    a = await add_image(pool, "a", repository="team/api", tag="1", findings=[
        finding("CVE-1", "critical", fixed=False), finding("CVE-2", "high")])
    b = await add_image(pool, "b", repository="team/web", tag="2", findings=[finding("CVE-3", "critical")])
    await add_image(pool, "c", repository="ops/db", tag="3", matcher="failed")
    async with pool.acquire() as conn:
        await secret_store.replace_secret_findings(conn, b, [SecretFinding(
            kind="secret", rule_id="r", title="t", severity="high", path="p", fingerprint="x")])

        async def names(flt, **kw):
            rows, total = await store.fleet(conn, flt, limit=kw.get("limit", 50), offset=kw.get("offset", 0),
                                            stall_deadline=30, stages=5)
            return [r["repository"] for r in rows], total

        assert await names(store.FleetFilter()) == (["team/api", "team/web", "ops/db"], 3)
        assert await names(store.FleetFilter(repository="team/*")) == (["team/api", "team/web"], 2)
        assert await names(store.FleetFilter(repository="*/W?B")) == ([], 0)  # LIKE is case-sensitive
        assert await names(store.FleetFilter(severities=("critical",), fixable=True)) == (["team/web"], 1)
        assert await names(store.FleetFilter(severities=("high",))) == (["team/api"], 1)
        assert await names(store.FleetFilter(fixable=True)) == (["team/api", "team/web"], 2)
        assert await names(store.FleetFilter(secrets=True)) == (["team/web"], 1)
        assert await names(store.FleetFilter(state="failed")) == (["ops/db"], 1)
        assert (await names(store.FleetFilter(sort="state", descending=False)))[0][0] == "ops/db"  # failed first
        assert await names(store.FleetFilter(state="nonsense")) == (["team/api", "team/web", "ops/db"], 3)
        assert await names(store.FleetFilter(sort="repository", descending=False)) == (
            ["ops/db", "team/api", "team/web"], 3)
        assert await names(store.FleetFilter(sort="repository", descending=False), limit=1, offset=1) == (
            ["team/api"], 3)
        assert await names(store.FleetFilter(), limit=1, offset=10) == ([], 3)
        rows, _ = await store.fleet(conn, store.FleetFilter(sort="repository"), limit=50, offset=0,
                                    stall_deadline=30, stages=5)
        by = {r["repository"]: r for r in rows}
        assert by["ops/db"]["scan_state"] == "failed" and by["team/api"]["scan_state"] == "pending"
        assert (by["team/api"]["critical"], by["team/api"]["high"], by["team/api"]["fixable"]) == (1, 1, 1)
        assert by["team/web"]["secrets"] == 1 and by["team/web"]["digest"] == b and by["team/api"]["digest"] == a


async def test_trend_follows_the_tag_history(pool):
    old = await add_image(pool, "old", repository="team/app", tag="1", findings=[
        finding("CVE-1", "critical"), finding("CVE-2", "high")])
    async with pool.acquire() as conn:
        today = await conn.fetchval("SELECT current_date")
        await conn.execute("UPDATE tag_history SET since = now() - interval '10 days'")
        await conn.execute("UPDATE findings SET first_seen = now() - interval '10 days'")
        new = await add_image(pool, "new", repository="team/app", tag="1", findings=[finding("CVE-2", "high")])
        await conn.execute("UPDATE tag_history SET since = now() - interval '3 days' WHERE digest = $1", new)
        await conn.execute("UPDATE findings SET first_seen = now() - interval '3 days' WHERE image_digest = $1",
                           new)
        points = await store.trend(conn, 30, today=today)
    assert len(points) == 30 and points[-1][0] == today
    by_day = {day: counts for day, counts in points}
    assert by_day[today - timedelta(days=20)] == {"critical": 0, "high": 0, "medium": 0, "low": 0, "unknown": 0}
    assert by_day[today - timedelta(days=5)] == {"critical": 1, "high": 1, "medium": 0, "low": 0, "unknown": 0}
    assert by_day[today] == {"critical": 0, "high": 1, "medium": 0, "low": 0, "unknown": 0}
    assert old != new


async def test_new_since_yesterday_names_ids_tags_and_severity(pool):
    digest = await add_image(pool, "a", repository="team/app", tag="1", findings=[
        Finding(advisory_id="GHSA-x", ids=["GHSA-x", "CVE-9"], package="p", version="1", ecosystem="PyPI",
                severity="high")])
    async with pool.acquire() as conn:
        await finding_store.record_tag_result(conn, registry="reg.example:5000", repository="team/app", tag="1",
                                              platform="linux/amd64", digest=digest, previous=None,
                                              new_ids=["GHSA-x"], fixed_ids=[])
        new, total = await store.new_since(conn)
    assert total == 1 and new == [{"id": "GHSA-x", "tags": ["reg.example:5000/team/app:1"], "severity": "high"}]
