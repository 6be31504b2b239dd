"""The adapter's side of the Harbor scanner spec: media types, metadata, the checked scan request.

Spec: https://github.com/goharbor/pluggable-scanner-spec (``api/spec/scanner-adapter-openapi-v1.2.yaml``).
Everything in a ``ScanRequest`` comes from outside and is checked here:
the registry URL (http or https, host and optional port, nothing else; plain
HTTP only to hosts the fetcher already treats as insecure), the repository,
digest and tag (the OCI distribution grammar), the artifact media type (one
this scanner consumes) and the authorization (``Basic`` with a decodable
``user:password`` or ``Bearer`` with a token, bounded in size).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Collection
from urllib.parse import urlsplit

import msgspec

from imagewatch.errors import ImagewatchError
from imagewatch.runtime.metrics import build_version

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
CONSUMES = [OCI_MANIFEST, DOCKER_MANIFEST]
VULN_REPORT = "application/vnd.scanner.adapter.vuln.report.harbor+json; version=1.0"
VULN_REPORT_1_1 = "application/vnd.security.vulnerability.report; version=1.1"
SBOM_REPORT = "application/vnd.security.sbom.report+json; version=1.0"
METADATA = "application/vnd.scanner.adapter.metadata+json; version=1.1"
SCAN_RESPONSE = "application/vnd.scanner.adapter.scan.response+json; version=1.0"
ERROR = "application/vnd.scanner.adapter.error+json; version=1.0"
SBOM_MEDIA_TYPES = {"application/spdx+json": "spdx", "application/vnd.cyclonedx+json": "cyclonedx"}
CAPABILITY_TYPES = ("vulnerability", "sbom")

MAX_AUTHORIZATION = 16 * 1024
_REPOSITORY = re.compile(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*")
_TAG = re.compile(r"[\w][\w.-]{0,127}")
_DIGEST = re.compile(r"sha256:[0-9a-f]{64}|sha512:[0-9a-f]{128}")
_HOST = re.compile(r"(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*"
                   r"|\[[0-9a-fA-F:.]+\]")
_TOKEN68 = re.compile(r"[A-Za-z0-9\-._~+/]+=*")


class HarborRequestError(ImagewatchError):
    """harbor: a request the adapter refuses; ``status`` is the HTTP answer the spec gives it."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def scanner() -> dict[str, str]:
    """The ``Scanner`` object: name, vendor, version."""
    return {"name": "imagewatch", "vendor": "imagewatch", "version": build_version()}


def metadata(db_updated_at: str | None) -> dict:
    """The ``ScannerAdapterMetadata`` document; ``db_updated_at`` is the last advisory sync (RFC 3339)."""
    properties = {
        "harbor.scanner-adapter/scanner-type": "os-package-vulnerability",
        "harbor.scanner-adapter/vulnerability-database-updated-at": db_updated_at or "",
        "env.IMAGEWATCH_SCANS": "vulnerabilities, secrets, misconfigurations",
    }
    return {
        "scanner": scanner(),
        "capabilities": [
            {"type": "vulnerability", "consumes_mime_types": list(CONSUMES),
             "produces_mime_types": [VULN_REPORT, VULN_REPORT_1_1]},
            {"type": "sbom", "consumes_mime_types": list(CONSUMES), "produces_mime_types": [SBOM_REPORT],
             "additional_attributes": {"sbom_media_types": list(SBOM_MEDIA_TYPES)}},
        ],
        "properties": properties,
    }


class _Registry(msgspec.Struct):
    url: str
    authorization: str = ""


class _Artifact(msgspec.Struct):
    repository: str
    digest: str
    tag: str = ""
    mime_type: str = ""


class _Capability(msgspec.Struct):
    type: str
    produces_mime_types: list[str] = []
    parameters: dict | None = None


class _ScanRequest(msgspec.Struct):
    registry: _Registry
    artifact: _Artifact
    enabled_capabilities: list[_Capability] | None = None


class ScanRequest(msgspec.Struct, kw_only=True):
    """A checked scan request: registry ``host[:port]`` and scheme, artifact, authorization.

    ``authorization`` is the raw ``Authorization`` header value Harbor gave
    (empty for anonymous pulls); it is a secret and has no ``repr``.
    """

    scheme: str
    registry: str
    repository: str
    digest: str
    tag: str = ""
    mime_type: str = ""
    authorization: str = msgspec.field(default="")
    capabilities: list[str] = []

    def __repr__(self) -> str:
        return f"ScanRequest({self.registry}/{self.repository}@{self.digest}, authorization=***)"


