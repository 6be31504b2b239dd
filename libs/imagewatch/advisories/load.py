"""Offline import: advisories and severity/exploitation data from files and directories, whatever their kind.

Recognised by content: OSV JSON files (one advisory, or a list of them; GHSA
files are OSV), OSV YAML files, OSV zip exports, Alpine secdb JSON files
(merged across all the files given, so one CVE fixed on several branches is
one advisory), the Debian security tracker JSON (converted to OSV records),
CVE JSON 5 records (cvelistV5, CISA vulnrichment) and NVD API 2.0 answers
(``CveRecordFile``: CVSS ratings), the CISA KEV catalog (``KevCatalog``) and
EPSS CSV files, plain or gzip (``EpssFile``). Directories are walked
recursively; files of no known kind are skipped.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Iterable, Iterator

import yaml

from imagewatch.advisories.cverecord import CveRecordFile, ratings_of
from imagewatch.advisories.model import Advisory, AdvisoryError, decode_json, from_dict
from imagewatch.ecosystems.alpine.secdb import convert, is_secdb
from imagewatch.ecosystems.debian import tracker
from imagewatch.advisories.sources.osv import iter_zip
from imagewatch.signals.epss import EpssFile, is_epss, parse_epss
from imagewatch.signals.eol import EolCatalog, is_eol_product, is_eol_summary, parse_product, parse_summary
from imagewatch.signals.kev import KevCatalog, is_kev, parse_kev

Record = Advisory | CveRecordFile | KevCatalog | EpssFile | EolCatalog
"""One item of an import: an advisory, the CVE ratings of one file, a KEV catalog, EPSS scores, or EOL dates."""

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _files(path: Path) -> Iterator[Path]:
    if not path.is_dir():
        yield path
        return
    for root, dirs, names in os.walk(path):
        dirs.sort()
        for name in sorted(names):
            yield Path(root) / name


def _other_json(data: bytes) -> Any:
    """The parsed document when its head says it is one of the non-OSV kinds, else None."""
    head = data[:65536]
    if any(m in head for m in (b'"CVE_RECORD"', b'"NVD_CVE"', b'"catalogVersion"', b'"releases"')):
        try:
            return json.loads(data)
        except ValueError:
            return None
    return None


def _from_json(data: bytes, origin: str, secdb: list[dict[str, Any]]) -> Iterator[Record]:
    if b'"distroversion"' in data[:4096] or b'"packages"' in data[:4096]:
        doc = json.loads(data)
        if is_secdb(doc):
            secdb.append(doc)
            return
    doc = _other_json(data)
    if doc is not None:
        ratings = ratings_of(doc)
        if ratings is not None:
            yield from ratings
            return
        if is_kev(doc):
            yield parse_kev(doc)
            return
        if is_eol_summary(doc):
            yield parse_summary(doc)
            return
        if tracker.is_tracker(doc):
            yield from tracker.convert(doc)
            return
    try:
        yield decode_json(data, origin)
        return
    except AdvisoryError:
        doc = json.loads(data)
    if isinstance(doc, list):
        for i, item in enumerate(doc):
            if isinstance(item, dict) and "id" in item:
                yield from_dict(item, f"{origin}[{i}]")
    elif isinstance(doc, dict) and "id" in doc:
        raise AdvisoryError(f"advisories.load: {origin}: not a valid OSV record")


def load_records(paths: Iterable[str | Path]) -> Iterator[Record]:
    """Every record under each path (file or directory), detecting each file's kind.

    Alpine secdb files are merged across all the paths. Raises AdvisoryError
    for a file that claims to be OSV but does not validate, FileNotFoundError
    for a missing path.
    """
    secdb: list[dict[str, Any]] = []
    for path in map(Path, paths):
        if not path.exists():
            raise FileNotFoundError(f"advisories.load: no such path: {path}")
        for f in _files(path):
            suffix = f.suffix.lower()
            if suffix == ".zip":
                yield from iter_zip(f, str(f))
            elif suffix == ".json":
                yield from _from_json(f.read_bytes(), str(f), secdb)
            elif suffix in (".yaml", ".yml"):
                doc = yaml.load(f.read_bytes(), Loader=_Loader)
                if isinstance(doc, dict) and "id" in doc:
                    yield from_dict(doc, str(f))
                elif is_eol_product(doc):
                    yield parse_product(doc, f.stem)
            elif suffix in (".csv", ".gz") and is_epss(f):
                yield parse_epss(f)
    if secdb:
        yield from convert(secdb)


def load_path(path: str | Path) -> Iterator[Advisory]:
    """Every advisory under ``path`` (file or directory); other kinds of record are skipped.

    Raises AdvisoryError for a file that claims to be OSV but does not validate,
    FileNotFoundError for a missing path.
    """
    for record in load_records([path]):
        if isinstance(record, Advisory):
            yield record
