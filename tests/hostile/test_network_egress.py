"""Hostile network: the egress policy every registry call obeys (issue 11, server-side request forgery).

Each test names what an attacker tries; the registry client must refuse before
connecting, with an error that says why.
"""

from __future__ import annotations

import ipaddress

import aiohttp
import pytest
from aiohttp import web

from hostile.netfakes import http_peer, listener, manifest_bytes, manifest_response
from imagewatch.oci import Reference, RegistryClient, RegistryLimits
from imagewatch.oci.egress import EgressPolicy, EgressRefused, is_public

LIMITS = RegistryLimits(retries=0, connect_timeout=2, read_timeout=2)


@pytest.fixture
async def session():
    async with aiohttp.ClientSession() as http:
        yield http


@pytest.mark.parametrize("address", [
    "127.0.0.1", "127.1.2.3", "10.0.0.1", "172.16.5.4", "192.168.1.1", "169.254.169.254", "100.64.0.1",
    "0.0.0.0", "224.0.0.1", "::1", "::", "fe80::1", "fc00::1", "fd00:ec2::254", "::ffff:127.0.0.1",
    "::ffff:169.254.169.254", "64:ff9b::a00:1", "2002:7f00:1::",
])
def test_inward_addresses_are_not_public(address):
    assert not is_public(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ["8.8.8.8", "1.1.1.1", "2001:4860:4860::8888"])
def test_public_addresses_are_public(address):
    assert is_public(ipaddress.ip_address(address))


@pytest.mark.parametrize("image", [
    "127.0.0.1:{port}/x:1", "localhost:{port}/x:1", "[::1]:{port}/x:1", "10.1.2.3:5000/x:1",
    "169.254.169.254/latest:1", "metadata.google.internal/x:1", "100.64.0.1/x:1", "[::ffff:7f00:1]:{port}/x:1",
])
async def test_unconfigured_inward_registry_refused_without_connecting(session, image):
    async with listener() as port_22:
        client = RegistryClient(session, limits=LIMITS)
        with pytest.raises(EgressRefused, match="refused"):
            await client.get_manifest(Reference.parse(image.format(port=port_22.port)))
        assert port_22.connections == 0


async def test_metadata_refused_even_when_configured(session):
    client = RegistryClient(session, {"169.254.169.254"}, limits=LIMITS)
    with pytest.raises(EgressRefused, match="metadata"):
        await client.get_manifest("169.254.169.254/x:1")


async def test_configured_loopback_registry_is_reached(session):
    data, digest = manifest_bytes()
    async with http_peer(lambda r, p: manifest_response(data, digest, "application/vnd.oci.image.manifest.v1+json")) as reg:
        client = RegistryClient(session, {reg.host}, limits=LIMITS)
        assert (await client.get_manifest(f"{reg.host}/team/app:1")).digest == digest
        allowed = RegistryClient(session, egress=EgressPolicy.of(allowed=["127.0.0.1:*"]), limits=LIMITS)
        assert allowed.egress.configured(reg.host)


async def test_redirect_to_plain_http_refused(session):
    async with http_peer(lambda r, p: web.Response(status=307, headers={"Location": "http://example.com/blob"})) as reg:
        client = RegistryClient(session, {reg.host}, limits=LIMITS)
        with pytest.raises(EgressRefused, match="redirect .* refused"):
            await client.get_manifest(f"{reg.host}/team/app:1")


async def test_redirect_to_loopback_refused_without_connecting(session):
    async with listener() as inner:
        location = f"https://{inner.host}/blob"
        async with http_peer(lambda r, p: web.Response(status=302, headers={"Location": location})) as reg:
            client = RegistryClient(session, {reg.host}, limits=LIMITS)
            with pytest.raises(EgressRefused, match="non-public"):
                await client.get_manifest(f"{reg.host}/team/app:1")
        assert inner.connections == 0


async def test_redirect_to_metadata_refused(session):
    location = "http://169.254.169.254/latest/meta-data/iam/security-credentials/"
    async with http_peer(lambda r, p: web.Response(status=302, headers={"Location": location})) as reg:
        client = RegistryClient(session, {reg.host, "169.254.169.254"}, limits=LIMITS)
        with pytest.raises(EgressRefused, match="metadata"):
            await client.get_manifest(f"{reg.host}/team/app:1")


async def test_redirect_to_another_host_drops_credentials(session):
    data, digest = manifest_bytes("moved")
    async with http_peer(lambda r, p: manifest_response(data, digest, "application/vnd.oci.image.manifest.v1+json")) as cdn:
        def registry(request, peer):
            if "Authorization" not in request.headers:
                return web.Response(status=401, headers={"WWW-Authenticate": 'Basic realm="r"'})
            return web.Response(status=307, headers={"Location": f"{cdn.url}/m"})

        async with http_peer(registry) as reg:
            client = RegistryClient(session, {reg.host, cdn.host}, lambda host: ("ci", "s3cret-pass"), LIMITS)
            assert (await client.get_manifest(f"{reg.host}/team/app:1")).digest == digest
            assert any("Authorization" in h for _, h in reg.requests)
        assert cdn.requests and all("Authorization" not in h for _, h in cdn.requests)


async def test_token_realm_on_http_refused(session):
    async with listener() as realm:
        challenge = f'Bearer realm="http://{realm.host}/token",service="reg"'
        async with http_peer(lambda r, p: web.Response(status=401, headers={"WWW-Authenticate": challenge})) as reg:
            client = RegistryClient(session, {reg.host}, limits=LIMITS)
            with pytest.raises(EgressRefused, match="realm .* not https"):
                await client.get_manifest(f"{reg.host}/team/app:1")
        assert realm.connections == 0


async def test_credentials_never_sent_to_a_foreign_token_realm(session):
    async with http_peer(lambda r, p: web.json_response({"token": "t"})) as realm:
        foreign = f"localhost:{realm.port}"  # another host name than the registry's 127.0.0.1
        challenge = f'Bearer realm="http://{foreign}/token",service="reg"'
        async with http_peer(lambda r, p: web.Response(status=401, headers={"WWW-Authenticate": challenge})) as reg:
            # the realm may be reached (configured plain http) but the registry's credentials are not its own
            client = RegistryClient(session, {reg.host}, lambda host: ("ci", "s3cret-pass") if host == reg.host else None,
                                    LIMITS, egress=EgressPolicy.of(insecure=[foreign]))
            with pytest.raises(EgressRefused, match="credentials not sent"):
                await client.get_manifest(f"{reg.host}/team/app:1")
        assert all("Authorization" not in h for _, h in realm.requests)


async def test_token_realm_pointing_inward_refused(session):
    challenge = 'Bearer realm="https://169.254.169.254/token",service="reg"'
    async with http_peer(lambda r, p: web.Response(status=401, headers={"WWW-Authenticate": challenge})) as reg:
        client = RegistryClient(session, {reg.host}, limits=LIMITS)
        with pytest.raises(EgressRefused, match="metadata"):
            await client.get_manifest(f"{reg.host}/team/app:1")
