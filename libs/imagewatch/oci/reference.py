"""Image references: ``[registry/]repository[:tag][@digest]``, normalised like Docker.

``app`` becomes ``docker.io/library/app:latest``; the registry API for
``docker.io`` lives at ``registry-1.docker.io``. ``str()`` gives the normalised
form and ``Reference.parse(str(ref)) == ref``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from imagewatch.oci.errors import InvalidReference

DOCKER_HUB = "docker.io"
DOCKER_HUB_API = "registry-1.docker.io"
_HUB_ALIASES = {"docker.io", "index.docker.io", "registry-1.docker.io"}

_DOMAIN_PART = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = re.compile(rf"(?:{_DOMAIN_PART}(?:\.{_DOMAIN_PART})*|\[[0-9a-fA-F:]+\])(?::[0-9]+)?")
_PATH = re.compile(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*")
_TAG = re.compile(r"[\w][\w.-]{0,127}")
_DIGEST = re.compile(r"sha256:[0-9a-f]{64}|sha512:[0-9a-f]{128}")


@dataclass(frozen=True, slots=True)
class Reference:
    """A parsed, normalised image reference; ``tag`` and ``digest`` may both be set."""

    registry: str
    repository: str
    tag: str = ""
    digest: str = ""

    @classmethod
    def parse(cls, text: str) -> Reference:
        """Parse ``text``; a reference with neither tag nor digest gets tag ``latest``."""
        rest, digest = text.strip(), ""
        if "@" in rest:
            rest, digest = rest.split("@", 1)
            if not _DIGEST.fullmatch(digest):
                raise InvalidReference(f"invalid digest {digest!r} in reference {text!r}")
        tag = ""
        colon, slash = rest.rfind(":"), rest.rfind("/")
        if colon > slash:
            rest, tag = rest[:colon], rest[colon + 1:]
            if not _TAG.fullmatch(tag):
                raise InvalidReference(f"invalid tag {tag!r} in reference {text!r}")
        registry, repository = _split_registry(rest)
        if not _DOMAIN.fullmatch(registry):
            raise InvalidReference(f"invalid registry {registry!r} in reference {text!r}")
        if not _PATH.fullmatch(repository) or len(repository) > 255:
            raise InvalidReference(f"invalid repository {repository!r} in reference {text!r}")
        if not tag and not digest:
            tag = "latest"
        return cls(registry, repository, tag, digest)

    @property
    def api_host(self) -> str:
        """The ``host[:port]`` that serves the registry API for this reference."""
        return DOCKER_HUB_API if self.registry == DOCKER_HUB else self.registry

    @property
    def name(self) -> str:
        """``registry/repository`` without tag or digest."""
        return f"{self.registry}/{self.repository}"

    @property
    def identifier(self) -> str:
        """What the manifest endpoint is asked for: the digest when known, else the tag."""
        return self.digest or self.tag

    def with_digest(self, digest: str) -> Reference:
        """The same repository and tag pinned to ``digest``."""
        return replace(self, digest=digest)

    def __str__(self) -> str:
        text = self.name
        if self.tag:
            text += f":{self.tag}"
        if self.digest:
            text += f"@{self.digest}"
        return text


def _split_registry(rest: str) -> tuple[str, str]:
    first, sep, remainder = rest.partition("/")
    is_domain = sep and ("." in first or ":" in first or first == "localhost" or first != first.lower())
    if not is_domain:
        registry, repository = DOCKER_HUB, rest
    else:
        registry, repository = first, remainder
    if registry in _HUB_ALIASES:
        registry = DOCKER_HUB
        if "/" not in repository:
            repository = f"library/{repository}"
    return registry, repository
