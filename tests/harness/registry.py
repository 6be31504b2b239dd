"""A real registry for tests: Debian's ``docker-registry`` (CNCF distribution 2.8).

``run_registry`` starts it on a free 127.0.0.1 port with filesystem storage in
a directory, optionally sending push notifications to a URL and optionally
behind bearer-token auth (``run_token_server``) or htpasswd basic auth.
``RunningRegistry.corrupt_blob`` damages a stored blob in place so tests can
check digest verification.

The token server runs an aiohttp app on its own thread and event loop, so that
sync code (skopeo pushes from fixtures) and async tests can both use it. Tokens
are JWTs signed RS256 with a fresh self-signed key; the certificate goes into
the registry's ``rootcertbundle`` and into each token's ``x5c`` header, which
is how distribution 2.8 finds the signing key. ``users`` authenticate with
Basic auth and get whatever they ask for; anonymous callers get ``pull`` on
``public_repositories`` and nothing elsewhere.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import datetime as dt
import json
import secrets
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

# --------------------------------------------------------------------------- token server

ISSUER = "imagewatch-test-issuer"
SERVICE = "imagewatch-test-registry"


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass
class SigningKey:
    """An RSA key with a self-signed certificate, written as PEM to ``cert_path``."""

    key: rsa.RSAPrivateKey
    cert: x509.Certificate
    cert_path: Path

    @classmethod
    def generate(cls, directory: Path) -> SigningKey:
        """A new 2048-bit key and a one-day certificate for it, saved under ``directory``."""
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, ISSUER)])
        now = dt.datetime.now(dt.timezone.utc)
        cert = (
            x509.CertificateBuilder()
            .subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(hours=1))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256())
        )
        path = directory / "token-cert.pem"
        path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        return cls(key, cert, path)

    def jwt(self, claims: Mapping[str, object]) -> str:
        """Sign ``claims`` as a compact RS256 JWT carrying the certificate in ``x5c``."""
        der = self.cert.public_bytes(serialization.Encoding.DER)
        header = {"typ": "JWT", "alg": "RS256", "x5c": [base64.b64encode(der).decode()]}
        signing_input = ".".join(_b64url(json.dumps(p).encode()) for p in (header, claims))
        signature = self.key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        return f"{signing_input}.{_b64url(signature)}"


@dataclass
class TokenServer:
    """A running token server: ``realm`` URL, issuer, service, and what it was asked."""

    key: SigningKey
    users: dict[str, str]
    public_repositories: set[str] = field(default_factory=set)
    issuer: str = ISSUER
    service: str = SERVICE
    realm: str = ""
    requests: list[tuple[str, list[str]]] = field(default_factory=list)
    refused: int = 0
    refresh_tokens: dict[str, str] = field(default_factory=dict)

    def _user(self, request: web.Request) -> str | None:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            return ""
        user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        expected = self.users.get(user)
        if expected is None or not secrets.compare_digest(expected, password):
            return None
        return user

    def _access(self, user: str, scopes: list[str]) -> list[dict]:
        access = []
        for scope in scopes:
            kind, _, rest = scope.partition(":")
            name, _, actions = rest.rpartition(":")
            if kind != "repository" or not name:
                continue
            if user:
                granted = actions.split(",")
            elif name in self.public_repositories:
                granted = [a for a in actions.split(",") if a == "pull"]
            else:
                granted = []
            access.append({"type": "repository", "name": name, "actions": granted})
        return access

    async def handle(self, request: web.Request) -> web.Response:
        """``GET /token?service=...&scope=...``: a JWT for what the caller may do.

        ``POST /token`` with the OAuth2 refresh-token grant (Docker's identity
        token) is answered too: ``refresh_tokens`` maps a token to its user.
        """
        if request.method == "POST":
            form = await request.post()
            user = self.refresh_tokens.get(str(form.get("refresh_token", "")))
            if form.get("grant_type") != "refresh_token" or user is None:
                self.refused += 1
                return web.json_response({"details": "bad refresh token"}, status=401)
            scopes = str(form.get("scope", "")).split() if form.get("scope") else []
            self.requests.append((user, scopes))
            now = int(time.time())
            token = self.key.jwt({"iss": self.issuer, "sub": user, "aud": str(form.get("service", self.service)),
                                  "exp": now + 300, "nbf": now - 10, "iat": now, "jti": secrets.token_hex(8),
                                  "access": self._access(user, scopes)})
            return web.json_response({"access_token": token, "expires_in": 300})
        user = self._user(request)
        if user is None:
            self.refused += 1
            return web.json_response({"details": "bad credentials"}, status=401)
        scopes = request.query.getall("scope", [])
        self.requests.append((user, scopes))
        now = int(time.time())
        claims = {
            "iss": self.issuer, "sub": user, "aud": request.query.get("service", self.service),
            "exp": now + 300, "nbf": now - 10, "iat": now, "jti": secrets.token_hex(8),
            "access": self._access(user, scopes),
        }
        token = self.key.jwt(claims)
        return web.json_response({"token": token, "access_token": token, "expires_in": 300})


@contextmanager
def run_token_server(
    directory: Path, users: Mapping[str, str], public_repositories: set[str] | None = None
) -> Iterator[TokenServer]:
    """Serve tokens on ``127.0.0.1`` (own thread) until the block ends."""
    server = TokenServer(SigningKey.generate(directory), dict(users), set(public_repositories or ()))
    loop = asyncio.new_event_loop()
    app = web.Application()
    app.router.add_get("/token", server.handle)
    app.router.add_post("/token", server.handle)
    runner = web.AppRunner(app, access_log=None)

    async def start() -> None:
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        server.realm = f"http://127.0.0.1:{port}/token"

    thread = threading.Thread(target=loop.run_forever, name="token-server", daemon=True)
    thread.start()
    asyncio.run_coroutine_threadsafe(start(), loop).result(timeout=10)
    try:
        yield server
    finally:
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()


# --------------------------------------------------------------------------- registry

REGISTRY_BINARY = "docker-registry"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class RunningRegistry:
    """A ``docker-registry`` process serving plain HTTP on ``host`` (``127.0.0.1:PORT``)."""

    host: str
    storage: Path
    config_path: Path
    log_path: Path
    process: subprocess.Popen

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return f"http://{self.host}"

    def ref(self, repository: str, tag: str = "latest") -> str:
        """``127.0.0.1:PORT/repository:tag``."""
        return f"{self.host}/{repository}:{tag}"

    def blob_path(self, digest: str) -> Path:
        """Where the filesystem driver keeps the bytes of blob ``digest``."""
        algorithm, _, hexpart = digest.partition(":")
        return self.storage / "docker/registry/v2/blobs" / algorithm / hexpart[:2] / hexpart / "data"

    def corrupt_blob(self, digest: str) -> Path:
        """Flip the bits of blob ``digest`` on disk, keeping its length; return its path."""
        path = self.blob_path(digest)
        data = path.read_bytes()
        path.write_bytes(bytes(b ^ 0xFF for b in data))
        return path

    def log(self) -> str:
        """What the registry wrote to stderr/stdout so far."""
        return self.log_path.read_text(errors="replace")


def registry_config(
    storage: Path, port: int, *,
    notify_url: str | None = None,
    notify_headers: Mapping[str, str] | None = None,
    notify_ignore_media_types: Sequence[str] = (),
    token: TokenServer | None = None,
    htpasswd_path: Path | None = None,
) -> dict:
    """The registry's YAML config as a dict (see distribution's configuration docs)."""
    config: dict = {
        "version": 0.1,
        "log": {"level": "warn", "accesslog": {"disabled": True}},
        "storage": {"filesystem": {"rootdirectory": str(storage)}, "delete": {"enabled": True}},
        "http": {"addr": f"127.0.0.1:{port}", "secret": secrets.token_hex(16)},
        "health": {"storagedriver": {"enabled": False}},
    }
    if notify_url:
        config["notifications"] = {
            "events": {"includereferences": True},
            "endpoints": [{
                "name": "imagewatch",
                "url": notify_url,
                "headers": {k: [v] for k, v in (notify_headers or {}).items()},
                "timeout": "2s",
                "threshold": 3,
                "backoff": "200ms",
                # distribution 2.8 applies ``ignore`` only when some media type is
                # listed, hence the placeholder that matches nothing.
                "ignore": {"actions": ["pull"],
                           "mediatypes": list(notify_ignore_media_types) or ["application/x-imagewatch-none"]},
            }],
        }
    if token is not None:
        config["auth"] = {"token": {
            "realm": token.realm, "service": token.service, "issuer": token.issuer,
            "rootcertbundle": str(token.key.cert_path),
        }}
    elif htpasswd_path is not None:
        config["auth"] = {"htpasswd": {"realm": "imagewatch-test", "path": str(htpasswd_path)}}
    return config


def write_htpasswd(path: Path, users: Mapping[str, str]) -> Path:
    """An htpasswd file with bcrypt hashes (the only kind distribution accepts)."""
    import bcrypt

    lines = [f"{u}:{bcrypt.hashpw(p.encode(), bcrypt.gensalt(rounds=4)).decode()}" for u, p in users.items()]
    path.write_text("\n".join(lines) + "\n")
    return path


def _wait_ready(registry: RunningRegistry, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if registry.process.poll() is not None:
            raise RuntimeError(f"docker-registry exited with {registry.process.returncode}:\n{registry.log()}")
        try:
            with urllib.request.urlopen(f"{registry.url}/v2/", timeout=1):
                return
        except urllib.error.HTTPError as exc:
            if exc.code == 401:
                return
        except OSError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"docker-registry did not answer /v2/ within {timeout}s:\n{registry.log()}")


@contextmanager
def run_registry(
    directory: Path | None = None, *,
    notify_url: str | None = None,
    notify_headers: Mapping[str, str] | None = None,
    notify_ignore_media_types: Sequence[str] = (),
    token: TokenServer | None = None,
    htpasswd: Mapping[str, str] | None = None,
    startup_timeout: float = 20.0,
) -> Iterator[RunningRegistry]:
    """Run Debian's ``docker-registry`` on a free port until the block ends.

    Storage, config and log live in ``directory`` (a temporary one when None).
    ``notify_url``/``notify_headers`` configure push notifications: pulls are
    never sent, nor events whose target has one of ``notify_ignore_media_types``
    (e.g. ``application/octet-stream`` for blob pushes). ``token`` (from
    ``run_token_server``) or ``htpasswd`` (user -> password) turn on
    bearer-token or basic auth.
    """
    binary = shutil.which(REGISTRY_BINARY)
    if binary is None:
        raise RuntimeError("docker-registry not installed (apt-get install docker-registry)")
    with contextlib.ExitStack() as stack:
        if directory is None:
            directory = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="iw-registry-")))
        directory.mkdir(parents=True, exist_ok=True)
        storage = directory / "storage"
        storage.mkdir(exist_ok=True)
        htpasswd_path = write_htpasswd(directory / "htpasswd", htpasswd) if htpasswd else None
        port = free_port()
        config = registry_config(storage, port, notify_url=notify_url, notify_headers=notify_headers,
                                 notify_ignore_media_types=notify_ignore_media_types,
                                 token=token, htpasswd_path=htpasswd_path)
        config_path = directory / "config.yml"
        config_path.write_text(yaml.safe_dump(config))
        log_path = directory / "registry.log"
        log = stack.enter_context(open(log_path, "wb"))
        process = subprocess.Popen([binary, "serve", str(config_path)], stdout=log, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL)
        registry = RunningRegistry(f"127.0.0.1:{port}", storage, config_path, log_path, process)
        try:
            _wait_ready(registry, startup_timeout)
            yield registry
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
