"""Registry authentication: the ``WWW-Authenticate`` challenge flow.

A 401 carries a challenge. ``Basic`` is answered with the host's credentials.
``Bearer realm=...,service=...`` is answered by asking the realm for a token
for ``scope`` (``repository:<name>:pull``), with the credentials as Basic auth
when there are any, anonymously otherwise. Tokens are cached per (host,
scope) until shortly before they expire; the challenge is remembered per host
so later scopes get their token without a 401 round trip first.

A ``preset`` (host, header) is sent as is to that host, before any challenge
and instead of any token exchange (Harbor hands its scanner a ready bearer
token for one artifact); a 401 with it is final.
The realm must pass the egress policy (https, or a host in
``insecure_registries``); the host's credentials go to it only when the
policy says they belong there (the registry itself, a configured host, or
the registry's well-known token service).
"""

from __future__ import annotations

import base64
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from urllib.parse import urlencode

import msgspec

from imagewatch.oci.egress import EgressRefused
from imagewatch.oci.errors import RegistryError, Unauthorized
from imagewatch.oci.transport import Transport, raise_for_status, read_limited

Credentials = Callable[[str], tuple[str, str] | None]
IDENTITY_TOKEN_USER = "<token>"  # user name meaning "the password is an identity (refresh) token"

_PARAM = re.compile(r'([A-Za-z_][\w-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))')
_EXPIRY_MARGIN = 10.0
_DEFAULT_TOKEN_LIFETIME = 60.0


@dataclass(frozen=True)
class Challenge:
    """A parsed ``WWW-Authenticate`` challenge: scheme (lower case) and parameters."""

    scheme: str
    params: dict[str, str] = field(default_factory=dict)


def parse_challenges(headers: Iterable[str]) -> list[Challenge]:
    """Every challenge in the given ``WWW-Authenticate`` header values."""
    found = []
    for header in headers:
        for chunk in re.split(r",\s*(?=[A-Za-z][\w-]*\s+[A-Za-z_][\w-]*\s*=)", header):
            scheme, _, rest = chunk.strip().partition(" ")
            if scheme:
                params = {m[1].lower(): (m[2] if m[2] is not None else m[3]) for m in _PARAM.finditer(rest)}
                found.append(Challenge(scheme.lower(), params))
    return found


class _TokenResponse(msgspec.Struct):
    token: str = ""
    access_token: str = ""
    expires_in: float = _DEFAULT_TOKEN_LIFETIME


def basic_header(user: str, password: str) -> str:
    """``Basic base64(user:password)``."""
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


class Authenticator:
    """Produces the ``Authorization`` header for (host, scope), fetching tokens as needed."""

    def __init__(self, transport: Transport, credentials: Credentials | None,
                 preset: tuple[str, str] | None = None) -> None:
        self._transport = transport
        self._preset = preset
        self._credentials = credentials or (lambda host: None)
        self._challenges: dict[str, Challenge] = {}
        self._tokens: dict[tuple[str, str], tuple[str, float]] = {}

    def remember(self, host: str, headers: Iterable[str]) -> Challenge | None:
        """Record the preferred challenge (Bearer over Basic) a host sent; return it."""
        challenges = {c.scheme: c for c in parse_challenges(headers)}
        chosen = challenges.get("bearer") or challenges.get("basic")
        if chosen is not None:
            self._challenges[host] = chosen
        return chosen

    async def header(self, host: str, scope: str) -> str | None:
        """The header to send before any 401: preset, cached token, Basic, or fresh token."""
        if self._preset is not None and self._preset[0] == host:
            return self._preset[1]
        challenge = self._challenges.get(host)
        if challenge is None:
            return None
        if challenge.scheme == "basic":
            creds = self._credentials(host)
            return basic_header(*creds) if creds else None
        cached = self._tokens.get((host, scope))
        if cached and cached[1] > time.monotonic():
            return cached[0]
        return await self._fetch_token(host, scope, challenge)

    async def answer(self, host: str, scope: str, headers: Iterable[str]) -> str | None:
        """The header to retry with after a 401, or None when nothing new can be tried."""
        if self._preset is not None and self._preset[0] == host:
            return None
        self._tokens.pop((host, scope), None)
        challenge = self.remember(host, headers)
        if challenge is None:
            return None
        if challenge.scheme == "basic" and not self._credentials(host):
            return None
        return await self.header(host, scope)

    async def _fetch_token(self, host: str, scope: str, challenge: Challenge) -> str:
        realm = challenge.params.get("realm")
        if not realm:
            raise Unauthorized(f"{host}: bearer challenge without a realm")
        query = {k: v for k, v in (("service", challenge.params.get("service")), ("scope", scope)) if v}
        policy = self._transport.policy
        realm_host = policy.check_realm(host, realm)
        creds = self._credentials(host)
        if creds and not policy.may_send_credentials(host, realm_host):
            raise EgressRefused(f"{host}: credentials not sent to token realm host {realm_host} "
                                "(add it to fetcher.allowed_registries if it is the registry's token service)")
        what = f"token for {host} ({scope})"
        if creds and creds[0] == IDENTITY_TOKEN_USER:
            # An identity token is an OAuth2 refresh token: POST the refresh-token grant to the realm.
            form = urlencode({**query, "grant_type": "refresh_token", "refresh_token": creds[1],
                              "client_id": "imagewatch"}).encode()
            response = await self._transport.send(
                "POST", realm, {"Content-Type": "application/x-www-form-urlencoded"}, what, form)
        else:
            url = realm + ("&" if "?" in realm else "?") + urlencode(query)
            headers = {"Authorization": basic_header(*creds)} if creds else {}
            response = await self._transport.send("GET", url, headers, what)
        async with response:
            if response.status in (401, 403):
                who = "the credentials" if creds else "anonymous access"
                raise Unauthorized(f"{what}: token server {realm} refused {who} ({response.status})")
            await raise_for_status(response, what)
            body = await read_limited(response, 1024 * 1024, what)
        try:
            parsed = msgspec.json.decode(body, type=_TokenResponse)
        except msgspec.DecodeError as exc:
            raise RegistryError(f"{what}: malformed token response: {exc}") from None
        token = parsed.token or parsed.access_token
        if not token:
            raise Unauthorized(f"{what}: token server {realm} returned no token")
        lifetime = max(parsed.expires_in, _DEFAULT_TOKEN_LIFETIME) - _EXPIRY_MARGIN
        value = f"Bearer {token}"
        self._tokens[(host, scope)] = (value, time.monotonic() + lifetime)
        return value