def registry_host(url: str, insecure_registries: Collection[str]) -> tuple[str, str]:
    """(scheme, ``host[:port]``) of a registry base URL, checked strictly.

    Only ``http``/``https`` with a host and an optional port; no user info,
    query, fragment or path beyond ``/``. Plain HTTP only to a host listed in
    ``insecure_registries`` (the fetcher's rule for every registry).
    """
    if not url or len(url) > 2048 or any(c.isspace() or ord(c) < 32 for c in url):
        raise HarborRequestError(422, "registry.url: expected a URL like https://harbor.example.com")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise HarborRequestError(422, f"registry.url: {exc}") from None
    if parts.scheme not in ("http", "https"):
        raise HarborRequestError(422, "registry.url: the scheme must be http or https")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise HarborRequestError(422, "registry.url: credentials in the URL are refused")
    if parts.query or parts.fragment or parts.path not in ("", "/"):
        raise HarborRequestError(422, "registry.url: expected a base URL without path, query or fragment")
    hostname = parts.netloc.rsplit(":", 1)[0] if port is not None else parts.netloc
    if not hostname or not _HOST.fullmatch(hostname):
        raise HarborRequestError(422, "registry.url: invalid host")
    if port is not None and not 0 < port < 65536:
        raise HarborRequestError(422, "registry.url: invalid port")
    host = parts.netloc.lower()
    if parts.scheme == "http" and host not in insecure_registries:
        raise HarborRequestError(
            422, f"registry.url: plain http to {host} is refused; list it in fetcher.insecure_registries")
    if parts.scheme == "https" and host in insecure_registries:
        raise HarborRequestError(422, f"registry.url: {host} is configured as a plain-http registry")
    return parts.scheme, host


def check_authorization(value: str) -> str:
    """The ``Authorization`` value Harbor passes for the registry: ``Basic`` or ``Bearer``, or empty."""
    value = value.strip()
    if not value:
        return ""
    if len(value) > MAX_AUTHORIZATION:
        raise HarborRequestError(422, "registry.authorization: too long")
    scheme, _, credential = value.partition(" ")
    credential = credential.strip()
    if scheme.lower() == "basic":
        try:
            user, sep, _ = base64.b64decode(credential, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            raise HarborRequestError(422, "registry.authorization: Basic credentials are not base64 of user:password") from None
        if not sep or not user:
            raise HarborRequestError(422, "registry.authorization: Basic credentials are not user:password")
        return f"Basic {credential}"
    if scheme.lower() == "bearer":
        if not _TOKEN68.fullmatch(credential):
            raise HarborRequestError(422, "registry.authorization: malformed Bearer token")
        return f"Bearer {credential}"
    raise HarborRequestError(422, "registry.authorization: expected Basic or Bearer")


def parse_scan_request(body: bytes, insecure_registries: Collection[str]) -> ScanRequest:
    """A checked :class:`ScanRequest` from the request body; 400 for bad JSON, 422 for a bad field."""
    try:
        raw = msgspec.json.decode(body, type=_ScanRequest)
    except msgspec.ValidationError as exc:
        raise HarborRequestError(400, f"scan request: {exc}") from None
    except msgspec.DecodeError as exc:
        raise HarborRequestError(400, f"scan request: malformed JSON: {exc}") from None
    scheme, host = registry_host(raw.registry.url.strip(), insecure_registries)
    art = raw.artifact
    if len(art.repository) > 255 or not _REPOSITORY.fullmatch(art.repository):
        raise HarborRequestError(422, "artifact.repository: invalid repository name")
    if not _DIGEST.fullmatch(art.digest):
        raise HarborRequestError(422, "artifact.digest: expected sha256:<64 hex> or sha512:<128 hex>")
    if art.tag and not _TAG.fullmatch(art.tag):
        raise HarborRequestError(422, "artifact.tag: invalid tag")
    mime = art.mime_type.strip()
    if mime and mime not in CONSUMES:
        raise HarborRequestError(422, f"artifact.mime_type: {mime[:100]!r} is not scanned; "
                                      f"expected one of {', '.join(CONSUMES)}")
    capabilities = []
    for cap in raw.enabled_capabilities or []:
        if cap.type not in CAPABILITY_TYPES:
            raise HarborRequestError(422, f"enabled_capabilities: unknown type {cap.type[:50]!r}")
        capabilities.append(cap.type)
    return ScanRequest(scheme=scheme, registry=host, repository=art.repository, digest=art.digest,
                       tag=art.tag, mime_type=mime, capabilities=capabilities or list(CAPABILITY_TYPES),
                       authorization=check_authorization(raw.registry.authorization))


def split_accept(value: str) -> str:
    """A media type with its parameters normalised (lower case, ``; `` between parts)."""
    parts = [p.strip().lower().replace(" ", "") for p in value.split(";") if p.strip()]
    return "; ".join(parts)
