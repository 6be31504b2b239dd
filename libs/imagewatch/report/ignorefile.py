"""The ``.imagewatchignore.yaml`` file: findings the team has decided to accept.

A YAML list of entries (or a mapping with an ``ignore:`` list)::

    - id: CVE-2023-12345          # advisory id or any alias, or a secret/misconfig rule id
      package: openssl            # optional: package name or purl (version optional)
      expires: 2025-06-30         # optional, YYYY-MM-DD; suppresses through that day
      reason: not reachable from our entry point
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import msgspec
import yaml
from imagewatch.errors import ImagewatchError

DEFAULT_NAME = ".imagewatchignore.yaml"


class IgnoreFileError(ImagewatchError, ValueError):
    """The ignore file cannot be read or has a malformed entry."""


class IgnoreEntry(msgspec.Struct, kw_only=True, frozen=True):
    """One accepted finding: ``id`` with an optional package and expiry date."""

    id: str
    package: str = ""
    expires: dt.date | None = None
    reason: str = ""
    paths: tuple[str, ...] = ()  # from .trivyignore.yaml: only findings in these files (glob)

    def expired(self, today: dt.date) -> bool:
        """True once ``today`` is past ``expires``."""
        return self.expires is not None and today > self.expires


class IgnoreFile(msgspec.Struct, kw_only=True):
    """The parsed ignore file; ``source`` names it in warnings and JSON output."""

    entries: list[IgnoreEntry] = []
    source: str = DEFAULT_NAME


def _entry(raw: object, n: int, source: str) -> IgnoreEntry:
    if not isinstance(raw, dict) or not raw.get("id"):
        raise IgnoreFileError(f"report: {source}: entry {n} needs an 'id'")
    expires = raw.get("expires")
    if isinstance(expires, str):
        try:
            expires = dt.date.fromisoformat(expires.strip())
        except ValueError:
            raise IgnoreFileError(f"report: {source}: entry {n} ({raw['id']}): expires must be "
                                  f"YYYY-MM-DD, got {expires!r}") from None
    elif isinstance(expires, dt.datetime):
        expires = expires.date()
    elif expires is not None and not isinstance(expires, dt.date):
        raise IgnoreFileError(f"report: {source}: entry {n} ({raw['id']}): expires must be YYYY-MM-DD")
    unknown = set(raw) - {"id", "package", "expires", "reason"}
    if unknown:
        raise IgnoreFileError(f"report: {source}: entry {n} ({raw['id']}): unknown key(s) "
                              f"{', '.join(sorted(map(str, unknown)))}")
    return IgnoreEntry(id=str(raw["id"]).strip(), package=str(raw.get("package") or "").strip(),
                       expires=expires, reason=str(raw.get("reason") or ""))


def parse_ignore_file(text: str, source: str = DEFAULT_NAME) -> IgnoreFile:
    """Parse ignore-file YAML; raises ``IgnoreFileError`` naming the bad entry."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise IgnoreFileError(f"report: {source}: not valid YAML: {e}") from None
    if isinstance(data, dict):
        data = data.get("ignore", data.get("vulnerabilities"))
    if data is None:
        return IgnoreFile(source=source)
    if not isinstance(data, list):
        raise IgnoreFileError(f"report: {source}: expected a list of entries")
    return IgnoreFile(entries=[_entry(raw, n, source) for n, raw in enumerate(data, 1)], source=source)


def load_ignore_file(path: str | Path) -> IgnoreFile:
    """Read and parse the ignore file at ``path``."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as e:
        raise IgnoreFileError(f"report: cannot read ignore file {p}: {e.strerror}") from None
    return parse_ignore_file(text, source=p.name)
