"""Dashboard sessions: a signed cookie naming a role, and the CSRF token tied to it.

The cookie holds no token: ``<payload>.<mac>`` where the payload is the role
(``open`` on a loopback api without login, ``read`` or ``write`` after a
login with the read or write token), a random nonce and an expiry, and the
MAC is HMAC-SHA256 under a key derived from the api's tokens. Rotating a
token therefore ends every session; any api replica with the same tokens
accepts the cookie. The CSRF token is an HMAC of the session's nonce
(synchronizer token, sent in every form and compared in constant time).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass

COOKIE = "iw_session"
ROLES = ("open", "read", "write")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class Session:
    """A verified session: its role, nonce and expiry (Unix seconds)."""

    role: str
    nonce: str
    expires: int

    @property
    def can_write(self) -> bool:
        """Whether the session was opened with the write token."""
        return self.role == "write"


class SessionKeys:
    """Signs and verifies session cookies and CSRF tokens under a key derived from the tokens."""

    def __init__(self, *tokens: str, lifetime: int = 12 * 3600) -> None:
        material = b"\0".join(t.encode() for t in tokens)
        self._key = hashlib.sha256(b"imagewatch dashboard session v1\0" + material).digest()
        self.lifetime = lifetime

    def _mac(self, label: bytes, data: bytes) -> bytes:
        return hmac.new(self._key, label + b"\0" + data, hashlib.sha256).digest()

    def issue(self, role: str, now: float | None = None) -> tuple[Session, str]:
        """A new session (fresh nonce) and its cookie value."""
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}")
        session = Session(role, secrets.token_urlsafe(18), int((now or time.time()) + self.lifetime))
        payload = json.dumps({"r": session.role, "n": session.nonce, "e": session.expires},
                             separators=(",", ":")).encode()
        return session, f"{_b64(payload)}.{_b64(self._mac(b'session', payload))}"

    def verify(self, cookie: str | None, now: float | None = None) -> Session | None:
        """The session a cookie names, or None when it is missing, forged, malformed or expired."""
        if not cookie or len(cookie) > 512 or cookie.count(".") != 1:
            return None
        body, mac = cookie.split(".")
        try:
            payload, given = _unb64(body), _unb64(mac)
        except (ValueError, TypeError):
            return None
        if not hmac.compare_digest(given, self._mac(b"session", payload)):
            return None
        try:
            data = json.loads(payload)
            session = Session(str(data["r"]), str(data["n"]), int(data["e"]))
        except (ValueError, KeyError, TypeError):
            return None
        if session.role not in ROLES or session.expires < (now or time.time()):
            return None
        return session

    def csrf(self, session: Session) -> str:
        """The CSRF token of ``session``."""
        return _b64(self._mac(b"csrf", session.nonce.encode()))

    def csrf_ok(self, session: Session | None, given: str | None) -> bool:
        """Whether ``given`` is the CSRF token of ``session`` (constant time)."""
        if session is None or not given:
            return False
        return hmac.compare_digest(given.encode(), self.csrf(session).encode())
