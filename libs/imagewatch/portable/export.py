"""``imagewatch db export FILE``: the advisory store as one portable database file."""

from __future__ import annotations

import os
from typing import Any

from imagewatch import __version__
from imagewatch.store.advisories import export_rows
from imagewatch.store.dbfile import DbMeta, write_dbfile


async def export_db(conn: Any, path: str | os.PathLike[str]) -> DbMeta:
    """Write every advisory ``conn`` (pool or connection) holds to the file ``path``; returns its metadata."""
    return await write_dbfile(path, export_rows(conn), generator=f"imagewatch {__version__}")
