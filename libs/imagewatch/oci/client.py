"""The OCI distribution client: ping, manifests, platform selection, blobs, configs.

Every manifest, index, config and blob is verified against its digest. Plain
HTTP is used only for hosts listed in ``insecure_registries``; every request
passes the egress policy (:mod:`imagewatch.oci.egress`).
"""

from __future__ import annotations

import asyncio
import io
import os
from collections.abc import Collection
from typing import BinaryIO
from urllib.parse import urlencode, urljoin

import aiohttp

from imagewatch.oci import mediatypes
from imagewatch.oci.auth import Authenticator, Credentials
from imagewatch.oci.egress import EgressPolicy
from imagewatch.oci.digest import Verifier, digest_of, verify_bytes
from imagewatch.oci.errors import BlobTooLarge, NotFound, SizeMismatch, UnexpectedResponse, UnsupportedMediaType
from imagewatch.oci.image import ImageConfig, image_layers, parse_config
from imagewatch.oci.limits import RegistryLimits
from imagewatch.oci.manifest import ImageIndex, ImageManifest, parse_manifest, sniff_media_type
from imagewatch.oci.platforms import PlatformSelection, select_platforms
from imagewatch.oci.reference import DOCKER_HUB, DOCKER_HUB_API, Reference
from imagewatch.oci.resolved import FetchedManifest, PlatformManifest, ResolvedImage
from imagewatch.oci.transport import CONNECTION_ERRORS, Sleep, Transport, raise_for_status, read_limited

Sink = str | os.PathLike[str] | BinaryIO


