"""Bearer-token and basic auth against a real docker-registry."""

from urllib.parse import urlsplit

import pytest

from imagewatch.oci import Unauthorized

from .conftest import PASSWORD, USER, make_client

pytestmark = pytest.mark.timeout(120)


def _realm_host(token_server) -> str:
    """The token server serves plain HTTP on loopback: it is configured like the registry."""
    return urlsplit(token_server.realm).netloc


async def test_bearer_token_flow(token_registry, token_server, session):
    client = make_client(session, token_registry.host, _realm_host(token_server), creds=(USER, PASSWORD))
    assert await client.ping(token_registry.host) == "bearer"
    before = len(token_server.requests)
    [image] = await client.pull_images(token_registry.ref("team/secret", "1.0"))
    assert image.config.config.User == "1000" and len(image.layers) == 2
    asked = token_server.requests[before:]
    assert asked == [(USER, ["repository:team/secret:pull"])]  # one token, cached for every request


async def test_bearer_without_credentials_is_401(token_registry, token_server, session):
    client = make_client(session, token_registry.host, _realm_host(token_server))
    with pytest.raises(Unauthorized, match=r"registry: manifest .*team/secret:1.0: 401"):
        await client.get_manifest(token_registry.ref("team/secret", "1.0"))
    assert token_server.requests[-1] == ("", ["repository:team/secret:pull"])


async def test_bearer_with_wrong_password_is_refused_by_token_server(token_registry, token_server, session):
    client = make_client(session, token_registry.host, _realm_host(token_server), creds=(USER, "wrong"))
    with pytest.raises(Unauthorized, match="token server .* refused the credentials"):
        await client.get_manifest(token_registry.ref("team/secret", "1.0"))


async def test_basic_auth(basic_registry, session):
    client = make_client(session, basic_registry.host, creds=(USER, PASSWORD))
    assert await client.ping(basic_registry.host) == "basic"
    [image] = await client.pull_images(basic_registry.ref("team/basic", "1.0"))
    assert len(image.layers) == 2


async def test_basic_auth_without_or_with_wrong_credentials(basic_registry, session):
    for client in (make_client(session, basic_registry.host),
                   make_client(session, basic_registry.host, creds=(USER, "wrong"))):
        with pytest.raises(Unauthorized, match="401"):
            await client.get_manifest(basic_registry.ref("team/basic", "1.0"))
