"""Fixtures for the registry client tests: real docker-registry instances with tiny images."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import aiohttp
import pytest

from imagewatch.oci import RegistryClient, RegistryLimits
from harness.images import ImageSpec, Symlink, push_image, push_index, tools_missing
from harness.registry import RunningRegistry, TokenServer, run_registry, run_token_server

USER, PASSWORD = "ci-bot", "s3cret-pass"

BASE = {
    "/etc/os-release": b'ID=alpine\nVERSION_ID=3.19.1\nPRETTY_NAME="Alpine Linux v3.19"\n',
    "/bin/tool": (b"#!/bin/sh\necho tool\n", 0o755),
}
TOP = {"/etc/motd": None, "/usr/lib/os-release": Symlink("../../etc/os-release"), "/app/run.sh": b"exec tool\n"}
SPEC = ImageSpec(
    layers=[BASE, TOP], user="1000", env={"PATH": "/bin", "MODE": "test"},
    cmd=["/app/run.sh"], exposed_ports=["8080/tcp"], labels={"org.example.team": "core"},
)


@pytest.fixture(scope="module")
def tools() -> None:
    missing = tools_missing()
    if missing:
        pytest.skip(f"needs {', '.join(missing)} (apt-get install -y docker-registry skopeo umoci)")


@pytest.fixture(scope="module")
def registry(tools: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningRegistry]:
    with run_registry(tmp_path_factory.mktemp("registry")) as running:
        yield running


@pytest.fixture(scope="module")
def token_server(tools: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TokenServer]:
    with run_token_server(tmp_path_factory.mktemp("token"), {USER: PASSWORD}) as server:
        yield server


@pytest.fixture(scope="module")
def token_registry(token_server: TokenServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningRegistry]:
    with run_registry(tmp_path_factory.mktemp("token-registry"), token=token_server) as running:
        push_image(running.host, "team/secret", "1.0", SPEC, creds=(USER, PASSWORD))
        yield running


@pytest.fixture(scope="module")
def basic_registry(tools: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningRegistry]:
    with run_registry(tmp_path_factory.mktemp("basic-registry"), htpasswd={USER: PASSWORD}) as running:
        push_image(running.host, "team/basic", "1.0", SPEC, creds=(USER, PASSWORD))
        yield running


@pytest.fixture(scope="module")
def pushed(registry: RunningRegistry) -> dict:
    """The images every read-only test uses, pushed once per module."""
    return {
        "oci": push_image(registry.host, "team/app", "1.0", SPEC),
        "v2": push_image(registry.host, "team/app", "docker", SPEC, docker_v2=True),
        "index": push_index(registry.host, "team/multi", "2.0",
                            {"linux/amd64": SPEC, "linux/arm64/v8": SPEC}, attestation=True),
    }


def make_client(session: aiohttp.ClientSession, *hosts: str, creds=None, **limits) -> RegistryClient:
    """A client that reaches ``hosts`` over plain HTTP and never sleeps long between retries."""
    lookup = (lambda host: creds) if creds else None
    return RegistryClient(session, set(hosts), lookup, RegistryLimits(backoff_base=0.01, backoff_max=0.05, **limits))


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as http:
        yield http
