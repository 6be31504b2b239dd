"""rpm's sqlite backend (``rpmdb.sqlite``: Fedora 33+, RHEL 9): the ``Packages`` table.

The database comes from the image, so its schema is hostile: it is opened
read-only and immutable, with ``trusted_schema`` off (no schema-defined SQL
functions or virtual tables run), ``Packages`` must be a plain table (a view
could hold an endless recursive query), and a progress handler aborts any
statement that runs past ``DEADLINE`` seconds.
"""

from __future__ import annotations

import sqlite3
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

from imagewatch.ecosystems.rpm.rpmdb import RpmDbError

DEADLINE = 30.0  # seconds for the whole read
PROGRESS_STEPS = 10_000  # virtual machine instructions between deadline checks


def _connect(path: Path, deadline: float) -> sqlite3.Connection:
    uri = f"file:{urllib.parse.quote(str(path))}?mode=ro&immutable=1"
    try:
        conn = sqlite3.connect(uri, uri=True)
    except sqlite3.Error as exc:
        raise RpmDbError(f"rpmdb: cannot open sqlite database: {exc}") from exc
    conn.set_progress_handler(lambda: 1 if time.monotonic() > deadline else 0, PROGRESS_STEPS)
    try:
        conn.execute("PRAGMA trusted_schema = OFF")
        conn.execute("PRAGMA query_only = ON")
    except sqlite3.Error as exc:
        conn.close()
        raise RpmDbError(f"rpmdb: cannot open sqlite database: {exc}") from exc
    return conn


def iter_blobs(path: Path, timeout: float = DEADLINE) -> Iterator[bytes]:
    """Header blobs from an rpmdb.sqlite, opened read-only and immutable (no journal, no lock).

    Raises ``RpmDbError`` when ``Packages`` is not a table, when the database is
    unreadable, and when reading takes longer than ``timeout`` seconds.
    """
    deadline = time.monotonic() + timeout
    conn = _connect(path, deadline)
    try:
        kinds = [row[0] for row in conn.execute(
            "SELECT type FROM sqlite_master WHERE name = 'Packages' COLLATE NOCASE")]
        if kinds != ["table"]:
            raise RpmDbError(f"rpmdb: Packages is {' and '.join(kinds) or 'missing'}, not a table; "
                             "refusing to query the image's own schema")
        for (blob,) in conn.execute("SELECT blob FROM main.Packages ORDER BY hnum"):
            if isinstance(blob, bytes):
                yield blob
    except sqlite3.OperationalError as exc:
        if time.monotonic() > deadline:
            raise RpmDbError(f"rpmdb: reading the sqlite Packages table took over {timeout:g}s; gave up") from exc
        raise RpmDbError(f"rpmdb: cannot read sqlite Packages table: {exc}") from exc
    except sqlite3.Error as exc:
        raise RpmDbError(f"rpmdb: cannot read sqlite Packages table: {exc}") from exc
    finally:
        conn.close()
