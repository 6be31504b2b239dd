"""The dashboard's gate: session cookie, login and logout, CSRF, security headers.

Same rule as the read API: on a loopback api with no read token asked for,
pages are open; otherwise a page needs the read token once, on the login
form (or as a bearer header), after which the browser holds only a signed
session cookie (HttpOnly, SameSite=Strict, Secure over HTTPS, or behind a
TLS-terminating proxy that says ``X-Forwarded-Proto: https`` when
``dashboard.trust_forwarded_proto`` is set). Every form carries the session's
CSRF token; the one write action (retry a dead letter) also needs the write
(webhook) token, given at login or in the form. Failed logins are limited per
client address (``dashboard.login_failures_per_minute``): beyond the budget
every login attempt gets 429 with ``Retry-After``.
"""

from __future__ import annotations

import hmac
from urllib.parse import quote

from aiohttp import web

from imagewatch.dashboard.headers import SECURITY_HEADERS
from imagewatch.dashboard.ratelimit import FailureLimiter
from imagewatch.dashboard.render import render
from imagewatch.dashboard.session import COOKIE, Session, SessionKeys
from imagewatch.runtime.httpauth import bearer_matches

KEYS = web.AppKey("dashboard_keys", SessionKeys)
SESSION = web.RequestKey("iw_session", Session)
AUTHORISED = web.RequestKey("iw_authorised", bool)
LOGIN_LIMIT = web.AppKey("dashboard_login_limit", FailureLimiter)
TRUST_FORWARDED_PROTO = web.AppKey("dashboard_trust_forwarded_proto", bool)
MAX_TOKEN = 512


class Gate:
    """Whether pages need a login, and the tokens that open a read or a write session."""

    def __init__(self, required: bool, read_tokens: tuple[str, ...], write_token: str) -> None:
        self.required = required
        self.read_tokens = tuple(t for t in read_tokens if t)
        self.write_token = write_token

    def role_for(self, token: str) -> str | None:
        """``write`` for the write token, ``read`` for a read token, None otherwise (constant time each)."""
        given = token.encode()
        if self.write_token and hmac.compare_digest(given, self.write_token.encode()):
            return "write"
        ok = False
        for t in self.read_tokens:
            ok |= hmac.compare_digest(given, t.encode())
        return "read" if ok else None

    def is_write_token(self, token: str) -> bool:
        """Whether ``token`` is the write token."""
        return bool(self.write_token) and hmac.compare_digest(token.encode(), self.write_token.encode())


GATE = web.AppKey("dashboard_gate", Gate)


def is_dashboard_path(path: str) -> bool:
    """Whether a path belongs to the dashboard (everything but the API, Harbor and health routes)."""
    return path in ("/", "/search", "/login", "/logout", "/pipeline") or path.startswith(
        ("/images/", "/vulnerabilities/", "/static/", "/pipeline/"))


def _open_path(path: str) -> bool:
    return path == "/login" or path.startswith("/static/")


