"""Content digests (``sha256:<hex>``, ``sha512:<hex>``): compute and verify."""

from __future__ import annotations

import hashlib

from imagewatch.oci.errors import DigestMismatch, InvalidReference

_ALGORITHMS = {"sha256": 64, "sha512": 128}


def digest_of(data: bytes, algorithm: str = "sha256") -> str:
    """The digest of ``data`` as ``algorithm:hex``."""
    return f"{algorithm}:{hashlib.new(algorithm, data).hexdigest()}"


class Verifier:
    """Hashes streamed chunks with the algorithm named by ``expected``."""

    def __init__(self, expected: str) -> None:
        algorithm, _, hexpart = expected.partition(":")
        if _ALGORITHMS.get(algorithm) != len(hexpart):
            raise InvalidReference(f"unsupported or malformed digest {expected!r}")
        self.expected = expected
        self._hash = hashlib.new(algorithm)

    def update(self, chunk: bytes) -> None:
        """Feed the next chunk."""
        self._hash.update(chunk)

    @property
    def actual(self) -> str:
        """The digest of what was fed so far."""
        return f"{self._hash.name}:{self._hash.hexdigest()}"

    def verify(self, what: str) -> None:
        """Raise DigestMismatch naming ``what`` when the content differs."""
        if self.actual != self.expected:
            raise DigestMismatch(what, self.expected, self.actual)


def verify_bytes(what: str, data: bytes, expected: str) -> None:
    """Raise DigestMismatch when ``data`` does not hash to ``expected``."""
    verifier = Verifier(expected)
    verifier.update(data)
    verifier.verify(what)
