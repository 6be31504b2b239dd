"""Check a layer's uncompressed stream against the diff_id its image config claims.

Per-layer results are cached by diff_id, and the diff_id comes from the image
config, which whoever pushes the image writes. ``DiffIdReader`` hashes every
uncompressed byte as the tar reader consumes it (the layer is read once), and
``finish`` reads what is left after the tar's end, then refuses the layer
(``LayerRefused("diff_id", ...)``) unless the hash equals the claim. Callers
write no result anywhere before ``finish`` returned.
"""

from __future__ import annotations

import hashlib
import re
from typing import BinaryIO

from imagewatch.layers.errors import LayerError, LayerRefused

_DIGEST = re.compile(r"(sha256|sha512):([0-9a-f]+)")
_HEX_LEN = {"sha256": 64, "sha512": 128}
DRAIN_CHUNK = 1024 * 1024


def parse_diff_id(diff_id: str) -> tuple[str, str]:
    """(algorithm, hex) of a diff_id; ``LayerRefused("diff_id")`` for one that cannot be checked."""
    match = _DIGEST.fullmatch(diff_id or "")
    if match is None or len(match.group(2)) != _HEX_LEN[match.group(1)]:
        raise LayerRefused("diff_id", f"diff_id {diff_id!r} is not a sha256 or sha512 digest; "
                                      "the layer cannot be verified")
    return match.group(1), match.group(2)


class DiffIdReader:
    """Wraps an uncompressed layer stream and hashes every byte read through it.

    ``read1`` makes one underlying read (as the tar reader wants); ``count`` is
    the number of bytes hashed so far.
    """

    def __init__(self, src: BinaryIO, diff_id: str) -> None:
        algorithm, self._want = parse_diff_id(diff_id)
        self.diff_id = diff_id
        self._src = src
        self._read1 = getattr(src, "read1", src.read)
        self._hash = hashlib.new(algorithm)
        self._algorithm = algorithm
        self.count = 0

    def _seen(self, data: bytes) -> bytes:
        self._hash.update(data)
        self.count += len(data)
        return data

    def read1(self, n: int = -1) -> bytes:
        """At most ``n`` bytes from one underlying read."""
        return self._seen(self._read1(n))

    def read(self, n: int = -1) -> bytes:
        """Up to ``n`` bytes (all when negative)."""
        return self._seen(self._src.read(n))

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        """Close the wrapped stream."""
        self._src.close()

    def finish(self, limit: int) -> None:
        """Read the rest of the stream (at most ``limit`` bytes in all), then compare with the claim.

        Bytes after the tar that do not decompress (trailing junk after the last
        gzip member or zstd frame) end the stream: the tool that computed the
        diff_id never saw them either. Raises ``LayerRefused``: ``layer_bytes``
        past the limit, ``diff_id`` on a mismatch.
        """
        while True:
            try:
                chunk = self.read1(DRAIN_CHUNK)
            except LayerError:
                raise
            except Exception:  # undecodable bytes after the tar: the stream ends here
                break
            if not chunk:
                break
            if self.count > limit:
                raise LayerRefused("layer_bytes", f"layer exceeds {limit} uncompressed bytes")
        got = self._hash.hexdigest()
        if got != self._want:
            raise LayerRefused(
                "diff_id", f"the layer's content hashes to {self._algorithm}:{got} but the image config "
                           f"claims diff_id {self.diff_id}; refusing a layer whose content does not match its claim")
