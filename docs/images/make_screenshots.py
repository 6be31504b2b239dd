"""Regenerate the dashboard screenshots in docs/images/ (PNG, 1280x800).

Starts PostgreSQL and NATS (the test harness's servers), a registry and the
pipeline, pushes the demo images of ``tests/harness/dashboard.py`` for real,
then opens each page in Debian's chromium through Playwright and saves it.
With ``../shared/data`` beside the checkout the findings carry the real CVE
ratings, KEV and EPSS (see the harness's docstring).
Run: .venv/bin/python docs/images/make_screenshots.py
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1] / "tests"))

from harness.browser import ensure_chromium, launch  # noqa: E402
from harness.dashboard import SHARED, dashboard_stack  # noqa: E402
from harness.servers import DatabaseFactory, NatsProvider, postgres_server  # noqa: E402
from playwright.async_api import async_playwright  # noqa: E402

PAGES = (
    ("fleet.png", "/"),
    ("image.png", "/images/{py-v1}"),
    ("vulnerability.png", "/vulnerabilities/{cve}"),
    ("pipeline.png", "/pipeline"),
)

CVE = "CVE-2023-43804"  # urllib3, rated by its CVE record and its GHSA; the demo's own when ../shared is absent


async def _shoot(workdir: Path, nats_url: str, dsn: str) -> None:
    async with dashboard_stack(workdir, nats_url, dsn) as stack, async_playwright() as p:
        browser = await launch(p)
        try:
            page = await (await browser.new_context(viewport={"width": 1280, "height": 800})).new_page()
            for name, path in PAGES:
                for key, digest in stack.digests.items():
                    path = path.replace("{" + key + "}", digest)
                path = path.replace("{cve}", CVE if SHARED.is_dir() else "CVE-2099-0001")
                await page.goto(stack.url + path)
                await page.screenshot(path=str(HERE / name))
                print(f"wrote docs/images/{name}")
        finally:
            await browser.close()


def main() -> int:
    missing = ensure_chromium()
    if missing:
        print(missing)
        return 1
    with tempfile.TemporaryDirectory(prefix="iw-shots-") as tmp, contextlib.ExitStack() as stack:
        workdir = Path(tmp)
        admin = stack.enter_context(postgres_server(workdir))
        nats = NatsProvider(workdir)
        stack.callback(nats.close)
        nats_url = stack.enter_context(nats.server())
        factory = DatabaseFactory(admin)
        dsn = asyncio.run(factory.create())
        asyncio.run(_shoot(workdir, nats_url, dsn))
    return 0


if __name__ == "__main__":
    sys.exit(main())
