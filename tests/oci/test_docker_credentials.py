"""Docker config credentials beyond ``auths.auth``: credential helpers, ``credsStore``, identity tokens.

A helper is a real executable (``docker-credential-iwtest`` on PATH) speaking
the helper protocol: the server on stdin, ``{"Username", "Secret"}`` on
stdout, exit 1 when it knows nothing.
"""

from __future__ import annotations

import json
import stat
from urllib.parse import urlsplit

import aiohttp
import pytest

from imagewatch.config import FetcherConfig
from imagewatch.fetcher.fetch import make_client
from imagewatch.oci import Unauthorized

from .conftest import PASSWORD, USER


@pytest.fixture
def docker_home(tmp_path, monkeypatch):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    monkeypatch.setenv("PATH", f"{bin_dir}:{__import__('os').environ['PATH']}")
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker"))
    (tmp_path / "docker").mkdir()

    def configure(config: dict, helper_hosts: dict[str, tuple[str, str]] | None = None) -> None:
        (tmp_path / "docker" / "config.json").write_text(json.dumps(config))
        known = json.dumps({h: {"Username": u, "Secret": p} for h, (u, p) in (helper_hosts or {}).items()})
        helper = bin_dir / "docker-credential-iwtest"
        helper.write_text("#!/usr/bin/env python3\nimport json, sys\n"
                          f"known = json.loads({known!r})\n"
                          "assert sys.argv[1] == 'get'\nserver = sys.stdin.read().strip()\n"
                          "if server not in known:\n    print('credentials not found in native keychain')\n"
                          "    sys.exit(1)\nprint(json.dumps(known[server]))\n")
        helper.chmod(helper.stat().st_mode | stat.S_IEXEC)
    return configure


async def _manifest(host: str, ref: str, realm_host: str = ""):
    # the loopback registry (and its loopback http token realm) are configured, as an operator would
    insecure = [host, realm_host] if realm_host else [host]
    async with aiohttp.ClientSession() as session:
        client = make_client(session, FetcherConfig(insecure_registries=insecure))
        return await client.get_manifest(ref)


async def test_cred_helper_for_the_host(basic_registry, docker_home):
    host = basic_registry.host
    docker_home({"credHelpers": {host: "iwtest"}}, {host: (USER, PASSWORD)})
    assert (await _manifest(host, f"{host}/team/basic:1.0")).digest.startswith("sha256:")
    docker_home({"credHelpers": {host: "iwtest"}}, {})
    with pytest.raises(Unauthorized):
        await _manifest(host, f"{host}/team/basic:1.0")


async def test_creds_store_for_every_host(token_registry, token_server, docker_home):
    host, realm = token_registry.host, urlsplit(token_server.realm).netloc
    docker_home({"credsStore": "iwtest", "auths": {host: {}}}, {host: (USER, PASSWORD)})
    assert (await _manifest(host, f"{host}/team/secret:1.0", realm)).digest.startswith("sha256:")


async def test_identity_token_uses_the_refresh_token_grant(token_registry, token_server, docker_home):
    host, realm = token_registry.host, urlsplit(token_server.realm).netloc
    token_server.refresh_tokens["rt-identity-1"] = USER
    docker_home({"auths": {host: {"identitytoken": "rt-identity-1"}}})
    before = len(token_server.requests)
    assert (await _manifest(host, f"{host}/team/secret:1.0", realm)).digest.startswith("sha256:")
    assert token_server.requests[before][0] == USER
    docker_home({"auths": {host: {"identitytoken": "rt-wrong"}}})
    with pytest.raises(Unauthorized):
        await _manifest(host, f"{host}/team/secret:1.0", realm)
