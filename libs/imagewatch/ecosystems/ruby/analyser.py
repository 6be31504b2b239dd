"""Installed Ruby gems: ``specifications/*.gemspec`` as RubyGems writes them.

An installed gemspec is Ruby source (``Gem::Specification.new do |s|`` with
``s.name = "rake".freeze``, or ``%q{rake}`` in old RubyGems); it is never
evaluated, only the ``name``, ``version`` and ``license(s)`` assignments are
read. Default gems in ``specifications/default/`` count too. Without a
``name``/``version`` line the ``name-1.2.3.gemspec`` file name is used.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from packageurl import PackageURL

from imagewatch.models import Package

_MAX_SIZE = 1 << 20
_ASSIGN = re.compile(r"^\s*\w+\.(name|version|licenses?)\s*=\s*(.+)$", re.MULTILINE)
_LITERAL = re.compile(r"\"([^\"]*)\"|'([^']*)'|%q\{([^}]*)\}|%q<([^>]*)>|%q\(([^)]*)\)")
_FILENAME = re.compile(r"^(?P<name>.+?)-(?P<version>\d[\w.]*)(?:-[\w.-]+)?\.gemspec$")


def _literals(expr: str) -> list[str]:
    return [next(g for g in m.groups() if g is not None) for m in _LITERAL.finditer(expr)]


def parse_gemspec(text: str, image_path: str) -> Package | None:
    """The gem an installed gemspec describes; None when neither text nor file name names it."""
    fields: dict[str, list[str]] = {}
    for m in _ASSIGN.finditer(text):
        fields.setdefault(m[1], _literals(m[2]))
    name = (fields.get("name") or [""])[0]
    version = (fields.get("version") or [""])[0]
    if not name or not version:
        m = _FILENAME.match(image_path.rpartition("/")[2])
        if m is None:
            return None
        name, version = name or m["name"], version or m["version"]
    licenses = fields.get("licenses") or fields.get("license") or []
    return Package(name=name, version=version, ecosystem="RubyGems",
                   purl=PackageURL(type="gem", name=name, version=version).to_string(),
                   path=image_path, licenses=licenses)


class RubyAnalyser:
    """Gems installed by RubyGems or Bundler."""

    name = "ruby-gemspec"
    version = 1
    kind: Literal["os", "lang"] = "lang"

    def wants(self, path: str, size: int) -> bool:
        """``*.gemspec`` files in a ``specifications`` directory, up to 1 MiB."""
        return size <= _MAX_SIZE and path.endswith(".gemspec") and "specifications/" in path

    def analyse(self, files: Mapping[str, Path]) -> list[Package]:
        """One package per gemspec."""
        out: list[Package] = []
        for image_path, disk_path in sorted(files.items()):
            pkg = parse_gemspec(disk_path.read_text(encoding="utf-8", errors="replace"), image_path)
            if pkg is not None:
                out.append(pkg)
        return out
