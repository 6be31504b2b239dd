"""Fetching an image: resolve a reference to platform images and put new layer blobs away.

Shared by the fetcher service and the one-shot ``imagewatch scan``. Only this
module (through :class:`~imagewatch.oci.RegistryClient`) ever sees
registry credentials.
"""

from __future__ import annotations

import asyncio
import glob
import json
import os
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

import aiohttp

from imagewatch.runtime.blobstore import BlobStore
from imagewatch.config import FetcherConfig
from imagewatch.oci import RegistryClient, RegistryLimits, Reference, ResolvedImage
from imagewatch.oci.auth import IDENTITY_TOKEN_USER
from imagewatch.oci.egress import EgressPolicy, client_session, policy_for




def _docker_config(path: Path | None = None) -> dict:
    path = path or Path(os.environ.get("DOCKER_CONFIG", Path.home() / ".docker")) / "config.json"
    try:
        doc = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return doc if isinstance(doc, dict) else {}


def _host(key: str) -> str:
    host = key.removeprefix("https://").removeprefix("http://").split("/")[0]
    return "docker.io" if host in ("index.docker.io", "registry-1.docker.io") else host


def docker_config_credentials(path: Path | None = None) -> dict[str, tuple[str, str]]:
    """``auths`` entries of ``~/.docker/config.json`` as host → (user, password).

    An entry with an ``identitytoken`` gives (``IDENTITY_TOKEN_USER``, token):
    the token server is then asked with the OAuth2 refresh-token grant.
    """
    import base64

    out: dict[str, tuple[str, str]] = {}
    for key, entry in (_docker_config(path).get("auths") or {}).items():
        if not isinstance(entry, dict):
            continue
        if entry.get("identitytoken"):
            out[_host(key)] = (IDENTITY_TOKEN_USER, str(entry["identitytoken"]))
            continue
        auth = entry.get("auth")
        if not auth:
            continue
        user, _, password = base64.b64decode(auth).decode(errors="replace").partition(":")
        out[_host(key)] = (user, password)
    return out


def credential_helpers(path: Path | None = None) -> tuple[dict[str, str], str]:
    """(``credHelpers`` host → helper name, ``credsStore`` helper name or "") of the Docker config."""
    doc = _docker_config(path)
    helpers = {_host(k): str(v) for k, v in (doc.get("credHelpers") or {}).items() if v}
    return helpers, str(doc.get("credsStore") or "")


