"""The dashboard in a real browser (Debian's chromium via Playwright) against a stack fed by real pushes.

One stack for the module (registry, api, fetcher, inventory, secrets, matcher on real NATS and
PostgreSQL; see harness/dashboard.py). The pages are loaded, links followed fleet → image → CVE,
the filters and the search box used, a real dead letter retried, and the image whose names hold
``<script>`` / ``"><img onerror>`` checked inert: no dialog, no injected element, the text shown escaped.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from harness.browser import ensure_chromium, launch
from harness.dashboard import WRITE_TOKEN, XSS_IMG, XSS_SCRIPT, dashboard_stack
from harness.images import tools_missing
from imagewatch.dashboard.headers import CSP
from imagewatch.store import images as image_store
from imagewatch.store.db import connect_pool

playwright_api = pytest.importorskip("playwright.async_api")

_missing_browser = ensure_chromium()
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(bool(tools_missing()), reason=f"missing tools: {tools_missing()}"),
    pytest.mark.skipif(_missing_browser is not None, reason=_missing_browser or ""),
]


@pytest.fixture(scope="module")
def _nats(_nats_provider):
    with _nats_provider.server() as url:
        yield url


@pytest.fixture(scope="module")
async def stack(_nats, _db_factory, tmp_path_factory):
    dsn = await _db_factory.create()
    try:
        async with dashboard_stack(tmp_path_factory.mktemp("dashboard"), _nats, dsn) as running:
            # an attacker-named repository (the registry's grammar refuses it on push; a store may hold
            # any name another webhook source sent), next to the pushed images
            pool = await connect_pool(dsn, 1, 2, migrate=False)
            try:
                async with pool.acquire() as conn:
                    await image_store.record_image(
                        conn, digest=running.digests["xss"], registry="evil.example",
                        repository=f"x/{XSS_SCRIPT}{XSS_IMG}", media_type="application/vnd.oci.image.manifest.v1+json",
                        platform="linux/amd64", config_digest="", config=None, index_digest="", layers=[],
                        tag="latest")
            finally:
                await pool.close()
            yield running
    finally:
        await _db_factory.drop(dsn)


@pytest.fixture(scope="module")
async def browser():
    async with playwright_api.async_playwright() as p:
        b = await launch(p)
        yield b
        await b.close()


@pytest.fixture
async def page(browser):
    context = await browser.new_context(viewport={"width": 1280, "height": 800})
    pg = await context.new_page()
    pg.dialogs = []
    pg.on("dialog", lambda d: (pg.dialogs.append(d.message), d.dismiss()))
    pg.csp_errors = []
    pg.on("console", lambda m: pg.csp_errors.append(m.text) if "Content Security Policy" in m.text else None)
    yield pg
    await context.close()


async def test_fleet_to_image_to_cve(stack, page):
    response = await page.goto(stack.url + "/")
    assert response.status == 200 and response.headers["content-security-policy"] == CSP
    assert await page.title() == "Fleet · imagewatch"
    row = page.locator("table.fleet tbody tr", has_text="team/py:v1")
    await row.wait_for()
    assert await row.locator("td").nth(8).inner_text() in ("complete", "partial")  # notifier ran: no stage left pending
    assert int(await row.locator("td").nth(0).inner_text()) >= 0  # severity counts are numbers with headers
    headers = await page.locator("table.fleet thead th").all_inner_texts()
    assert [h.strip(" ▲▼") for h in headers[:5]] == ["Repository:tag", "Critical", "High", "Medium", "Low"]
    assert await page.locator("svg.chart polyline").count() == 5
    assert "critical:" in await page.locator(".legend").inner_text()

    await row.get_by_role("link").first.click()
    await page.wait_for_url(re.compile(r"/images/sha256:"))
    assert stack.digests["py-v1"] in page.url
    text = await page.locator("main").inner_text()
    assert "CVE-2023-5678" in text and "3.1.4-r0 → 3.1.4-r1" in text
    assert "test layer 1" in text and "test layer 0" in text  # each layer's command from the config history
    fixed = page.locator("table.findings", has=page.locator("caption", has_text="Fixed"))
    assert "CVE-2019-11324" in await fixed.inner_text()  # urllib3 1.24.1 → 1.24.3 fixed it
    assert await page.get_by_role("link", name="SBOM (CycloneDX)").count() == 1

    await page.get_by_role("link", name="CVE-2023-5678").first.click()
    await page.wait_for_url(re.compile(r"/vulnerabilities/CVE-2023-5678"))
    vuln = await page.locator("main").inner_text()
    assert "Exposed:" in vuln and "team/py:v1" in vuln and "team/web:1.0" in vuln and "3.1.4-r1" in vuln
    assert not page.dialogs and not page.csp_errors


async def test_filters_sort_and_search(stack, page):
    await page.goto(stack.url + "/")
    await page.get_by_label("Repository (glob)").fill("team/w*")
    await page.get_by_label("Apply").click() if await page.get_by_label("Apply").count() else \
        await page.get_by_role("button", name="Apply").click()
    await page.wait_for_url(re.compile(r"repo=team%2Fw"))
    rows = await page.locator("table.fleet tbody th").all_inner_texts()
    assert len(rows) == 1 and "team/web:1.0" in rows[0]

    await page.goto(stack.url + "/")
    await page.get_by_label("Has secrets").check()
    await page.get_by_role("button", name="Apply").click()
    await page.wait_for_url(re.compile(r"secrets=1"))
    assert any("team/web:1.0" in r for r in await page.locator("table.fleet tbody th").all_inner_texts())

    await page.goto(stack.url + "/")
    await page.get_by_role("checkbox", name="critical").check()
    await page.get_by_label("Fixable only").check()
    await page.get_by_role("button", name="Apply").click()
    await page.wait_for_url(re.compile(r"fixable=1"))
    assert await page.locator("p.summary").inner_text()

    await page.goto(stack.url + "/")
    await page.get_by_label("Scan state").select_option("failed")
    await page.get_by_role("button", name="Apply").click()
    await page.wait_for_url(re.compile(r"state=failed"))
    states = await page.locator("table.fleet tbody tr td:nth-child(10)").all_inner_texts()
    assert states and set(states) == {"failed"}  # the poison image: its inventory refused the layer
    assert "team/poison:bad" in await page.locator("table.fleet tbody").inner_text()

    await page.get_by_role("link", name="Repository:tag").click()
    await page.wait_for_url(re.compile(r"sort=repository"))
    assert await page.locator("th[aria-sort]").count() == 1

    await page.get_by_label("Search").fill("cve-2019-11324")
    await page.get_by_label("Search").press("Enter")
    await page.wait_for_url(re.compile(r"/vulnerabilities/CVE-2019-11324"))
    assert "team/py" in await page.locator("main").inner_text()

    await page.goto(stack.url + "/")  # keyboard: the first Tab reaches the skip link, then the navigation
    await page.keyboard.press("Tab")
    assert await page.evaluate("document.activeElement.textContent") == "Skip to content"


async def test_retry_a_real_dead_letter(stack, page):
    await page.goto(stack.url + "/pipeline")
    table = page.locator("table.dlq")
    row = table.locator("tbody tr", has_text="team/poison:bad").first
    await row.wait_for()
    assert "refused" in (await row.inner_text()).lower()
    letter = (await row.locator("th").inner_text()).strip()
    stages = await page.locator("table.stages tbody th").all_inner_texts()
    assert {"fetcher", "inventory", "matcher", "secrets"} <= set(stages)

    await row.get_by_label("Write token").fill("not-the-token-0123456789")
    await row.get_by_role("button", name=f"Retry {letter}").click()
    assert "needs the write token" in await page.locator("main").inner_text()

    await page.goto(stack.url + "/pipeline")
    row = page.locator("table.dlq tbody tr", has=page.locator("th", has_text=re.compile(f"^{letter}$")))
    await row.get_by_label("Write token").fill(WRITE_TOKEN)
    await row.get_by_role("button", name=f"Retry {letter}").click()
    await page.wait_for_url(re.compile(rf"/pipeline\?retried={letter}"))
    assert f"Dead letter {letter} re-queued." in await page.locator("p.notice").inner_text()
    assert WRITE_TOKEN not in await page.content()


async def test_hostile_names_render_inert(stack, page):
    await page.goto(f"{stack.url}/images/{stack.digests['xss']}")
    main = page.locator("main")
    text = await main.inner_text()
    assert XSS_SCRIPT in text and XSS_IMG in text  # shown as text
    assert await page.locator("main script, main img, img").count() == 0
    assert await page.evaluate("document.scripts.length") == 0
    await page.goto(stack.url + "/?repo=*script*")
    assert XSS_SCRIPT in await page.locator("table.fleet").inner_text()
    assert await page.locator("img").count() == 0
    await page.goto(stack.url + "/vulnerabilities/" + "%3Cscript%3Ealert(1)%3C%2Fscript%3E")
    assert await page.evaluate("document.scripts.length") == 0
    assert not page.dialogs, page.dialogs
