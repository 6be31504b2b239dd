"""Read-only readers for the three rpm database formats and the header blobs they hold.

Each reader yields raw header blobs; ``header.parse_header`` turns one into
an ``RpmHeader``. Nothing here writes, locks or links against librpm.
"""

from __future__ import annotations
from imagewatch.errors import ImagewatchError


class RpmDbError(ImagewatchError, ValueError):
    """An rpm database or header blob is malformed; the message starts with ``rpmdb:``."""
