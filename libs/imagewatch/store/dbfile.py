"""The portable advisory database: one SQLite file that ``imagewatch scan`` reads with no server.

``write_dbfile`` fills a new file from the rows ``store.advisories.export_rows``
yields (every advisory of every source, withdrawn ones too, the
(ecosystem, name) index, the severities under every id and alias, the
sources); ``DbFile.open`` reads one back as an ``AdvisoryLookup``.

Layout (schema version ``SCHEMA_VERSION``)::

    meta                (key, value)   schema_version, built_at, generator, counts, sources, content_sha256
    advisories          (id, source, modified, withdrawn, doc)     doc: the OSV JSON as stored
    advisory_packages   (ecosystem, name, advisory_id)             live advisories only
    advisory_severities (vuln_id, advisory_id, score, rating)
    advisory_sources    (name, fingerprint, last_sync, records)

Integrity: ``content_sha256`` is the SHA-256 of every row of the four data
tables, in primary-key order, each row MessagePack-encoded. ``DbFile.open``
recomputes it and refuses a file whose content differs (tampered), that SQLite
cannot read (truncated, damaged, not a database), or whose schema version it
does not know. A file is written under ``<name>.part`` and renamed when
complete, so a reader never sees half of one.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import sqlite3
from collections.abc import AsyncIterable, Iterable
from pathlib import Path
from typing import Any

import msgspec

from imagewatch.advisories.borrowed import Known
from imagewatch.advisories.model import Advisory
from imagewatch.advisories.names import normalise_name
from imagewatch.errors import ImagewatchError
from imagewatch.versions import base_ecosystem

SCHEMA_VERSION = 1
FILE_NAME = "imagewatch.db"
_HEADER = b"SQLite format 3\x00"
_CHUNK = 500  # names per query, well under SQLite's bound-parameter limit
_DECODER = msgspec.json.Decoder(Advisory)

_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE advisories (id TEXT PRIMARY KEY, source TEXT NOT NULL, modified TEXT NOT NULL,
                         withdrawn TEXT NOT NULL, doc BLOB NOT NULL) WITHOUT ROWID;
CREATE TABLE advisory_packages (ecosystem TEXT NOT NULL, name TEXT NOT NULL, advisory_id TEXT NOT NULL,
                                PRIMARY KEY (ecosystem, name, advisory_id)) WITHOUT ROWID;
CREATE TABLE advisory_severities (vuln_id TEXT NOT NULL, advisory_id TEXT NOT NULL, score REAL,
                                  rating TEXT NOT NULL, PRIMARY KEY (vuln_id, advisory_id)) WITHOUT ROWID;
CREATE TABLE advisory_sources (name TEXT PRIMARY KEY, fingerprint TEXT NOT NULL, last_sync TEXT NOT NULL,
                               records INTEGER NOT NULL) WITHOUT ROWID;
"""

# Table → (columns in file order, ORDER BY of the content digest).
_TABLES: dict[str, tuple[str, str]] = {
    "advisories": ("id, source, modified, withdrawn, doc", "id"),
    "advisory_packages": ("ecosystem, name, advisory_id", "ecosystem, name, advisory_id"),
    "advisory_severities": ("vuln_id, advisory_id, score, rating", "vuln_id, advisory_id"),
    "advisory_sources": ("name, fingerprint, last_sync, records", "name"),
}


class DbFileError(ImagewatchError, ValueError):
    """dbfile: a portable database we cannot use (missing, damaged, tampered, other schema)."""


class SourceInfo(msgspec.Struct, kw_only=True):
    """One advisory source as recorded in the file."""

    name: str
    fingerprint: str
    last_sync: str
    records: int


class DbMeta(msgspec.Struct, kw_only=True):
    """What a database file says about itself."""

    schema_version: int
    built_at: str
    generator: str
    content_sha256: str
    counts: dict[str, int]
    sources: list[SourceInfo]

    @property
    def version(self) -> str:
        """A one-line description: schema, build time, advisory count, content digest prefix."""
        return (f"schema {self.schema_version}, built {self.built_at}, "
                f"{self.counts.get('advisories', 0)} advisories, sha256:{self.content_sha256[:12]}")


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.timezone.utc).isoformat().replace("+00:00", "Z")
    return str(value)


def _file_rows(table: str, rows: Iterable[tuple]) -> list[tuple]:
    """Rows as ``export_rows`` yields them, in the file's column order and types."""
    if table == "advisories":
        return [(i, s, _text(m), _text(w), d.encode() if isinstance(d, str) else bytes(d)) for i, s, m, w, d in rows]
    if table == "advisory_packages":
        return [(e, n, a) for a, e, n in rows]
    if table == "advisory_severities":
        return [(v, a, s, r) for a, v, s, r in rows]
    return [(n, f or "", _text(t), int(r or 0)) for n, f, t, r in rows]


