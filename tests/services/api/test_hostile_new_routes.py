"""Routes this wave added, fed hostile parameters: a clear 4xx naming the problem, and the api still answers."""

from __future__ import annotations

import pytest

from .conftest import call

UNKNOWN = "sha256:" + "f" * 64


@pytest.mark.parametrize("query", ["limit=abc", "limit=1e9", "limit=%00"])
async def test_fleet_priorities_refuses_a_limit_that_is_not_a_number(api, query):
    status, body = await call(api, "GET", f"/v1/priorities?{query}")
    assert status == 400 and "limit" in body["error"]
    status, _ = await call(api, "GET", "/v1/priorities?limit=5")
    assert status == 200


@pytest.mark.parametrize("query", ["limit=-1", "limit=0", "limit=100000"])
async def test_fleet_priorities_clamps_a_limit_out_of_range(api, query):
    status, body = await call(api, "GET", f"/v1/priorities?{query}")
    assert status == 200 and isinstance(body["items"], list)


@pytest.mark.parametrize("route", ["remediation", "malware", "vulnerabilities?sort=priority"])
async def test_image_routes_answer_404_for_an_unknown_image(api, route):
    status, body = await call(api, "GET", f"/v1/images/{UNKNOWN}/{route}")
    assert status == 404 and body["error"] == "image not found"


@pytest.mark.parametrize("route", ["remediation", "malware"])
async def test_image_routes_refuse_a_malformed_digest(api, route):
    status, _ = await call(api, "GET", f"/v1/images/not-a-digest%3Cscript%3E/{route}")
    assert status in (400, 404)
    status, _ = await call(api, "GET", "/healthz")
    assert status == 200
