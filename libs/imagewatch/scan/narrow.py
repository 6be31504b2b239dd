"""``--skip-dirs``, ``--skip-files``, ``--pkg-types`` and ``--ignore-status``: what a scan leaves out.

Applied to the result before suppressions and the severity filter. A package
read from a skipped file (or a file under a skipped directory) is dropped with
its vulnerabilities, as are secrets and misconfigurations found there;
patterns are globs on the path inside the image, with or without a leading
``/``. ``--pkg-types os`` keeps vulnerabilities of OS packages only,
``library`` those of language packages. ``--ignore-status`` drops
vulnerabilities by status: ``fixed`` (a fixed version exists), ``affected``
(none yet), ``unknown``.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from fnmatch import fnmatchcase

import msgspec

from imagewatch.models import Finding
from imagewatch.report.result import ScanResult


def _skipped(path: str, dirs: Sequence[str], files: Sequence[str]) -> bool:
    if not path:
        return False
    path = path.lstrip("/")
    for pattern in files:
        if fnmatchcase(path, pattern.lstrip("/")):
            return True
    for pattern in dirs:
        pattern = pattern.strip("/")
        parts = path.split("/")
        for depth in range(1, len(parts)):
            if fnmatchcase("/".join(parts[:depth]), pattern):
                return True
    return False


def status_of(finding: Finding) -> str:
    """Trivy's status of a vulnerability: ``fixed`` when a fixed version exists, else ``affected``."""
    return "fixed" if finding.fixed_versions else "affected"


def narrow_result(result: ScanResult, *, skip_dirs: Sequence[str] = (), skip_files: Sequence[str] = (),
                  pkg_types: Collection[str] = ("os", "library"),
                  ignore_statuses: Collection[str] = ()) -> ScanResult:
    """A copy of ``result`` without what the options leave out."""
    if not (skip_dirs or skip_files or ignore_statuses) and {"os", "library"} <= set(pkg_types):
        return result
    packages = [p for p in result.packages if not _skipped(p.path, skip_dirs, skip_files)]
    os_packages = {(p.name, p.version, p.path) for p in result.packages if p.kind == "os"}
    findings = []
    for f in result.findings:
        if _skipped(f.path, skip_dirs, skip_files) or status_of(f) in ignore_statuses:
            continue
        kind = "os" if (f.package, f.version, f.path) in os_packages else "library"
        if kind in pkg_types:
            findings.append(f)
    secrets = [s for s in result.secrets if not _skipped(s.path, skip_dirs, skip_files)]
    return msgspec.structs.replace(result, packages=packages, findings=findings, secrets=secrets)
