"""Group a scan result into targets the way Trivy does, for the table and JSON.

A target is the OS package database, one language package file (a lock file,
a Go or Rust binary), or, for ecosystems where every package is its own
metadata file (Python dist-info, node_modules package.json, gemspecs, jars),
one target per ecosystem ("Python", "Node.js", "Ruby", "Java"). Secrets and
misconfigurations are grouped per file. Malware (known-malicious packages and
malicious or tampered files) is one target of class ``malware``, listed first.
Order: malware, OS, language, secret, config.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field

from imagewatch.ecosystems.catalog import LANGUAGE_REPORT_TYPES, OS_ECOSYSTEMS
from imagewatch.models import Finding, Package, SecretFinding
from imagewatch.report.result import ScanResult, Suppressed


_AGGREGATED = {
    "PyPI": ("Python", "python-pkg"),
    "npm": ("Node.js", "node-pkg"),
    "RubyGems": ("Ruby", "gemspec"),
    "Maven": ("Java", "jar"),
}
_PER_PACKAGE_FILES = ("METADATA", "PKG-INFO", "package.json", "pom.properties", "MANIFEST.MF")
_PER_PACKAGE_SUFFIXES = (".gemspec", ".jar", ".war", ".ear")
_LANG_TYPES = LANGUAGE_REPORT_TYPES


@dataclass
class Target:
    """One group of results: its name, Trivy-style class and type, and its items."""

    name: str
    cls: str
    type: str
    packages: list[Package] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    secrets: list[SecretFinding] = field(default_factory=list)
    suppressed: list[Suppressed] = field(default_factory=list)


def is_os_ecosystem(ecosystem: str, result: ScanResult) -> bool:
    """True when ``ecosystem`` names a distribution (known, or of an OS package in ``result``)."""
    if ecosystem in OS_ECOSYSTEMS:
        return True
    return any(p.kind == "os" and p.ecosystem == ecosystem for p in result.packages)


def _lang_key(ecosystem: str, path: str) -> tuple[str, str, str]:
    base = posixpath.basename(path)
    if ecosystem in _AGGREGATED and (
        not path or base in _PER_PACKAGE_FILES or base.endswith(_PER_PACKAGE_SUFFIXES)
        or ".dist-info/" in path or ".egg-info" in path
    ):
        name, typ = _AGGREGATED[ecosystem]
        return ("lang-pkgs", name, typ)
    return ("lang-pkgs", path or ecosystem, _LANG_TYPES.get(ecosystem, ecosystem.lower()))


def _os_key(result: ScanResult, ecosystem: str) -> tuple[str, str, str]:
    if result.os is not None:
        name = f"{result.reference} ({result.os.id} {result.os.version_id})".replace(" )", ")")
        return ("os-pkgs", name, result.os.id)
    return ("os-pkgs", result.reference, ecosystem.lower().replace(" ", ""))


def _package_key(result: ScanResult, p: Package) -> tuple[str, str, str]:
    if p.kind == "os":
        return _os_key(result, p.ecosystem)
    return _lang_key(p.ecosystem, p.path)


MALWARE_KEY = ("malware", "Malware", "malware")


def _finding_key(result: ScanResult, f: Finding, index: dict) -> tuple[str, str, str]:
    if f.kind == "malware":
        return MALWARE_KEY
    for k in ((f.ecosystem, f.package, f.version, f.path), (f.ecosystem, f.package, f.version),
              (f.ecosystem, f.package)):
        if k in index:
            return index[k]
    if is_os_ecosystem(f.ecosystem, result):
        return _os_key(result, f.ecosystem)
    return _lang_key(f.ecosystem, f.path)


def _secret_key(s: SecretFinding) -> tuple[str, str, str]:
    if s.kind == "malware":
        return MALWARE_KEY
    if s.kind == "secret":
        return ("secret", s.path or "image", "")
    return ("config", s.path or "image", "image-config" if s.path.startswith("config:") else "")


def build_targets(result: ScanResult) -> list[Target]:
    """Every target of ``result`` with its packages, findings, secrets and suppressed items."""
    targets: dict[tuple[str, str, str], Target] = {}

    def get(key: tuple[str, str, str]) -> Target:
        if key not in targets:
            targets[key] = Target(name=key[1], cls=key[0], type=key[2])
        return targets[key]

    index: dict[tuple, tuple[str, str, str]] = {}
    for p in result.packages:
        key = _package_key(result, p)
        get(key).packages.append(p)
        for k in ((p.ecosystem, p.name, p.version, p.path), (p.ecosystem, p.name, p.version),
                  (p.ecosystem, p.name)):
            index.setdefault(k, key)
        if p.source_name:
            index.setdefault((p.ecosystem, p.source_name), key)
    for f in result.findings:
        get(_finding_key(result, f, index)).findings.append(f)
    for s in result.secrets:
        get(_secret_key(s)).secrets.append(s)
    for s in result.suppressed:
        if s.finding is not None:
            get(_finding_key(result, s.finding, index)).suppressed.append(s)
        elif s.secret is not None:
            get(_secret_key(s.secret)).suppressed.append(s)
    order = {"malware": -1, "os-pkgs": 0, "lang-pkgs": 1, "secret": 2, "config": 3}
    return sorted(targets.values(), key=lambda t: (order[t.cls], t.name))
