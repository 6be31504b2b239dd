"""The one list of package analysers the inventory runs on every layer.

Add an analyser by importing its module and appending one instance to
``_analysers()``; a duplicate ``name`` raises at ``default_analysers()`` time.
OS detection (``osrelease.detect_os``) is not listed: the OS is not a package and
the layer reader always extracts the os-release files.
"""

from __future__ import annotations

from .base import Analyser


class RegistryError(ValueError):
    """An analyser registry is inconsistent (duplicate name, wrong shape)."""


def _analysers() -> list[Analyser]:
    # Imported here so that importing the registry stays cheap and cycle-free.
    from . import apk, dotnet, dpkg, golang, java, node, php, python, rpm, ruby, rust, sbom

    return [
        dpkg.DpkgAnalyser(),
        apk.ApkAnalyser(),
        rpm.RpmAnalyser(),
        # language analysers are appended below this line
        python.PythonAnalyser(),
        node.NodeAnalyser(),
        golang.GoBinaryAnalyser(),
        java.JavaAnalyser(),
        ruby.RubyAnalyser(),
        php.PhpAnalyser(),
        dotnet.DotnetAnalyser(),
        rust.RustAnalyser(),
        sbom.SbomAnalyser(),
    ]


def check_unique(analysers: list[Analyser]) -> list[Analyser]:
    """Return ``analysers`` unchanged; raise ``RegistryError`` on a duplicate name or a non-Analyser."""
    seen: set[str] = set()
    for a in analysers:
        if not isinstance(a, Analyser):
            raise RegistryError(f"analysers: {a!r} does not implement the Analyser protocol")
        if a.name in seen:
            raise RegistryError(f"analysers: duplicate analyser name {a.name!r}")
        seen.add(a.name)
    return analysers


def default_analysers() -> list[Analyser]:
    """Fresh instances of every registered analyser, OS first; raises on a duplicate name."""
    return check_unique(_analysers())
