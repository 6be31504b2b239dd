"""A hostile ``rpmdb.sqlite``: its schema is the image's, so it is never trusted.

A ``VIEW Packages`` holding an endless recursive query used to hang the
worker thread for good. Now: ``Packages`` must be a table, the database is
opened read-only with ``trusted_schema`` off, and a deadline aborts any read;
the analyser error makes the layer's inventory partial instead of clean.
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from imagewatch.ecosystems.rpm.analyser import RpmAnalyser
from imagewatch.ecosystems.rpm.rpmdb import RpmDbError
from imagewatch.ecosystems.rpm.rpmdb import sqlite as rpm_sqlite
from imagewatch.inventory.analysis import _run

REAL = Path(__file__).resolve().parents[1] / "ecosystems" / "data" / "rpmdb.sqlite"
ENDLESS = ("CREATE VIEW Packages AS WITH RECURSIVE n(hnum, blob) AS (SELECT 1, x'00' UNION ALL "
           "SELECT hnum + 1, blob FROM n) SELECT hnum, blob FROM n")


def _db(path: Path, *statements: str) -> Path:
    conn = sqlite3.connect(path)
    for statement in statements:
        conn.execute(statement)
    conn.commit()
    conn.close()
    return path


def test_endless_view_is_refused_without_running_it(tmp_path):
    db = _db(tmp_path / "rpmdb.sqlite", ENDLESS)
    with pytest.raises(RpmDbError, match="Packages is view, not a table"):
        list(rpm_sqlite.iter_blobs(db))


def test_analyser_records_the_error_so_the_layer_is_partial(tmp_path):
    db = _db(tmp_path / "rpmdb.sqlite", ENDLESS)
    result = _run(RpmAnalyser(), {"var/lib/rpm/rpmdb.sqlite": db})
    assert result.packages == [] and "Packages is view, not a table" in result.error


def test_missing_packages_table_is_an_error_not_an_empty_inventory(tmp_path):
    db = _db(tmp_path / "rpmdb.sqlite", "CREATE TABLE Other (x)")
    with pytest.raises(RpmDbError, match="Packages is missing"):
        list(rpm_sqlite.iter_blobs(db))


def test_a_read_past_the_deadline_is_aborted(tmp_path):
    db = _db(tmp_path / "rpmdb.sqlite", "CREATE TABLE Packages (hnum INTEGER PRIMARY KEY, blob BLOB)",
             "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 200000) "
             "INSERT INTO Packages SELECT i, zeroblob(20) FROM n")
    with pytest.raises(RpmDbError, match="took over 0s; gave up"):
        list(rpm_sqlite.iter_blobs(db, timeout=0))


def test_the_database_is_never_written(tmp_path):
    db = shutil.copy(REAL, tmp_path / "rpmdb.sqlite")
    before = Path(db).read_bytes()
    assert len(list(rpm_sqlite.iter_blobs(Path(db)))) > 0  # a real database still reads
    assert Path(db).read_bytes() == before
    assert not list(tmp_path.glob("rpmdb.sqlite-*"))  # no journal, no wal
