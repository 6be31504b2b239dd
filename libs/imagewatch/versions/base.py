"""The version scheme Protocol and its error.

A scheme turns a version string into a sortable key. Keys of one scheme compare
with ``<``/``==`` exactly as the ecosystem orders versions; keys of different
schemes are never compared with each other.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Callable, Protocol, runtime_checkable
from imagewatch.errors import ImagewatchError


class InvalidVersion(ImagewatchError, ValueError):
    """A version string the scheme cannot parse; the message starts with the scheme."""

    def __init__(self, scheme: str, version: str, why: str = "") -> None:
        self.scheme = scheme
        self.version = version
        super().__init__(f"versions.{scheme}: invalid version {version!r}" + (f": {why}" if why else ""))


@runtime_checkable
class VersionScheme(Protocol):
    """Orders the versions of one ecosystem (PEP 440, SemVer, dpkg ...)."""

    name: str

    def key(self, version: str) -> Any:
        """A sortable key for ``version``; raises InvalidVersion when it cannot parse it."""
        ...

    def compare(self, a: str, b: str) -> int:
        """-1, 0 or 1 as ``a`` sorts before, equal to or after ``b``."""
        ...


class KeyedScheme:
    """Base for schemes defined by a key function: caches keys, derives compare."""

    name = ""
    cache_size = 65536

    def __init__(self) -> None:
        self.key: Callable[[str], Any] = lru_cache(maxsize=self.cache_size)(self._checked_key)

    def _checked_key(self, version: str) -> Any:
        if not isinstance(version, str) or not version.strip():
            raise InvalidVersion(self.name, str(version), "empty")
        try:
            return self.parse(version.strip())
        except InvalidVersion:
            raise
        except Exception as exc:  # library parsers raise assorted errors
            raise InvalidVersion(self.name, version, str(exc) or type(exc).__name__) from None

    def parse(self, version: str) -> Any:
        """The key of an already stripped, non-empty version."""
        raise NotImplementedError

    def compare(self, a: str, b: str) -> int:
        """-1, 0 or 1 as ``a`` sorts before, equal to or after ``b``."""
        ka, kb = self.key(a), self.key(b)
        return (ka > kb) - (ka < kb)