def content_digest(conn: sqlite3.Connection) -> tuple[str, dict[str, int]]:
    """(hex SHA-256 of the data tables' rows in key order, row count per table)."""
    digest, counts = hashlib.sha256(), {}
    encode = msgspec.msgpack.encode
    for table, (columns, order) in _TABLES.items():
        digest.update(table.encode() + b"\x00")
        n = 0
        for row in conn.execute(f"SELECT {columns} FROM {table} ORDER BY {order}"):  # noqa: S608 - fixed names
            digest.update(encode(row))
            n += 1
        counts[table] = n
    return digest.hexdigest(), counts


async def write_dbfile(path: str | os.PathLike[str], rows: AsyncIterable[tuple[str, list[tuple]]],
                       *, generator: str = "", built_at: dt.datetime | None = None) -> DbMeta:
    """Write a new database file at ``path`` from ``(table, rows)`` batches; returns its metadata.

    The file appears at ``path`` only once complete (written as ``<path>.part``,
    then renamed); an existing file there is replaced.
    """
    target = Path(path)
    partial = target.with_name(target.name + ".part")
    if not target.parent.is_dir():
        raise DbFileError(f"dbfile: cannot write {target}: directory {target.parent} does not exist")
    partial.unlink(missing_ok=True)
    try:
        conn = sqlite3.connect(partial)
    except sqlite3.Error as exc:
        raise DbFileError(f"dbfile: cannot write {target}: {exc}") from None
    try:
        conn.execute("PRAGMA journal_mode = OFF")
        conn.execute("PRAGMA synchronous = OFF")
        conn.executescript(_SCHEMA)
        async for table, batch in rows:
            columns = _TABLES[table][0]
            marks = ", ".join("?" * (columns.count(",") + 1))
            conn.executemany(f"INSERT OR IGNORE INTO {table} ({columns}) VALUES ({marks})",  # noqa: S608
                             _file_rows(table, batch))
        sha, counts = content_digest(conn)
        sources = [SourceInfo(name=n, fingerprint=f, last_sync=t, records=r) for n, f, t, r in
                   conn.execute("SELECT name, fingerprint, last_sync, records FROM advisory_sources ORDER BY name")]
        meta = DbMeta(schema_version=SCHEMA_VERSION,
                      built_at=_text(built_at or dt.datetime.now(dt.timezone.utc).replace(microsecond=0)),
                      generator=generator, content_sha256=sha, counts=counts, sources=sources)
        conn.executemany("INSERT INTO meta (key, value) VALUES (?, ?)", _meta_rows(meta))
        conn.commit()
        conn.execute("VACUUM")
    except BaseException:
        conn.close()
        partial.unlink(missing_ok=True)
        raise
    conn.close()
    os.replace(partial, target)
    return meta


def _meta_rows(meta: DbMeta) -> list[tuple[str, str]]:
    doc = msgspec.to_builtins(meta)
    return [(k, json.dumps(v)) for k, v in doc.items()]


def read_meta(conn: sqlite3.Connection, where: str) -> DbMeta:
    """The ``meta`` table as ``DbMeta``; raises ``DbFileError`` when missing or of another schema."""
    try:
        raw = {k: json.loads(v) for k, v in conn.execute("SELECT key, value FROM meta")}
    except (sqlite3.DatabaseError, ValueError) as exc:
        raise DbFileError(f"dbfile: {where} is not an imagewatch database ({exc})") from None
    version = raw.get("schema_version")
    if version != SCHEMA_VERSION:
        raise DbFileError(f"dbfile: {where} has schema version {version}, this imagewatch reads "
                          f"{SCHEMA_VERSION}: use a matching imagewatch or export the database again")
    try:
        return msgspec.convert(raw, DbMeta)
    except msgspec.ValidationError as exc:
        raise DbFileError(f"dbfile: {where}: bad metadata: {exc}") from None


