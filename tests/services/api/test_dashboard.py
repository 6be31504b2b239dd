"""The dashboard over a real api, NATS and PostgreSQL: pages, escaping, headers, sessions, CSRF."""

from __future__ import annotations

import re
import time

import aiohttp
import pytest
from yarl import URL

from harness.stack import Stack, wait_for
from imagewatch.runtime.bus import Bus
from imagewatch.dashboard.headers import CSP
from imagewatch.messages import SUBJECT_DLQ_PREFIX, SUBJECT_PUSH, DeadLetter, PushEvent, encode
from imagewatch.models import Finding, SecretFinding
from imagewatch.store import secrets as secret_store

from .conftest import add_image, finding

XSS = '<script>alert(1)</script>"><img src=x onerror=alert(2)>'
WRITE = "test-token-0123456789abcdef"
READ = "read-token-0123456789abcdef"


def _csrf(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


async def _get(http: aiohttp.ClientSession, url: str, **kw) -> tuple[int, str, aiohttp.ClientResponse]:
    async with http.get(url, allow_redirects=kw.pop("allow_redirects", True), **kw) as resp:
        return resp.status, await resp.text(), resp


async def test_pages_render_escape_and_carry_security_headers(api, pool):
    digest = await add_image(pool, "app-1", tag="1.0", findings=[
        finding("CVE-2024-0001", "critical"), finding("GHSA-aaaa-bbbb-cccc", "high", fixed=False),
        Finding(advisory_id="PYSEC-1", ids=["PYSEC-1", "CVE-2024-0002"], package=XSS, version="1<b>",
                ecosystem="PyPI", severity="medium", fixed_versions=["2"])])
    await add_image(pool, "xss", repository="team/" + XSS.lower().replace(" ", ""), tag="x",
                    findings=[finding("CVE-2024-0003", "low")])
    async with pool.acquire() as conn:
        await secret_store.replace_secret_findings(conn, digest, [SecretFinding(
            kind="secret", rule_id="aws-access-key", title="AWS key", severity="critical",
            path="etc/" + XSS, line=3, preview="AKIA", fingerprint="f" * 16)])
    async with aiohttp.ClientSession(api.api_url, cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        status, html, resp = await _get(http, "/")
        assert status == 200 and resp.headers["Content-Security-Policy"] == CSP
        assert "frame-ancestors 'none'" in CSP and "script-src 'self'" in CSP and "'unsafe-inline'" not in CSP
        assert resp.headers["X-Content-Type-Options"] == "nosniff"
        assert resp.headers["Referrer-Policy"] == "no-referrer"
        assert "<script" not in html and "<img" not in html
        assert "team/&lt;script&gt;" in html and "app-1" not in html  # names, not test labels
        assert "reg.example:5000/team/app:1.0" in html and "critical" in html
        cookie = resp.cookies["iw_session"]
        assert cookie["httponly"] and cookie["samesite"] == "Strict" and not cookie["secure"]

        status, html, resp = await _get(http, f"/images/{digest}")
        assert status == 200 and resp.headers["Content-Security-Policy"] == CSP
        assert "<script" not in html and "<img" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        assert "CVE-2024-0001" in html and "CVE-2024-0002" in html and "1&lt;b&gt; → 2" in html
        assert "AKIA…" in html and "f" * 16 not in html
        status, html, _ = await _get(http, "/vulnerabilities/cve-2024-0001")
        assert status == 200 and "reg.example:5000/team/app:1.0" in html and "1.1" in html
        status, html, _ = await _get(http, "/vulnerabilities/" + XSS.replace("/", "%2F"))
        assert status == 200 and "<script" not in html
        status, _, resp = await _get(http, "/search?q=cve-2024-0002", allow_redirects=False)
        assert status == 303 and resp.headers["Location"] == "/vulnerabilities/CVE-2024-0002"
        status, _, resp = await _get(http, "/search?q=team/*", allow_redirects=False)
        assert status == 303 and URL(resp.headers["Location"]).query["repo"] == "team/*"
        status, html, _ = await _get(http, "/?repo=team/app&severity=critical&fixable=1")
        assert "1 image tag" in html
        status, html, _ = await _get(http, "/?severity=low&sort=repository&dir=asc")
        assert "1 image tag" in html and "team/&lt;script&gt;" in html
        status, html, _ = await _get(http, "/?secrets=1")
        assert "1 image tag" in html and "reg.example:5000/team/app:1.0" in html
        status, html, _ = await _get(http, "/images/sha256:" + "0" * 64)
        assert status == 404 and resp.headers["Content-Security-Policy"] == CSP
        async with http.get(f"/images/{digest}/sbom.cdx.json") as r:
            assert r.status == 200 and (await r.json())["bomFormat"] == "CycloneDX"
            assert r.headers["Content-Disposition"].startswith("attachment")
        async with http.get(f"/images/{digest}/report.json") as r:
            assert r.status == 200 and "CVE-2024-0001" in await r.text()
        status, html, _ = await _get(http, "/pipeline")
        assert status == 200 and "Dead letters" in html
        for path in ("/", f"/images/{digest}", "/vulnerabilities/CVE-2024-0001", "/pipeline", "/login"):
            _, html, _ = await _get(http, path)
            assert not re.findall(r"<th\b(?!ead)(?![^>]*scope=\"(?:row|col)\")[^>]*>", html), path  # every header scoped
            ids = re.findall(r'<input[^>]*\bid="([^"]+)"', html)
            assert all(f'for="{i}"' in html for i in ids), path  # every text input has its label
            assert "style=" not in html and "<script" not in html and " on" not in re.sub(r">[^<]*<", "><", html)


async def _dead_letter(config) -> None:
    bus = await Bus.connect(config.bus, name="test")
    try:
        event = PushEvent(event_id="ev-1", source="distribution", registry="reg.example:5000",
                          repository="team/app", tag="9.9", digest="sha256:" + "ab" * 32)
        letter = DeadLetter(stage="fetcher", subject=SUBJECT_PUSH, data=encode(event), error="fetcher: boom",
                            deliveries=5, failed_at=time.time(), msg_id="ev-1")
        await bus.publish(SUBJECT_DLQ_PREFIX + "fetcher", letter, "dlq-dash-1")
    finally:
        await bus.close()


async def test_retry_needs_csrf_and_the_write_token(api, config):
    await _dead_letter(config)
    async with aiohttp.ClientSession(api.api_url, cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        status, html, _ = await _get(http, "/pipeline")
        assert "team/app:9.9" in html and "fetcher: boom" in html
        letter = re.search(r'action="/pipeline/dead-letters/(\d+)/retry"', html).group(1)
        csrf = _csrf(html)
        url = f"/pipeline/dead-letters/{letter}/retry"
        async with http.post(url, data={"write_token": WRITE}, allow_redirects=False) as r:
            assert r.status == 403  # no CSRF token
        async with http.post(url, data={"csrf": csrf[:-2] + "xx", "write_token": WRITE}, allow_redirects=False) as r:
            assert r.status == 403
        async with http.post(url, data={"csrf": csrf}, allow_redirects=False) as r:
            assert r.status == 403  # no write token
        async with http.post(url, data={"csrf": csrf, "write_token": READ}, allow_redirects=False) as r:
            assert r.status == 403
        async with http.post(url, data={"csrf": csrf, "write_token": WRITE}, allow_redirects=False) as r:
            assert r.status == 303 and r.headers["Location"] == f"/pipeline?retried={letter}"
        status, html, _ = await _get(http, f"/pipeline?retried={letter}")
        assert f"Dead letter {letter} re-queued." in html and "No dead letters." in html
        assert WRITE not in html
    async with aiohttp.ClientSession(api.api_url, cookie_jar=aiohttp.CookieJar(unsafe=True)) as other:  # a CSRF token of another session is refused
        async with other.post(url, data={"csrf": csrf, "write_token": WRITE}, allow_redirects=False) as r:
            assert r.status == 403


@pytest.fixture
async def guarded_api(config, pool):
    config.api.read_token = READ
    stack = await Stack(config).start("api")
    yield stack
    await stack.stop()


async def test_beyond_loopback_rules_need_a_login_kept_in_a_cookie(guarded_api, pool):
    await add_image(pool, "app-1", tag="1.0", findings=[finding("CVE-2024-0001", "critical")])
    async with aiohttp.ClientSession(guarded_api.api_url, cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        status, _, resp = await _get(http, "/?repo=team", allow_redirects=False)
        location = URL(resp.headers["Location"])
        assert status == 303 and location.path == "/login" and location.query["next"] == "/?repo=team"
        status, _, _ = await _get(http, "/images/sha256:" + "0" * 64, allow_redirects=False)
        assert status == 303
        status, html, resp = await _get(http, "/login?next=/pipeline")
        assert status == 200 and resp.headers["Content-Security-Policy"] == CSP
        csrf = _csrf(html)
        async with http.post("/login", data={"csrf": csrf, "token": "wrong-token-0123456789", "next": "/"},
                             allow_redirects=False) as r:
            assert r.status == 401 and "wrong-token" not in await r.text()
        async with http.post("/login", data={"token": READ, "next": "/"}, allow_redirects=False) as r:
            assert r.status == 403  # no CSRF token
        async with http.post("/login", data={"csrf": csrf, "token": READ, "next": "//evil.example/"},
                             allow_redirects=False) as r:
            assert r.status == 303 and r.headers["Location"] == "/"
            cookie = r.cookies["iw_session"]
            assert cookie["httponly"] and cookie["samesite"] == "Strict" and READ not in cookie.value
        status, html, _ = await _get(http, "/")
        assert status == 200 and "reg.example:5000/team/app:1.0" in html and READ not in html
        # a read session cannot retry without the write token
        status, html, _ = await _get(http, "/pipeline")
        async with http.post("/pipeline/dead-letters/1/retry", data={"csrf": _csrf(html)},
                             allow_redirects=False) as r:
            assert r.status == 403
    forged = cookie.value[:-4] + ("AAAA" if not cookie.value.endswith("AAAA") else "BBBB")
    async with aiohttp.ClientSession(guarded_api.api_url, cookies={"iw_session": forged}) as http:
        status, _, _ = await _get(http, "/", allow_redirects=False)
        assert status == 303  # a forged cookie is no session
    async with aiohttp.ClientSession(guarded_api.api_url, cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:  # the bearer header works too
        status, html, _ = await _get(http, "/", headers={"Authorization": f"Bearer {READ}"})
        assert status == 200 and "team/app:1.0" in html
        async with http.get("/v1/images") as r:  # the JSON API keeps its own guard
            assert r.status == 401


async def test_image_page_links_the_other_platforms_of_its_index(api, pool):
    index = "sha256:" + "cd" * 32
    amd = await add_image(pool, "multi-amd", tag="m", platform="linux/amd64", index_digest=index)
    arm = await add_image(pool, "multi-arm", tag="m", platform="linux/arm64", index_digest=index)
    async with aiohttp.ClientSession(api.api_url) as http:
        status, html, _ = await _get(http, f"/images/{amd}")
    assert status == 200 and f'href="/images/{arm}">linux/arm64</a>' in html and index in html


HOSTILE = [
    "/?page=abc", "/?page=-5", "/?page=99999999999", "/?days=abc", "/?days=7", "/?sort=1;DROP", "/?dir=sideways",
    "/?severity=evil&severity=critical", "/?repo=%00", "/?repo=" + "a" * 5000, "/?repo=%25_%5C", "/?fixable=%00",
    "/vulnerabilities/%00", "/vulnerabilities/" + "C" * 5000, "/images/sha256:%00", "/images/not-a-digest",
    "/images/sha256:" + "0" * 64 + "/report.json", "/images/sha256:" + "0" * 64 + "/..%2F..%2Fetc",
    "/pipeline?retried=%3Cscript%3E", "/pipeline?refresh=%00", "/static/..%2Fsession.py", "/static/x",
    "/login?next=javascript:alert(1)",
]


async def test_hostile_parameters_get_a_page_never_a_500(api):
    async with aiohttp.ClientSession(api.api_url, cookies={"iw_session": "garbage.%00"}) as http:
        for path in HOSTILE:
            async with http.get(path, allow_redirects=False) as r:
                body = await r.text()
                assert r.status in (200, 303, 404), (path, r.status, body[:300])
                assert "<script>" not in body and "javascript:alert" not in body
            async with http.get("/search", params={"q": "\x00" + path}, allow_redirects=False) as r:
                assert r.status == 303


async def test_the_session_cookie_is_secure_over_https(config, pool, tmp_path):
    import ssl

    from hostile.netfakes import make_ca, make_leaf

    ca_key, ca_cert = make_ca(tmp_path, "ca")
    make_leaf(tmp_path, "server", ca_key, ca_cert, "127.0.0.1")
    config.api.tls_cert_file = str(tmp_path / "server.crt")
    config.api.tls_key_file = str(tmp_path / "server.key")
    stack = await Stack(config).start("api")
    try:
        trust = ssl.create_default_context(cafile=str(tmp_path / "ca.crt"))
        async with aiohttp.ClientSession() as http:
            async with http.get(f"https://127.0.0.1:{config.api.port}/", ssl=trust) as r:
                assert r.status == 200 and r.headers["Content-Security-Policy"] == CSP
                cookie = r.cookies["iw_session"]
        assert cookie["secure"] and cookie["httponly"] and cookie["samesite"] == "Strict"
    finally:
        await stack.stop()


async def test_failed_logins_are_limited_per_address_then_429_with_retry_after(guarded_api):
    async with aiohttp.ClientSession(guarded_api.api_url, cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        _, html, _ = await _get(http, "/login")
        csrf = _csrf(html)
        for i in range(10):  # the default budget: 10 failures a minute
            async with http.post("/login", data={"csrf": csrf, "token": f"guess-{i:02d}-0123456789abcdef"},
                                 allow_redirects=False) as r:
                assert r.status == 401
        async with http.post("/login", data={"csrf": csrf, "token": "guess-10-0123456789abcdef"},
                             allow_redirects=False) as r:
            assert r.status == 429 and 1 <= int(r.headers["Retry-After"]) <= 60
            assert "Too many failed logins" in await r.text()
            assert r.headers["Content-Security-Policy"] == CSP
        async with http.post("/login", data={"csrf": csrf, "token": READ}, allow_redirects=False) as r:
            assert r.status == 429  # the right token too: the limit would not slow guessing otherwise
            assert "iw_session" not in r.cookies or READ not in r.cookies["iw_session"].value
        status, _, _ = await _get(http, "/", allow_redirects=False)
        assert status == 303  # still no session


async def test_a_wrong_csrf_token_is_not_a_failed_login(guarded_api):
    async with aiohttp.ClientSession(guarded_api.api_url, cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        _, html, _ = await _get(http, "/login")
        for _ in range(15):
            async with http.post("/login", data={"csrf": "stale", "token": "x" * 20}, allow_redirects=False) as r:
                assert r.status == 403
        async with http.post("/login", data={"csrf": _csrf(html), "token": READ}, allow_redirects=False) as r:
            assert r.status == 303


async def test_forwarded_proto_makes_the_cookie_secure_only_when_trusted(config, pool):
    for trusted in (False, True):
        config.dashboard.trust_forwarded_proto = trusted
        stack = await Stack(config).start("api")
        try:
            async with aiohttp.ClientSession(stack.api_url) as http:
                async with http.get("/", headers={"X-Forwarded-Proto": "https"}) as r:
                    assert r.status == 200
                    assert bool(r.cookies["iw_session"]["secure"]) is trusted
                async with http.get("/", headers={"X-Forwarded-Proto": "http"}) as r:
                    assert not r.cookies["iw_session"]["secure"]
                async with http.get("/") as r:
                    assert not r.cookies["iw_session"]["secure"]
        finally:
            await stack.stop()


async def test_pipeline_lists_the_live_replicas_escaped(api, config, monkeypatch):
    import nats

    from imagewatch.runtime import presence
    from imagewatch.runtime.identity import REPLICA_ENV
    from imagewatch.runtime.runner import start_service

    async def nothing(_ctx):
        return []

    started = []
    try:
        for name in ("secrets-1", XSS):
            monkeypatch.setenv(REPLICA_ENV, name)
            started.append(await start_service("secrets", config, nothing))
        nc = await nats.connect(config.bus.url)
        try:
            kv = await presence.bucket(nc.jetstream(), config.bus.presence_interval)
            await kv.put("matcher.intruder", b'{"service":"matcher","hostname":"<img src=x onerror=alert(3)>"}')

            async def listed():
                return len(await presence.live(nc.jetstream())) >= 4  # api, two secrets, the intruder
            await wait_for(listed, what="the processes announced")
        finally:
            await nc.close()
        async with aiohttp.ClientSession(api.api_url) as http:
            status, html, _ = await _get(http, "/pipeline")
        assert status == 200 and "<script" not in html and "<img" not in html
        row = re.search(r'<th scope="row">secrets</th>.*?</tr>', html, re.S).group(0)
        assert '<span class="num">2</span>' in row and "<code>secrets-1</code>" in row
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in row
        row = re.search(r'<th scope="row">api</th>.*?</tr>', html, re.S).group(0)
        assert '<span class="num">1</span>' in row
        row = re.search(r'<th scope="row">matcher</th>.*?</tr>', html, re.S).group(0)
        assert "&lt;img src=x onerror=alert(3)&gt;-0" in row
        assert "approximated from waiting pulls" not in html and "presence bucket" in html
        await started.pop().stop()
        async with aiohttp.ClientSession(api.api_url) as http:
            _, html, _ = await _get(http, "/pipeline")
        row = re.search(r'<th scope="row">secrets</th>.*?</tr>', html, re.S).group(0)
        assert '<span class="num">1</span>' in row and "alert(1)" not in row
    finally:
        for service in started:
            await service.stop()


async def test_pipeline_falls_back_to_waiting_pulls_when_presence_is_unreadable(config):
    import nats
    from nats.js import api as jsapi

    from imagewatch.runtime import presence

    nc = await nats.connect(config.bus.url)
    try:  # a stream by the bucket's name that is no key-value bucket
        await nc.jetstream().add_stream(jsapi.StreamConfig(name=f"KV_{presence.BUCKET}", subjects=["junk.>"]))
    finally:
        await nc.close()
    stack = await Stack(config).start("api")
    try:
        async with aiohttp.ClientSession(stack.api_url) as http:
            status, html, _ = await _get(http, "/pipeline")
        assert status == 200 and "approximated from waiting pulls" in html
        assert "presence bucket could not be read" in html
    finally:
        await stack.stop()
