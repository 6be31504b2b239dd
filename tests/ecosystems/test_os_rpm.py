"""rpm analyser on real sqlite and BerkeleyDB rpm databases, and an NDB file built from real headers.

Debian's rpm has no NDB backend, so the NDB file here is written by the test
from the header blobs of the real sqlite fixture, following the layout of
rpm's lib/backend/ndb/rpmpkg.c (see data/README.md).
"""

import shutil
import sqlite3
import struct
from pathlib import Path

import pytest

from imagewatch.ecosystems.rpm.analyser import RpmAnalyser, iter_headers
from imagewatch.ecosystems.rpm.rpmdb import RpmDbError
from imagewatch.ecosystems.rpm.rpmdb.header import parse_header, source_name_version

DATA = Path(__file__).parent / "data"


def _blobs() -> list[bytes]:
    conn = sqlite3.connect(f"file:{DATA / 'rpmdb.sqlite'}?mode=ro&immutable=1", uri=True)
    try:
        return [bytes(b) for (b,) in conn.execute("SELECT blob FROM Packages ORDER BY hnum")]
    finally:
        conn.close()


def _write_ndb(path: Path, blobs: list[bytes]) -> None:
    slots = bytearray(b"Slot" + bytes(12)) * (4096 // 16)
    body = bytearray()
    blk = 4096 // 16  # blobs start after the single slot page
    for i, blob in enumerate(blobs, start=1):
        size = 16 + len(blob) + 12
        blkcnt = (size + 15) // 16
        struct.pack_into("<4sIII", slots, 32 + 16 * (i - 1), b"Slot", i, blk, blkcnt)
        chunk = struct.pack("<4sIII", b"BlbS", i, 1, len(blob)) + blob
        chunk += bytes(blkcnt * 16 - 12 - len(chunk)) + struct.pack("<II4s", 0, len(blob), b"BlbE")
        body += chunk
        blk += blkcnt
    struct.pack_into("<4sIIII", slots, 0, b"RpmP", 0, 1, 1, len(blobs) + 1)
    path.write_bytes(bytes(slots) + bytes(body))


def _check(pkgs, path):
    by_name = {p.name: p for p in pkgs}
    assert set(by_name) == {"hello", "hello-libs"}
    hello = by_name["hello"]
    assert (hello.version, hello.epoch, hello.arch, hello.source_name, hello.source_version) == (
        "1.0-3.el9", 2, "noarch", "hello", "1.0-3.el9")
    assert by_name["hello-libs"].source_name == "hello"
    assert hello.licenses == ["MIT"] and hello.kind == "os" and hello.path == path


def test_wants_known_locations_only():
    a = RpmAnalyser()
    for p in ("var/lib/rpm/rpmdb.sqlite", "var/lib/rpm/Packages", "usr/lib/sysimage/rpm/Packages.db"):
        assert a.wants(p, 1)
    assert not a.wants("var/lib/rpm/Name", 1) and not a.wants("tmp/var/lib/rpm/Packages", 1)


def test_sqlite_backend():
    path = "var/lib/rpm/rpmdb.sqlite"
    pkgs, owned = RpmAnalyser().analyse_with_owners({path: DATA / "rpmdb.sqlite"})
    _check(pkgs, path)
    assert owned[path]["hello"] == [
        "usr/lib/python3.9/site-packages/hello-1.0.dist-info/METADATA", "usr/share/hello/hello.txt"]
    assert len(owned[path]["hello-libs"]) == 41


def test_berkeleydb_backend_with_overflow_pages():
    path = "var/lib/rpm/Packages"
    pkgs = RpmAnalyser().analyse({path: DATA / "Packages"})
    _check(pkgs, path)


def test_ndb_backend(tmp_path):
    _write_ndb(tmp_path / "Packages.db", _blobs())
    path = "usr/lib/sysimage/rpm/Packages.db"
    _check(RpmAnalyser().analyse({path: tmp_path / "Packages.db"}), path)


def test_format_chosen_by_content_not_name(tmp_path):
    shutil.copy(DATA / "rpmdb.sqlite", tmp_path / "Packages")
    assert {h.name for h in iter_headers(tmp_path / "Packages")} == {"hello", "hello-libs"}


def test_malformed_inputs_raise_rpmdb_errors(tmp_path):
    (tmp_path / "Packages").write_bytes(b"\0" * 4096)
    with pytest.raises(RpmDbError, match="^rpmdb:"):
        list(iter_headers(tmp_path / "Packages"))
    blob = _blobs()[0]
    with pytest.raises(RpmDbError):
        parse_header(blob[:40])
    with pytest.raises(RpmDbError):
        parse_header(struct.pack(">II", 1 << 30, 0) + blob[8:])


def test_source_rpm_names():
    assert source_name_version("openssl-3.0.7-27.el9.src.rpm") == ("openssl", "3.0.7-27.el9")
    assert source_name_version("python3.11-3.11.5-1.el9_3.src.rpm") == ("python3.11", "3.11.5-1.el9_3")
    assert source_name_version("") == ("", "")
