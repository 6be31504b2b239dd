"""``GET /v1/images``: cursor pages and the severity, fixable, since, repository and tag filters."""

from __future__ import annotations

from .conftest import add_image, call, finding


async def test_cursor_pages_cover_every_image_once(api, pool):
    digests = {await add_image(pool, f"img-{i}", tag=f"v{i}") for i in range(7)}
    seen, cursor, pages = [], None, 0
    while True:
        query = "/v1/images?limit=3" + (f"&cursor={cursor}" if cursor else "")
        status, body = await call(api, "GET", query)
        assert status == 200
        seen += [item["digest"] for item in body["items"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert pages == 3 and len(seen) == 7 and set(seen) == digests and seen == sorted(seen)


async def test_filters(api, pool):
    crit = await add_image(pool, "crit", repository="team/a", tag="1",
                           findings=[finding("CVE-1", "critical"), finding("CVE-2", "low", fixed=False)])
    high = await add_image(pool, "high", repository="team/b", tag="1",
                           findings=[finding("CVE-3", "high", fixed=False)])
    clean = await add_image(pool, "clean", repository="team/b", tag="2")

    async def digests(query: str) -> set[str]:
        status, body = await call(api, "GET", "/v1/images" + query)
        assert status == 200, body
        return {item["digest"] for item in body["items"]}

    assert await digests("") == {crit, high, clean}
    assert await digests("?severity=critical") == {crit}
    assert await digests("?severity=critical,high") == {crit, high}
    assert await digests("?severity=high&severity=low") == {crit, high}
    assert await digests("?fixable=true") == {crit}
    assert await digests("?severity=high&fixable=false") == {high}
    assert await digests("?severity=low&fixable=true") == set()
    assert await digests("?repository=team/b") == {high, clean}
    assert await digests("?repository=reg.example:5000/team/b&tag=2") == {clean}
    assert await digests("?since=2000-01-01T00:00:00Z") == {crit, high, clean}
    assert await digests("?since=2999-01-01T00:00:00%2B00:00") == set()
    assert await digests("?since=2999-01-01") == set()


async def test_bad_filters_are_400(api):
    for query, reason in (("severity=severe", "severity: severe not one of"),
                          ("fixable=maybe", "fixable: expected true or false"),
                          ("since=yesterday", "since: expected an ISO 8601 time"),
                          ("limit=x", "limit")):
        status, body = await call(api, "GET", f"/v1/images?{query}")
        assert status == 400 and reason in body["error"], (query, body)
