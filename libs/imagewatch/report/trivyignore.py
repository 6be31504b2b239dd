"""Trivy's ignore files, read when no ``.imagewatchignore.yaml`` is present.

``.trivyignore``: one id per line, ``#`` comments, an optional
``exp:YYYY-MM-DD`` after the id::

    CVE-2023-5678
    CVE-2018-20225 exp:2025-06-30   # not reachable

``.trivyignore.yaml``: ``vulnerabilities``, ``secrets``, ``misconfigurations``
lists of entries with ``id``, optional ``paths`` (globs), ``purls``,
``expired_at`` and ``statement``. Both become an ``IgnoreFile``.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import yaml

from imagewatch.report.ignorefile import IgnoreEntry, IgnoreFile, IgnoreFileError

TRIVYIGNORE = ".trivyignore"
TRIVYIGNORE_YAML = ".trivyignore.yaml"
_SECTIONS = ("vulnerabilities", "secrets", "misconfigurations")


def _date(value: object, where: str) -> dt.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise IgnoreFileError(f"report: {where}: expiry must be YYYY-MM-DD, got {value!r}") from None


def parse_trivyignore(text: str, source: str = TRIVYIGNORE) -> IgnoreFile:
    """Parse the line format of ``.trivyignore``."""
    entries = []
    for n, line in enumerate(text.splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        ident, *rest = line.split()
        expires = None
        for word in rest:
            if word.startswith("exp:"):
                expires = _date(word[4:], f"{source}: line {n}")
            else:
                raise IgnoreFileError(f"report: {source}: line {n}: unexpected {word!r} (id [exp:YYYY-MM-DD])")
        entries.append(IgnoreEntry(id=ident, expires=expires))
    return IgnoreFile(entries=entries, source=source)


def parse_trivyignore_yaml(text: str, source: str = TRIVYIGNORE_YAML) -> IgnoreFile:
    """Parse ``.trivyignore.yaml``; raises ``IgnoreFileError`` naming the bad entry."""
    try:
        doc = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise IgnoreFileError(f"report: {source}: not valid YAML: {exc}") from None
    if not isinstance(doc, dict):
        raise IgnoreFileError(f"report: {source}: expected vulnerabilities/secrets/misconfigurations lists")
    entries = []
    for section in _SECTIONS:
        items = doc.get(section) or []
        if not isinstance(items, list):
            raise IgnoreFileError(f"report: {source}: {section} must be a list")
        for n, raw in enumerate(items, 1):
            where = f"{source}: {section} entry {n}"
            if not isinstance(raw, dict) or not raw.get("id"):
                raise IgnoreFileError(f"report: {where} needs an 'id'")
            paths = tuple(str(p) for p in raw.get("paths") or [])
            expires = _date(raw.get("expired_at"), where)
            reason = str(raw.get("statement") or "")
            purls = [str(p) for p in raw.get("purls") or []] or [""]
            entries += [IgnoreEntry(id=str(raw["id"]).strip(), package=purl, expires=expires, reason=reason,
                                    paths=paths) for purl in purls]
    return IgnoreFile(entries=entries, source=source)


def load_trivy_ignore(path: str | Path) -> IgnoreFile:
    """Read ``.trivyignore`` or ``.trivyignore.yaml`` (by its suffix)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise IgnoreFileError(f"report: cannot read ignore file {p}: {exc.strerror}") from None
    if p.suffix in (".yaml", ".yml"):
        return parse_trivyignore_yaml(text, p.name)
    return parse_trivyignore(text, p.name)
