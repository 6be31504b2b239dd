"""Offline import: advisories from files and directories, whatever their kind.

Recognised: OSV JSON files (one advisory, or a list of them), OSV YAML files,
OSV zip exports, and Alpine secdb JSON files (merged across all the files given,
so one CVE fixed on several branches is one advisory). Directories are walked
recursively; JSON files that are neither OSV nor secdb are skipped.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Iterator

import yaml

from imagewatch.advisories.model import Advisory, AdvisoryError, decode_json, from_dict
from imagewatch.ecosystems.alpine.secdb import convert, is_secdb
from imagewatch.advisories.sources.osv import iter_zip

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _files(path: Path) -> Iterator[Path]:
    if not path.is_dir():
        yield path
        return
    for root, dirs, names in os.walk(path):
        dirs.sort()
        for name in sorted(names):
            yield Path(root) / name


def _from_json(data: bytes, origin: str, secdb: list[dict[str, Any]]) -> Iterator[Advisory]:
    if b'"distroversion"' in data[:4096] or b'"packages"' in data[:4096]:
        doc = json.loads(data)
        if is_secdb(doc):
            secdb.append(doc)
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


def load_path(path: str | Path) -> Iterator[Advisory]:
    """Every advisory under ``path`` (file or directory), detecting each file's kind.

    Raises AdvisoryError for a file that claims to be OSV but does not validate,
    FileNotFoundError for a missing path.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"advisories.load: no such path: {path}")
    secdb: list[dict[str, Any]] = []
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
    if secdb:
        yield from convert(secdb)
