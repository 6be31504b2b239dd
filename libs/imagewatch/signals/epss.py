"""FIRST EPSS scores (https://www.first.org/epss/): probability of exploitation in 30 days, and its percentile.

FIRST publishes one daily CSV (``epss_scores-YYYY-MM-DD.csv.gz``) with a
``#model_version:…,score_date:…`` comment line and a ``cve,epss,percentile``
header; mirrors split it per year with ``;`` and no header. Both are read.
"""

from __future__ import annotations

import gzip
import re
from collections.abc import Iterator
from pathlib import Path

import msgspec

URL = "https://epss.empiricalsecurity.com/epss_scores-current.csv.gz"
_CVE = re.compile(r"^CVE-\d{4}-\d{4,}$")
_DATE = re.compile(r"score_date:(\d{4}-\d{2}-\d{2})")


class EpssScore(msgspec.Struct, kw_only=True, frozen=True, array_like=True):
    """One CVE's EPSS probability and percentile (both 0..1)."""

    cve: str
    probability: float
    percentile: float


class EpssFile(msgspec.Struct, kw_only=True):
    """The scores of one EPSS CSV file and its score date (empty when the file does not say)."""

    score_date: str
    scores: list[EpssScore]


def is_epss(path: Path) -> bool:
    """Whether ``path`` is an EPSS CSV (plain or gzip): its first data line is ``CVE-…,p,q`` or ``…;p;q``."""
    name = path.name.lower()
    if not (name.endswith(".csv") or name.endswith(".csv.gz")):
        return False
    try:
        for line in _lines(path, limit=3):
            if line.lower().replace(";", ",").startswith("cve,epss"):
                return True
            if line.startswith("#"):
                continue
            return _row(line) is not None
    except (OSError, EOFError, UnicodeDecodeError):
        return False
    return False


def _lines(path: Path, limit: int | None = None) -> Iterator[str]:
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as fh:
        for i, line in enumerate(fh):
            if limit is not None and i >= limit:
                return
            yield line.strip()


def _row(line: str) -> EpssScore | None:
    parts = line.replace(";", ",").split(",")
    if len(parts) != 3 or not _CVE.match(parts[0]):
        return None
    try:
        p, q = float(parts[1]), float(parts[2])
    except ValueError:
        return None
    if not (0.0 <= p <= 1.0 and 0.0 <= q <= 1.0):
        return None
    return EpssScore(cve=parts[0], probability=p, percentile=q)


def parse_epss(path: Path) -> EpssFile:
    """Every well-formed row of one EPSS CSV; malformed rows are skipped."""
    date, scores = "", []
    for line in _lines(path):
        if not line:
            continue
        if line.startswith("#"):
            found = _DATE.search(line)
            date = found.group(1) if found else date
            continue
        row = _row(line)
        if row is not None:
            scores.append(row)
    return EpssFile(score_date=date, scores=scores)
