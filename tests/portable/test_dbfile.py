"""``imagewatch db export``: the store as one SQLite file that matches exactly like the store.

Real advisories (Debian slice, GHSA, PyPA, Alpine secdb, a withdrawn record)
go into PostgreSQL; the file exported from it must give the same findings for
the same packages, carry its metadata, and refuse to open once tampered with,
truncated, of another schema or not a database at all.
"""

from __future__ import annotations

import shutil
import sqlite3

import msgspec
import pytest

from imagewatch.cli.main import main
from imagewatch.matcher.matching import match_packages
from imagewatch.portable.export import export_db
from imagewatch.store.advisories import PgAdvisories
from imagewatch.store.db import connect_pool
from imagewatch.store.dbfile import SCHEMA_VERSION, DbFile, DbFileError
from imagewatch.updater.sync import import_paths

from .helpers import ALPINE, DEBIAN, SHARED, WITHDRAWN, advisory_paths, alpine_packages, debian_packages, python_packages

pytestmark = pytest.mark.skipif(not SHARED.is_dir(), reason="shared/data (real advisories) is not beside the checkout")


def _key(findings) -> list:
    return sorted(msgspec.json.encode(f) for f in findings)


@pytest.fixture
async def store(pg_dsn):
    pool = await connect_pool(pg_dsn, 1, 2)
    await import_paths(pool, advisory_paths())
    yield pool
    await pool.close()


async def test_file_and_store_give_identical_findings(store, tmp_path):
    meta = await export_db(store, tmp_path / "iw.db")
    with DbFile.open(tmp_path / "iw.db") as db:
        assert db.meta == meta
        for packages, os in ((debian_packages(), DEBIAN), (python_packages(), None), (alpine_packages(), ALPINE)):
            server = await match_packages(store, packages, os)
            offline = await match_packages(db, packages, os)
            assert server and _key(server) == _key(offline)
        # the withdrawn record is exported but never matches, by either path
        assert not [f for f in await match_packages(db, python_packages(), None) if f.advisory_id == "PYSEC-2023-73"]
        assert db._conn.execute("SELECT withdrawn FROM advisories WHERE id = 'PYSEC-2023-73'").fetchone()[0]
        # borrowed severities: PYSEC records have none and take the GHSA one through an alias
        ids = [i for f in await match_packages(store, python_packages(), None) for i in f.ids]
        assert await db.known_severities(ids) == await PgAdvisories(store).known_severities(ids)


async def test_metadata_counts_and_sources(store, tmp_path):
    meta = await export_db(store, tmp_path / "iw.db")
    live = await store.fetchval("SELECT count(*) FROM advisories")
    assert meta.schema_version == SCHEMA_VERSION and meta.counts["advisories"] == live
    assert meta.counts["advisory_packages"] == await store.fetchval("SELECT count(*) FROM advisory_packages")
    assert meta.counts["advisory_severities"] == await store.fetchval("SELECT count(*) FROM advisory_severities")
    names = {s.name for s in meta.sources}
    assert {"alpine-secdb", "osv:PyPI"} <= names and meta.built_at.endswith("Z")
    assert len(meta.content_sha256) == 64 and WITHDRAWN.exists()


async def test_tampered_truncated_foreign_and_future_files_are_refused(store, tmp_path):
    good = tmp_path / "iw.db"
    await export_db(store, good)

    tampered = tmp_path / "tampered.db"
    shutil.copy(good, tampered)
    with sqlite3.connect(tampered) as conn:
        conn.execute("UPDATE advisories SET doc = replace(doc, 'fixed', 'fixxed') WHERE id LIKE 'GHSA-%'")
    with pytest.raises(DbFileError, match="does not match its recorded sha256"):
        DbFile.open(tampered)

    dropped = tmp_path / "dropped.db"
    shutil.copy(good, dropped)
    with sqlite3.connect(dropped) as conn:
        conn.execute("DELETE FROM advisory_packages WHERE name = 'django'")
    with pytest.raises(DbFileError, match="does not match"):
        DbFile.open(dropped)

    truncated = tmp_path / "truncated.db"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(DbFileError, match="damaged or truncated|not an imagewatch database"):
        DbFile.open(truncated)

    future = tmp_path / "future.db"
    shutil.copy(good, future)
    with sqlite3.connect(future) as conn:
        conn.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    with pytest.raises(DbFileError, match="schema version 99, this imagewatch reads 1"):
        DbFile.open(future)

    foreign = tmp_path / "foreign.db"
    foreign.write_text("not a database\n" * 100)
    with pytest.raises(DbFileError, match="not SQLite"):
        DbFile.open(foreign)
    with pytest.raises(DbFileError, match="no such file"):
        DbFile.open(tmp_path / "missing.db")


def test_db_export_command(monkeypatch, pg_dsn, tmp_path, capsys):
    monkeypatch.setenv("IMAGEWATCH_DATABASE_URL", pg_dsn)
    monkeypatch.setenv("IMAGEWATCH_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("IMAGEWATCH_NATS_URL", raising=False)
    assert main(["db", "import", str(advisory_paths()[-1])]) == 0
    capsys.readouterr()
    assert main(["db", "export", str(tmp_path / "out.db")]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"{tmp_path / 'out.db'}: schema 1, built ") and "1 sources" in out
    assert DbFile.open(tmp_path / "out.db").meta.counts["advisories"] > 50
    assert main(["db", "export", str(tmp_path / "no" / "dir" / "out.db")]) == 1
    assert "export failed" in capsys.readouterr().err