def run_credential_helper(helper: str, host: str) -> tuple[str, str] | None:
    """Ask ``docker-credential-<helper> get`` for ``host``; None when it has nothing (or is missing)."""
    import re
    import subprocess

    if not re.fullmatch(r"[A-Za-z0-9._-]+", helper):
        return None
    server = "https://index.docker.io/v1/" if host == "docker.io" else host
    try:
        done = subprocess.run([f"docker-credential-{helper}", "get"], input=server, capture_output=True,
                              text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if done.returncode != 0:
        return None
    try:
        found = json.loads(done.stdout)
    except ValueError:
        return None
    if not isinstance(found, dict) or not found.get("Secret"):
        return None
    return str(found.get("Username") or IDENTITY_TOKEN_USER), str(found["Secret"])


def credentials_lookup(config: FetcherConfig, use_docker_config: bool = True) -> Callable[[str], tuple[str, str] | None]:
    """Credentials per registry host: the config, then the Docker config's ``credHelpers`` for the host,
    its ``auths`` entry (password or identity token), then its ``credsStore``. Helpers run once per host."""
    table = docker_config_credentials() if use_docker_config else {}
    helpers, store = credential_helpers() if use_docker_config else ({}, "")
    configured = {cred.host: (cred.username, cred.password) for cred in config.credentials}
    asked: dict[str, tuple[str, str] | None] = {}

    def lookup(host: str) -> tuple[str, str] | None:
        if host in configured:
            return configured[host]
        if host in helpers:
            if host not in asked:
                asked[host] = run_credential_helper(helpers[host], host)
            if asked[host] is not None:
                return asked[host]
        if host in table:
            return table[host]
        if store:
            if host not in asked:
                asked[host] = run_credential_helper(store, host)
            return asked[host]
        return None

    return lookup


def egress_policy(config: FetcherConfig, credential_hosts: Iterable[str] = (),
                  trusted: Iterable[str] = ()) -> EgressPolicy:
    """The egress policy of the fetcher section: insecure registries, credential hosts, allowed globs.

    ``trusted`` adds exact hosts (``imagewatch scan`` trusts the registry its user named).
    """
    hosts = {c.host for c in config.credentials} | set(credential_hosts)
    return policy_for(config.insecure_registries, hosts,
                      [*config.allowed_registries, *(glob.escape(h) for h in trusted)])


def session_for(policy: EgressPolicy, **kwargs) -> aiohttp.ClientSession:
    """An aiohttp session whose name resolution obeys ``policy`` (see :mod:`imagewatch.oci.egress`)."""
    return client_session(policy, **kwargs)


def credential_hosts(config: FetcherConfig, use_docker_config: bool = True) -> set[str]:
    """Hosts the operator gave credentials for: the config, the Docker config's ``auths`` and ``credHelpers``."""
    hosts = {cred.host for cred in config.credentials}
    if use_docker_config:
        hosts |= set(docker_config_credentials()) | set(credential_helpers()[0])
    return hosts


def make_client(session: aiohttp.ClientSession, config: FetcherConfig,
                use_docker_config: bool = True, trusted: Iterable[str] = (), *, insecure: bool = False,
                login: tuple[str, str] | None = None) -> RegistryClient:
    """A registry client configured from the fetcher section, under its egress policy.

    ``trusted`` are hosts the user named (``imagewatch scan``'s registry).
    ``insecure`` (``--insecure``) skips certificate checks and falls back to
    plain HTTP for hosts whose HTTPS port speaks no TLS; ``login`` (``--username``
    / ``--password``) goes to the trusted hosts before any other credentials, never elsewhere.
    """
    limits = RegistryLimits(max_manifest_bytes=config.max_manifest_bytes, max_blob_bytes=config.max_blob_bytes)
    lookup = credentials_lookup(config, use_docker_config)
    trusted = set(trusted)
    credentials = (lambda host: login if host in trusted else lookup(host)) if login else lookup  # noqa: E731
    return RegistryClient(session, insecure_registries=set(config.insecure_registries),
                          credentials=credentials, limits=limits, insecure=insecure,
                          egress=egress_policy(config, credential_hosts(config, use_docker_config), trusted))


def authorized_client(session: aiohttp.ClientSession, config: FetcherConfig, host: str,
                      authorization: str) -> RegistryClient:
    """A client for one pull with an ``Authorization`` handed over for ``host`` (Harbor's scan token).

    ``Basic`` credentials answer the registry's challenge (token exchange or
    Basic) for that host only; a ``Bearer`` token is sent as is. Other hosts
    get the configured credentials; an empty authorization pulls anonymously.
    """
    import base64

    limits = RegistryLimits(max_manifest_bytes=config.max_manifest_bytes, max_blob_bytes=config.max_blob_bytes)
    configured = credentials_lookup(config, use_docker_config=False)
    scheme, _, value = authorization.partition(" ")
    preset = None
    credentials = configured
    if scheme.lower() == "bearer":
        preset = (host, authorization)
    elif scheme.lower() == "basic":
        user, _, password = base64.b64decode(value).decode().partition(":")
        credentials = lambda h: (user, password) if h == host else configured(h)  # noqa: E731
    else:
        credentials = lambda h: None if h == host else configured(h)  # noqa: E731
    return RegistryClient(session, insecure_registries=set(config.insecure_registries),
                          credentials=credentials, limits=limits, preset_authorization=preset)


async def resolve(client: RegistryClient, reference: Reference, platforms: list[str]) -> list[ResolvedImage]:
    """The platform images of ``reference`` with verified manifests and configs."""
    selection = "all" if platforms == ["all"] else platforms
    return await client.pull_images(reference, selection)


async def store_layers(client: RegistryClient, image: ResolvedImage, wanted: set[str],
                       blobs: BlobStore, concurrency: int = 4, tmp_dir: Path | None = None) -> list[str]:
    """Download the layers whose blob digest is in ``wanted`` (unless stored) into the blob store.

    Every blob is verified against its digest while streaming. Returns the
    diff_ids now available in the store for analysis.
    """
    sem = asyncio.Semaphore(max(1, concurrency))
    ready: list[str] = []

    async def one(layer) -> None:
        if not await blobs.has(layer.digest):
            async with sem:
                with tempfile.TemporaryDirectory(dir=tmp_dir, prefix="iw-blob-") as d:
                    path = Path(d) / "blob"
                    await client.get_blob(image.reference, layer.digest, path, size=layer.size)
                    await blobs.put_file(layer.digest, path)
        ready.append(layer.diff_id)

    todo = [layer for layer in image.layers if layer.digest in wanted]
    await asyncio.gather(*(one(layer) for layer in todo))
    order = {layer.diff_id: i for i, layer in enumerate(image.layers)}
    return sorted(set(ready), key=order.__getitem__)


async def store_bytes(blobs: BlobStore, digest: str, data: bytes) -> None:
    """Put a small verified blob (an image config) in the blob store unless it is there."""
    if await blobs.has(digest):
        return
    with tempfile.TemporaryDirectory(prefix="iw-blob-") as d:
        path = Path(d) / "blob"
        path.write_bytes(data)
        await blobs.put_file(digest, path)