def safe_next(value: str | None) -> str:
    """A same-site path to go to after login; anything else is ``/``."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value or len(value) > 2000:
        return "/"
    return value


def over_https(request: web.Request) -> bool:
    """Whether the browser reached us over HTTPS: our own TLS, or a trusted proxy's ``X-Forwarded-Proto``.

    The header counts only with ``dashboard.trust_forwarded_proto`` (any
    client can send it); the first value is the one the outermost proxy saw.
    """
    if request.secure:
        return True
    if not request.app.get(TRUST_FORWARDED_PROTO, False):
        return False
    proto = request.headers.get("X-Forwarded-Proto", "")
    return proto.split(",", 1)[0].strip().lower() == "https"


def set_session_cookie(request: web.Request, response: web.StreamResponse, value: str, max_age: int) -> None:
    """The session cookie: HttpOnly, SameSite=Strict, Secure when the browser came over HTTPS."""
    response.set_cookie(COOKIE, value, max_age=max_age, path="/", httponly=True, samesite="Strict",
                        secure=over_https(request))


def dashboard_middleware():
    """Middleware: sessions, the login gate and the security headers of every dashboard response."""

    @web.middleware
    async def middleware(request: web.Request, handler):
        if not is_dashboard_path(request.path):
            return await handler(request)
        keys, gate = request.app[KEYS], request.app[GATE]
        session = keys.verify(request.cookies.get(COOKIE))
        fresh = None
        if session is None:
            session, fresh = keys.issue("open")
        request[SESSION] = session
        authorised = (not gate.required or session.role in ("read", "write")
                      or bearer_matches(request, *gate.read_tokens, gate.write_token))
        request[AUTHORISED] = authorised
        try:
            if not authorised and not _open_path(request.path):
                if request.method in ("GET", "HEAD"):
                    target = request.path_qs if len(request.path_qs) < 2000 else request.path
                    response = web.HTTPSeeOther(f"/login?next={quote(target, safe='')}")
                else:
                    response = error_page(request, 401, "Log in first", "This action needs a session.")
            else:
                response = await handler(request)
        except web.HTTPException as exc:
            response = exc
        if fresh is not None:
            set_session_cookie(request, response, fresh, keys.lifetime)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    return middleware


def error_page(request: web.Request, status: int, title: str, message: str) -> web.Response:
    """An HTML error page (the message is escaped like everything else)."""
    return page(request, "error.html", status=status, title=title, message=message)


def page(request: web.Request, template: str, status: int = 200, **context) -> web.Response:
    """Render a dashboard page with the session, its CSRF token and the search box."""
    session: Session = request[SESSION]
    context = {"refresh": 0, "query": "", "page": ""} | context
    body = render(template, session=session, csrf=request.app[KEYS].csrf(session), **context)
    return web.Response(text=body, status=status, content_type="text/html", charset="utf-8")


def csrf_ok(request: web.Request, form) -> bool:
    """Whether the form's ``csrf`` field is the session's CSRF token."""
    return request.app[KEYS].csrf_ok(request[SESSION], str(form.get("csrf", ""))[:200])


async def login_form(request: web.Request) -> web.Response:
    """``GET /login``: the token form."""
    return page(request, "login.html", page="login", next=safe_next(request.query.get("next")), error="")


async def login(request: web.Request) -> web.StreamResponse:
    """``POST /login``: a read or write token opens a session; the token itself is never echoed or kept."""
    form = await request.post()
    next_path = safe_next(str(form.get("next", "")))
    limit, client = request.app[LOGIN_LIMIT], request.remote or ""
    wait = limit.retry_after(client)
    if wait:
        response = page(request, "login.html", status=429, page="login", next=next_path,
                        error=f"Too many failed logins from your address; try again in {wait} s.")
        response.headers["Retry-After"] = str(wait)
        return response
    if not csrf_ok(request, form):
        return page(request, "login.html", status=403, page="login", next=next_path,
                    error="The form expired; try again.")
    token = str(form.get("token", ""))
    role = request.app[GATE].role_for(token) if 0 < len(token) <= MAX_TOKEN else None
    if role is None:
        limit.failed(client)
        return page(request, "login.html", status=401, page="login", next=next_path, error="Wrong token.")
    _, cookie = request.app[KEYS].issue(role)
    response = web.HTTPSeeOther(next_path)
    set_session_cookie(request, response, cookie, request.app[KEYS].lifetime)
    return response


async def logout(request: web.Request) -> web.StreamResponse:
    """``POST /logout``: drop the session (CSRF-checked)."""
    form = await request.post()
    if not csrf_ok(request, form):
        return error_page(request, 403, "Refused", "The form expired; go back and try again.")
    response = web.HTTPSeeOther("/login" if request.app[GATE].required else "/")
    response.del_cookie(COOKIE, path="/")
    return response


ROUTES = [
    web.get("/login", login_form),
    web.post("/login", login),
    web.post("/logout", logout),
]
