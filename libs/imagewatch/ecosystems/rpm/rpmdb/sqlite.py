"""rpm's sqlite backend (``rpmdb.sqlite``: Fedora 33+, RHEL 9): the ``Packages`` table."""

from __future__ import annotations

import sqlite3
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

from imagewatch.ecosystems.rpm.rpmdb import RpmDbError


def iter_blobs(path: Path) -> Iterator[bytes]:
    """Header blobs from an rpmdb.sqlite, opened read-only and immutable (no journal, no lock)."""
    uri = f"file:{urllib.parse.quote(str(path))}?mode=ro&immutable=1"
    try:
        conn = sqlite3.connect(uri, uri=True)
    except sqlite3.Error as exc:
        raise RpmDbError(f"rpmdb: cannot open sqlite database: {exc}") from exc
    try:
        for (blob,) in conn.execute("SELECT blob FROM Packages ORDER BY hnum"):
            if isinstance(blob, bytes):
                yield blob
    except sqlite3.Error as exc:
        raise RpmDbError(f"rpmdb: cannot read sqlite Packages table: {exc}") from exc
    finally:
        conn.close()