class RegistryClient:
    """Talks to any number of registries through one aiohttp session.

    ``credentials(host)`` returns ``(user, password)`` or None; ``host`` is the
    ``host[:port]`` the API is served from (``docker.io`` is asked for Docker Hub).
    ``preset_authorization`` (host, ``Authorization`` value) is sent to that host
    as given (see :class:`~imagewatch.oci.auth.Authenticator`).
    """

    def __init__(
        self,
        session: aiohttp.ClientSession,
        insecure_registries: Collection[str] = frozenset(),
        credentials: Credentials | None = None,
        limits: RegistryLimits | None = None,
        *,
        sleep: Sleep = asyncio.sleep,
        preset_authorization: tuple[str, str] | None = None,
        egress: EgressPolicy | None = None,
        insecure: bool = False,
    ) -> None:
        self.limits = limits or RegistryLimits()
        egress = egress or EgressPolicy()
        self.insecure_registries = frozenset(insecure_registries) | egress.insecure
        self.egress = EgressPolicy(self.insecure_registries, egress.credential_hosts, egress.allowed)
        self.insecure = insecure
        self._probed: set[str] = set()
        self._transport = Transport(session, self.limits, sleep, self.egress, insecure=insecure)
        self._auth = Authenticator(self._transport, _hub_aware(credentials), preset_authorization)

    def base_url(self, host: str) -> str:
        """``http://host`` for insecure registries (and, under ``insecure``, hosts that speak no TLS),
        ``https://host`` otherwise."""
        return f"{'http' if self.egress.plain_http(host) else 'https'}://{host}"

    async def _probe(self, host: str) -> None:
        """Under ``insecure``, use plain HTTP for a host whose HTTPS port does not speak TLS (once per host).

        The probe obeys the egress policy like every request; a host found
        plain joins the policy's insecure hosts for this client.
        """
        if not self.insecure or host in self._probed or self.egress.plain_http(host):
            return
        self._probed.add(host)
        url = f"https://{host}/v2/"
        await self.egress.check_url(url)
        try:
            response = await self._transport.session.get(url, ssl=False, allow_redirects=False,
                                                         timeout=aiohttp.ClientTimeout(total=15))
            response.release()
        except aiohttp.ClientSSLError:
            self.insecure_registries |= {host}
            self.egress = EgressPolicy(self.insecure_registries, self.egress.credential_hosts, self.egress.allowed)
            self._transport.policy = self.egress
        except (aiohttp.ClientError, asyncio.TimeoutError):
            pass  # unreachable: the request itself will say so

    async def ping(self, registry: str) -> str:
        """Check ``/v2/`` answers; return the auth it asks for: anonymous, basic or bearer."""
        host = DOCKER_HUB_API if registry == DOCKER_HUB else registry
        await self._probe(host)
        what = f"ping {host}"
        response = await self._transport.send("GET", f"{self.base_url(host)}/v2/", {}, what)
        async with response:
            if response.status == 401:
                challenge = self._auth.remember(host, response.headers.getall("WWW-Authenticate", []))
                return challenge.scheme if challenge else "unknown"
            await raise_for_status(response, what)
        return "anonymous"

    async def _open(self, ref: Reference, path: str, accept: str, what: str, *, method: str = "GET",
                    data: bytes | None = None, headers: dict[str, str] | None = None,
                    actions: str = "pull", url: str | None = None) -> aiohttp.ClientResponse:
        """``method`` ``/v2/<repo>/<path>`` (or ``url``) with auth; a non-2xx response raises."""
        host, scope = ref.api_host, f"repository:{ref.repository}:{actions}"
        await self._probe(host)
        url = url or f"{self.base_url(host)}/v2/{ref.repository}/{path}"
        authorization = await self._auth.header(host, scope)
        for first in (True, False):
            # identity: the digest covers the bytes as stored, never a re-encoding of them
            sent = {"Accept": accept, "Accept-Encoding": "identity", **(headers or {})}
            if authorization:
                sent["Authorization"] = authorization
            response = await self._transport.send(method, url, sent, what, data)
            if response.status == 401 and first:
                challenges = response.headers.getall("WWW-Authenticate", [])
                retry_with = await self._auth.answer(host, scope, challenges)
                if retry_with is not None:
                    response.release()
                    authorization = retry_with
                    continue
            try:
                await raise_for_status(response, what)
            except BaseException:
                response.release()
                raise
            return response
        raise AssertionError("unreachable")

    async def get_manifest(self, ref: Reference | str) -> FetchedManifest:
        """Fetch the manifest or index ``ref`` names (digest first, else tag), verified.

        By digest the bytes must hash to it; by tag they must match the
        ``Docker-Content-Digest`` header when the registry sends one.
        """
        ref = _as_reference(ref)
        what = f"manifest {ref}"
        response = await self._open(ref, f"manifests/{ref.identifier}", mediatypes.MANIFEST_ACCEPT, what)
        async with response:
            data = await read_limited(response, self.limits.max_manifest_bytes, what)
            content_type = response.headers.get("Content-Type", "")
            announced = response.headers.get("Docker-Content-Digest", "")
        if ref.digest:
            verify_bytes(what, data, ref.digest)
            digest = ref.digest
        elif announced:
            verify_bytes(what, data, announced)
            digest = announced
        else:
            digest = digest_of(data)
        return FetchedManifest(digest, sniff_media_type(data, content_type), data)

    async def resolve_platforms(
        self, ref: Reference | str, platforms: PlatformSelection = None
    ) -> list[PlatformManifest]:
        """The image manifests to scan for ``ref``: an index is narrowed to ``platforms``.

        ``platforms`` is a list of ``os/arch[/variant]`` (default ``linux/amd64``)
        or ``"all"``; attestation manifests are skipped. A reference naming a
        single image manifest yields it whatever its platform.
        """
        ref = _as_reference(ref)
        top = await self.get_manifest(ref)
        doc = parse_manifest(top.data, top.media_type)
        if isinstance(doc, ImageManifest):
            return [PlatformManifest(reference=ref.with_digest(top.digest), digest=top.digest,
                                     media_type=top.media_type, data=top.data, manifest=doc)]
        chosen = []
        for entry in select_platforms(doc, platforms):
            child_ref = ref.with_digest(entry.digest)
            child = await self.get_manifest(child_ref)
            manifest = parse_manifest(child.data, child.media_type)
            if isinstance(manifest, ImageIndex):
                raise UnsupportedMediaType(f"manifest {child_ref}: nested indexes are not supported")
            chosen.append(PlatformManifest(
                reference=child_ref, digest=child.digest, media_type=child.media_type,
                data=child.data, manifest=manifest, platform=str(entry.platform or ""),
                index_digest=top.digest,
            ))
        return chosen

    async def has_blob(self, ref: Reference | str, digest: str) -> bool:
        """Whether the repository of ``ref`` already holds blob ``digest`` (HEAD)."""
        ref = _as_reference(ref)
        try:
            response = await self._open(ref, f"blobs/{digest}", "*/*", f"blob {digest} of {ref.name}",
                                        method="HEAD", actions="pull,push")
        except NotFound:
            return False
        response.release()
        return True

    async def push_blob(self, ref: Reference | str, data: bytes) -> str:
        """Upload ``data`` as one blob to ``ref``'s repository (monolithic POST then PUT); returns its digest.

        A blob the repository holds already is not sent again.
        """
        ref = _as_reference(ref)
        digest = digest_of(data)
        if await self.has_blob(ref, digest):
            return digest
        what = f"upload of {digest} to {ref.name}"
        response = await self._open(ref, "blobs/uploads/", "*/*", what, method="POST",
                                    headers={"Content-Length": "0"}, actions="pull,push")
        async with response:
            location = response.headers.get("Location", "")
        if not location:
            raise UnexpectedResponse(f"{what}: the registry gave no upload location", response.status)
        url = urljoin(f"{self.base_url(ref.api_host)}/v2/{ref.repository}/blobs/uploads/", location)
        url += ("&" if "?" in url else "?") + urlencode({"digest": digest})
        response = await self._open(ref, "", "*/*", what, method="PUT", data=data, url=url,
                                    headers={"Content-Type": "application/octet-stream"}, actions="pull,push")
        response.release()
        return digest

    async def push_manifest(self, ref: Reference | str, data: bytes, media_type: str) -> str:
        """PUT ``data`` as the manifest ``ref`` names (its tag or digest); returns the manifest digest."""
        ref = _as_reference(ref)
        digest = digest_of(data)
        what = f"manifest {ref}"
        response = await self._open(ref, f"manifests/{ref.identifier}", "*/*", what, method="PUT", data=data,
                                    headers={"Content-Type": media_type}, actions="pull,push")
        async with response:
            announced = response.headers.get("Docker-Content-Digest", "")
        if announced and announced != digest:
            raise UnexpectedResponse(f"{what}: the registry stored {announced}, we sent {digest}", 201)
        return digest

    async def get_blob(
        self, ref: Reference | str, digest: str, sink: Sink, *,
        size: int | None = None, max_size: int | None = None,
    ) -> int:
        """Stream blob ``digest`` of ``ref``'s repository into ``sink``; return its length.

        ``sink`` is a path (written through ``<path>.part``, renamed only once
        verified, removed on failure) or a binary file object. ``size`` is the
        descriptor's size when known. Raises DigestMismatch, SizeMismatch or
        BlobTooLarge (limit: ``max_size`` or ``limits.max_blob_bytes``).
        """
        ref = _as_reference(ref)
        limit = min(max_size or self.limits.max_blob_bytes, self.limits.max_blob_bytes)
        if size is not None and size > limit:
            raise BlobTooLarge(f"blob {digest} of {ref.name} is {size} bytes, over the limit of {limit}")
        if isinstance(sink, (str, os.PathLike)):
            partial = f"{os.fspath(sink)}.part"
            try:
                with open(partial, "wb") as out:
                    written = await self._download(ref, digest, out, size, limit)
                os.replace(partial, sink)
            except BaseException:
                _unlink(partial)
                raise
            return written
        return await self._download(ref, digest, sink, size, limit)

    async def _download(self, ref: Reference, digest: str, out: BinaryIO,
                        size: int | None, limit: int) -> int:
        what = f"blob {digest} of {ref.name}"
        start = out.tell() if out.seekable() else None
        for attempt in range(self.limits.retries + 1):
            verifier, written = Verifier(digest), 0
            response = await self._open(ref, f"blobs/{digest}", "*/*", what)
            try:
                async with response:
                    _check_declared(response.content_length, size, limit, what)
                    async for chunk in response.content.iter_chunked(self.limits.chunk_size):
                        written += len(chunk)
                        if written > limit:
                            raise BlobTooLarge(f"{what} exceeds the limit of {limit} bytes")
                        if size is not None and written > size:
                            raise SizeMismatch(f"{what}: more than the {size} bytes its descriptor says")
                        verifier.update(chunk)
                        out.write(chunk)
            except CONNECTION_ERRORS:
                if start is None or attempt == self.limits.retries:
                    raise
                out.seek(start)
                out.truncate()
                await self._transport.wait(attempt)
                continue
            if size is not None and written != size:
                raise SizeMismatch(f"{what}: {written} bytes, its descriptor says {size}")
            verifier.verify(what)
            return written
        raise AssertionError("unreachable")

    async def get_blob_bytes(self, ref: Reference | str, digest: str, *,
                             size: int | None = None, max_size: int | None = None) -> bytes:
        """A small blob (config, attestation) in memory, verified; default limit: config size."""
        buffer = io.BytesIO()
        await self.get_blob(ref, digest, buffer, size=size,
                            max_size=max_size or self.limits.max_config_bytes)
        return buffer.getvalue()

    async def get_config(self, ref: Reference | str, manifest: ImageManifest) -> tuple[ImageConfig, bytes]:
        """The image config ``manifest`` points at, verified and parsed, with its raw bytes."""
        descriptor = manifest.config
        data = await self.get_blob_bytes(ref, descriptor.digest, size=descriptor.size)
        return parse_config(data), data

    async def pull_images(self, ref: Reference | str, platforms: PlatformSelection = None) -> list[ResolvedImage]:
        """Resolve ``ref`` to its platform images with configs and layer lists (no layer bytes)."""
        images = []
        for chosen in await self.resolve_platforms(ref, platforms):
            config, config_data = await self.get_config(chosen.reference, chosen.manifest)
            images.append(ResolvedImage(
                reference=chosen.reference, digest=chosen.digest, media_type=chosen.media_type,
                manifest_data=chosen.data, platform=chosen.platform or config.platform,
                index_digest=chosen.index_digest, config_digest=chosen.manifest.config.digest,
                config_data=config_data, config=config,
                layers=image_layers(chosen.manifest, config),
            ))
        return images


def _as_reference(ref: Reference | str) -> Reference:
    return ref if isinstance(ref, Reference) else Reference.parse(ref)


def _hub_aware(credentials: Credentials | None) -> Credentials | None:
    if credentials is None:
        return None

    def lookup(host: str) -> tuple[str, str] | None:
        found = credentials(host)
        if found is None and host == DOCKER_HUB_API:
            found = credentials(DOCKER_HUB)
        return found

    return lookup


def _check_declared(declared: int | None, size: int | None, limit: int, what: str) -> None:
    if declared is None:
        return
    if declared > limit:
        raise BlobTooLarge(f"{what} is {declared} bytes, over the limit of {limit}")
    if size is not None and declared != size:
        raise SizeMismatch(f"{what}: served {declared} bytes, its descriptor says {size}")


def _unlink(path: str) -> None:
    try:
        os.remove(path)
    except FileNotFoundError:
        pass