class DbFile:
    """An opened, verified database file; an ``AdvisoryLookup`` (see ``imagewatch.advisories.lookup``)."""

    def __init__(self, conn: sqlite3.Connection, meta: DbMeta, path: Path) -> None:
        self._conn, self.meta, self.path = conn, meta, path
        self._decoded: dict[str, Advisory] = {}

    @classmethod
    def open(cls, path: str | os.PathLike[str], *, verify: bool = True) -> DbFile:
        """Open ``path`` read-only and check it; raises ``DbFileError`` naming what is wrong.

        ``verify`` recomputes the content digest (the default; only a caller
        that has just verified the same file leaves it out).
        """
        where = Path(path)
        try:
            with open(where, "rb") as f:
                header = f.read(len(_HEADER))
        except FileNotFoundError:
            raise DbFileError(f"dbfile: {where}: no such file") from None
        except OSError as exc:
            raise DbFileError(f"dbfile: {where}: {exc.strerror}") from None
        if header != _HEADER:
            raise DbFileError(f"dbfile: {where} is not an imagewatch database (not SQLite)")
        conn = sqlite3.connect(f"{where.resolve().as_uri()}?mode=ro", uri=True, check_same_thread=False)
        try:
            meta = read_meta(conn, str(where))
            if verify:
                try:
                    sha, counts = content_digest(conn)
                except sqlite3.DatabaseError as exc:
                    raise DbFileError(f"dbfile: {where} is damaged or truncated ({exc}); "
                                      "export or pull it again") from None
                if sha != meta.content_sha256 or counts != meta.counts:
                    raise DbFileError(f"dbfile: {where}: content does not match its recorded sha256 "
                                      "(tampered or damaged); export or pull it again")
        except BaseException:
            conn.close()
            raise
        return cls(conn, meta, where)

    def close(self) -> None:
        """Close the file."""
        self._conn.close()

    def __enter__(self) -> DbFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def advisories_for(self, ecosystem: str, names: Iterable[str]) -> dict[str, list[Advisory]]:
        """Live advisories naming each of ``names`` in ``ecosystem`` or its base (``AdvisoryLookup``)."""
        wanted: dict[str, list[str]] = {}
        for name in names:
            wanted.setdefault(normalise_name(ecosystem, name), []).append(name)
        ecosystems = list(dict.fromkeys([ecosystem, base_ecosystem(ecosystem)]))
        by_name: dict[str, dict[str, None]] = {}
        keys = list(wanted)
        for start in range(0, len(keys), _CHUNK):
            chunk = keys[start:start + _CHUNK]
            sql = ("SELECT DISTINCT p.name, p.advisory_id FROM advisory_packages p"
                   f" WHERE p.ecosystem IN ({', '.join('?' * len(ecosystems))})"
                   f" AND p.name IN ({', '.join('?' * len(chunk))})")
            for name, adv_id in self._conn.execute(sql, [*ecosystems, *chunk]):
                by_name.setdefault(name, {})[adv_id] = None
        self._decode({i for ids in by_name.values() for i in ids})
        out: dict[str, list[Advisory]] = {}
        for name, ids in by_name.items():
            found = [self._decoded[i] for i in sorted(ids) if i in self._decoded]
            for original in wanted[name]:
                out.setdefault(original, []).extend(found)
        return out

    def _decode(self, ids: set[str]) -> None:
        missing = sorted(ids - self._decoded.keys())
        for start in range(0, len(missing), _CHUNK):
            chunk = missing[start:start + _CHUNK]
            sql = (f"SELECT id, doc FROM advisories WHERE id IN ({', '.join('?' * len(chunk))})"  # noqa: S608
                   " AND withdrawn = ''")
            for adv_id, doc in self._conn.execute(sql, chunk):
                self._decoded[adv_id] = _DECODER.decode(doc)

    async def known_severities(self, vuln_ids: Iterable[str]) -> dict[str, list[Known]]:
        """(advisory id, score, rating) per vulnerability id (``AdvisoryLookup``)."""
        wanted = list(dict.fromkeys(vuln_ids))
        out: dict[str, list[Known]] = {}
        for start in range(0, len(wanted), _CHUNK):
            chunk = wanted[start:start + _CHUNK]
            sql = ("SELECT vuln_id, advisory_id, score, rating FROM advisory_severities"  # noqa: S608
                   f" WHERE vuln_id IN ({', '.join('?' * len(chunk))}) ORDER BY vuln_id, advisory_id")
            for vuln_id, adv_id, score, rating in self._conn.execute(sql, chunk):
                out.setdefault(vuln_id, []).append((adv_id, score, rating))
        return out

    async def cve_ratings(self, vuln_ids: Iterable[str]) -> dict[str, list[tuple[str, float | None, str]]]:
        """None: the file carries advisories and their own severities, not CVE records (``AdvisoryLookup``)."""
        return {}

    def has_advisories(self) -> bool:
        """Whether the file holds at least one advisory."""
        return self.meta.counts.get("advisories", 0) > 0
