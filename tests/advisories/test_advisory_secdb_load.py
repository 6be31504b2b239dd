"""Alpine secdb conversion and offline loading of every supported file kind."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import pytest

from imagewatch.advisories import AdvisoryError, encode_json, is_affected, load_path
from imagewatch.ecosystems.alpine.secdb import AlpineSecdbSource
from imagewatch.advisories.sources import OSVSource
from imagewatch.versions import scheme_for

DATA = Path(__file__).parent / "data"


def test_secdb_becomes_one_advisory_per_cve_across_branches() -> None:
    advisories = {a.id: a for a in load_path(DATA / "secdb")}
    adv = advisories["CVE-2024-9143"]
    assert [a.package.ecosystem for a in adv.affected] == ["Alpine:v3.18", "Alpine:v3.19"]
    entry = adv.affected[1]
    assert entry.package.name == "openssl"
    assert entry.ranges[0].type == "ECOSYSTEM"
    assert [(e.introduced, e.fixed) for e in entry.ranges[0].events] == [("0", None), (None, "3.1.7-r1")]
    apk = scheme_for(entry.package.ecosystem)
    assert is_affected(entry, "3.1.7-r0", apk)
    assert not is_affected(entry, "3.1.7-r1", apk)


def test_secdb_zero_means_not_affected() -> None:
    advisories = {a.id: a for a in load_path(DATA / "secdb")}
    # listed under "0" for openssl and busybox, and nowhere else
    assert "CVE-2022-1292" not in advisories
    assert "CVE-2021-42373" not in advisories


def test_secdb_source_parses_its_own_directory_layout() -> None:
    ids = {a.id for a in AlpineSecdbSource().parse(DATA / "secdb")}
    assert "CVE-2024-9143" in ids and "CVE-2023-42363" in ids


def test_load_yaml_directory_recursively() -> None:
    ids = sorted(a.id for a in load_path(DATA / "osv-yaml"))
    assert ids == ["PYSEC-2019-133", "PYSEC-2020-148"]


def test_load_json_file_list_and_zip(tmp_path: Path) -> None:
    go = load_path(DATA / "GO-2023-1840.json")
    adv = next(iter(go))
    assert adv.id == "GO-2023-1840" and adv.aliases == ["CVE-2023-29403"]
    (tmp_path / "list.json").write_bytes(b"[" + encode_json(adv) + b"]")
    assert [a.id for a in load_path(tmp_path / "list.json")] == ["GO-2023-1840"]
    with zipfile.ZipFile(tmp_path / "all.zip", "w") as z:
        z.write(DATA / "GO-2023-1840.json", "GO-2023-1840.json")
    assert [a.id for a in load_path(tmp_path / "all.zip")] == ["GO-2023-1840"]
    assert [a.id for a in OSVSource("Go").parse(tmp_path / "all.zip")] == ["GO-2023-1840"]


def test_mixed_directory_skips_unrelated_json(tmp_path: Path) -> None:
    shutil.copytree(DATA / "secdb", tmp_path / "secdb")
    shutil.copy(DATA / "GO-2023-1840.json", tmp_path)
    (tmp_path / "package.json").write_text(json.dumps({"name": "not an advisory"}))
    ids = {a.id for a in load_path(tmp_path)}
    assert "GO-2023-1840" in ids and "CVE-2024-9143" in ids


def test_invalid_osv_record_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "bad.json").write_text(json.dumps({"id": "X-1", "affected": "nope"}))
    with pytest.raises(AdvisoryError, match="bad.json"):
        list(load_path(tmp_path))


def test_real_secdb_converts(tmp_path: Path) -> None:
    from .shared_data import shared

    advisories = list(load_path(shared("distro/alpine-secdb")))
    assert len(advisories) > 5000
    assert all(a.id and a.affected for a in advisories)
