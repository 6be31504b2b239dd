"""Small hostile network peers for tests/hostile/test_network_*: a TCP listener that counts
connections, and an HTTP server answering with whatever a test scripts (a hostile registry).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
from collections.abc import AsyncIterator, Callable

from aiohttp import web


class Listener:
    """A TCP port on 127.0.0.1 that accepts, counts and closes every connection."""

    def __init__(self) -> None:
        self.connections = 0
        self.server: asyncio.AbstractServer | None = None
        self.port = 0

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        writer.write(b"SSH-2.0-OpenSSH_9.6\r\n")  # something that is not a registry
        with contextlib.suppress(ConnectionError):
            await writer.drain()
        writer.close()

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"


@contextlib.asynccontextmanager
async def listener() -> AsyncIterator[Listener]:
    """A counting TCP listener for the block."""
    found = Listener()
    found.server = await asyncio.start_server(found._accept, "127.0.0.1", 0)
    found.port = found.server.sockets[0].getsockname()[1]
    try:
        yield found
    finally:
        found.server.close()
        await found.server.wait_closed()


class Peer:
    """An HTTP server on 127.0.0.1 recording each request's path and headers."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.port = 0

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.host}"


@contextlib.asynccontextmanager
async def http_peer(handler: Callable[[web.Request, Peer], web.StreamResponse]) -> AsyncIterator[Peer]:
    """Serve ``handler(request, peer)`` (sync or async) for every path during the block."""
    peer = Peer()

    async def handle(request: web.Request) -> web.StreamResponse:
        peer.requests.append((request.path_qs, dict(request.headers)))
        answer = handler(request, peer)
        if asyncio.iscoroutine(answer):
            answer = await answer
        return answer

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    peer.port = runner.addresses[0][1]
    try:
        yield peer
    finally:
        await runner.cleanup()


def manifest_bytes(seed: str = "x") -> tuple[bytes, str]:
    """An OCI image manifest (no layers) and its digest."""
    config_digest = "sha256:" + hashlib.sha256(seed.encode()).hexdigest()
    data = json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest, "size": 2},
        "layers": []}).encode()
    return data, "sha256:" + hashlib.sha256(data).hexdigest()


def index_bytes(entries: list[tuple[str, str, dict]]) -> tuple[bytes, str]:
    """An OCI index of (digest, "os/arch", annotations) entries and its digest."""
    manifests = []
    for digest, platform, annotations in entries:
        os_, arch = platform.split("/")[:2]
        entry = {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": digest, "size": 100,
                 "platform": {"os": os_, "architecture": arch}}
        if annotations:
            entry["annotations"] = annotations
        manifests.append(entry)
    data = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
                       "manifests": manifests}).encode()
    return data, "sha256:" + hashlib.sha256(data).hexdigest()


def manifest_response(data: bytes, digest: str, media_type: str) -> web.Response:
    """A registry's answer to a manifest GET."""
    return web.Response(body=data, headers={"Content-Type": media_type, "Docker-Content-Digest": digest})


def make_ca(directory, name: str):
    """A self-signed CA: (key, certificate), written to ``<name>.crt``."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    (directory / f"{name}.crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return key, cert


def make_leaf(directory, name: str, ca_key, ca_cert, common_name: str) -> None:
    """A certificate signed by the CA (server and client use), written to ``<name>.crt``/``<name>.key``."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    try:
        san = x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(common_name))])
    except ValueError:
        san = x509.SubjectAlternativeName([x509.DNSName(common_name)])
    cert = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
            .issuer_name(ca_cert.subject).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(san, critical=False)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]),
                           critical=False)
            .sign(ca_key, hashes.SHA256()))
    (directory / f"{name}.crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (directory / f"{name}.key").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
