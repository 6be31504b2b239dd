"""A remediation plan per image: the fewest upgrades that remove its fixable findings, as people apply them.

Grouping:

* OS packages by source package (the unit a distribution fixes): one command upgrading the
  image's binary packages built from it (``apt-get install --only-upgrade`` on Debian and
  Ubuntu, ``apk add --upgrade`` on Alpine, ``dnf upgrade`` on the RPM family);
* language packages by package name per ecosystem (``django 2.2 → 3.2.25``), Go modules with
  ``go get module@vX`` and a rebuild (the Go toolchain, ``stdlib``, by building with a newer Go);
* findings with no fixed version are listed apart (``unfixed``): no upgrade removes them.

The target of a group is the smallest version that fixes all its findings: for each finding the
smallest of its fixed versions greater than the installed one (``versions.scheme_for`` of the
ecosystem), then the greatest of those over the group. A finding none of whose fixed versions is
newer than the installed one (or whose versions cannot be compared) is listed as unfixed.

Layer attribution: the image's layers up to and including the last layer that added OS packages
are the base image; later layers are the application's. A finding is in the base when the layer
that introduced its package is a base layer (findings whose layer is unknown count as application).
When base findings are fixable the advice is to rebuild on a current base image, or to run the
distribution's upgrade in the build; an OS release or runtime past its end of life (``eol``) adds
"move to" advice. ``top`` is the single most effective action: the one fixing the most findings
(critical ones first on a tie).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal

import msgspec

from imagewatch.advisories.match import package_lookup
from imagewatch.errors import ImagewatchError
from imagewatch.models import EolFinding, Finding, OSInfo, Package
from imagewatch.versions.schemes import scheme_for

_DEB = frozenset({"debian", "ubuntu"})
_APK = frozenset({"alpine", "wolfi", "chainguard"})
_RPM_UPGRADE = "dnf upgrade"


class Action(msgspec.Struct, kw_only=True, omit_defaults=True):
    """One upgrade: the package group, from which version(s) to which, the command, what it fixes.

    ``kind`` is ``os`` (``package`` is the source package, ``packages`` the binary
    packages to upgrade), ``lang`` or ``go``; ``fixes`` counts the findings it
    removes, ``critical``/``high`` those of that severity, ``ids`` their advisory
    ids; ``layer`` is ``base`` or ``app`` (where its packages were installed).
    """

    kind: Literal["os", "lang", "go"]
    ecosystem: str
    package: str
    packages: list[str] = []
    installed: list[str] = []
    target: str
    command: str
    fixes: int = 0
    critical: int = 0
    high: int = 0
    ids: list[str] = []
    layer: Literal["base", "app", ""] = ""

    @property
    def text(self) -> str:
        """``django 2.2 → 3.2.25 (pip install 'django==3.2.25'): fixes 28, of which 3 critical``."""
        return (f"{self.package} {', '.join(self.installed)} → {self.target} ({self.command}): "
                f"fixes {self.fixes}{_of_which(self.critical)}")


class Unfixed(msgspec.Struct, kw_only=True, omit_defaults=True):
    """A finding no upgrade removes yet (no fixed version newer than the installed one)."""

    advisory_id: str
    package: str
    version: str
    ecosystem: str
    severity: str = "unknown"


class Plan(msgspec.Struct, kw_only=True, omit_defaults=True):
    """The remediation plan of one image.

    ``actions`` most effective first; ``fixable`` counts the findings they remove,
    ``base_fixable``/``app_fixable`` how many of those are in base and application
    layers; ``advice`` holds the sentences to show, ``top`` the single most
    effective action and ``headline`` the same in a few words (an alert's title).
    """

    actions: list[Action] = []
    unfixed: list[Unfixed] = []
    fixable: int = 0
    base_fixable: int = 0
    app_fixable: int = 0
    advice: list[str] = []
    top: str = ""
    headline: str = ""


def _of_which(critical: int) -> str:
    return f", of which {critical} critical" if critical else ""


def _smallest_fix(f: Finding, installed: str) -> str | None:
    try:
        scheme = scheme_for(f.ecosystem)
        newer = [v for v in f.fixed_versions if scheme.compare(v, installed) > 0]
        return min(newer, key=scheme.key) if newer else None
    except (ImagewatchError, ValueError):
        return None


def _greatest(ecosystem: str, versions: Iterable[str]) -> str:
    return max(versions, key=scheme_for(ecosystem).key)


def _base_layers(packages: list[Package], layers: list[str]) -> set[str]:
    """The diff_ids of the base image's layers: up to the last that added OS packages."""
    index = {d: i for i, d in enumerate(layers)}
    last = max((index[p.layer] for p in packages if p.kind == "os" and p.layer in index), default=-1)
    return set(layers[:last + 1])


def _os_command(os: OSInfo | None, binaries: list[str]) -> str:
    names = " ".join(binaries)
    family = os.id if os is not None else ""
    if family in _DEB:
        return f"apt-get install --only-upgrade {names}"
    if family in _APK:
        return f"apk add --upgrade {names}"
    return f"{_RPM_UPGRADE} {names}"


def _base_name(os: OSInfo) -> str:
    """``debian:12``, ``alpine:3.19``, ``ubuntu:22.04``: the base image a user would name."""
    parts = os.version_id.split(".")
    return f"{os.id}:{'.'.join(parts[:1] if os.id == 'debian' else parts[:2])}" if os.version_id else os.id


def _upgrade_all(os: OSInfo | None) -> str:
    return _os_command(os, []).replace("install --only-upgrade", "upgrade").replace("add --upgrade", "upgrade").strip()


def _lang_command(ecosystem: str, name: str, target: str) -> tuple[Literal["lang", "go"], str]:
    base = ecosystem.split(":", 1)[0]
    if base == "Go":
        version = target if target.startswith("v") else f"v{target}"
        if name == "stdlib":
            return "go", f"rebuild with Go {target.lstrip('v')}"
        return "go", f"go get {name}@{version}, then rebuild"
    commands = {
        "PyPI": f"pip install '{name}=={target}'",
        "npm": f"npm install {name}@{target}",
        "crates.io": f"cargo update -p {name} --precise {target}",
        "RubyGems": f"bundle update {name} (to {target})",
        "Maven": f"set {name} to {target} in the build file",
        "NuGet": f"dotnet add package {name.split(':')[-1]} --version {target}",
        "Packagist": f"composer require {name}:{target}",
    }
    return "lang", commands.get(base, f"upgrade {name} to {target}")


def plan_for(findings: Iterable[Finding], packages: list[Package], os: OSInfo | None,
             layers: list[str] | None = None, eol: Iterable[EolFinding] = ()) -> Plan:
    """The remediation plan of an image from its findings, packages, OS, ordered layer diff_ids and EOL findings."""
    source = {(p.ecosystem, p.name): p.source_name or p.name for p in packages if p.kind == "os"}
    # OS advisories are written against the source version (with epoch), as matching compares them
    compared = {(p.ecosystem, p.name, p.version): package_lookup(p, os)[2] for p in packages if p.kind == "os"}
    os_kind = {(p.ecosystem, p.name) for p in packages if p.kind == "os"}
    base = _base_layers(packages, layers or [])
    groups: dict[tuple[str, str, str], list[tuple[Finding, str]]] = {}
    unfixed: list[Unfixed] = []
    seen: set[tuple[str, str, str, str]] = set()
    for f in findings:
        if f.kind != "vulnerability" or (key := (f.advisory_id, f.ecosystem, f.package, f.version)) in seen:
            continue
        seen.add(key)
        fix = _smallest_fix(f, compared.get((f.ecosystem, f.package, f.version), f.version))
        if fix is None:
            unfixed.append(Unfixed(advisory_id=f.advisory_id, package=f.package, version=f.version,
                                   ecosystem=f.ecosystem, severity=f.severity))
            continue
        if (f.ecosystem, f.package) in os_kind:
            group = ("os", f.ecosystem, source[(f.ecosystem, f.package)])
        else:
            group = ("lang", f.ecosystem, f.package)
        groups.setdefault(group, []).append((f, fix))
    actions = []
    for (kind, ecosystem, name), items in groups.items():
        target = _greatest(ecosystem, (fix for _, fix in items))
        binaries = sorted({f.package for f, _ in items})
        if kind == "os":
            action_kind, command = "os", _os_command(os, binaries)
        else:
            action_kind, command = _lang_command(ecosystem, name, target)
        in_base = all(f.layer in base for f, _ in items)
        actions.append(Action(
            kind=action_kind, ecosystem=ecosystem, package=name, packages=binaries if kind == "os" else [],
            installed=sorted({f.version for f, _ in items}), target=target, command=command,
            fixes=len(items), critical=sum(f.severity == "critical" for f, _ in items),
            high=sum(f.severity == "high" for f, _ in items), ids=sorted({f.advisory_id for f, _ in items}),
            layer=("base" if in_base else "app") if layers else ""))
    actions.sort(key=lambda a: (-a.fixes, -a.critical, -a.high, a.package))
    fixable = sum(a.fixes for a in actions)
    base_n = sum(1 for items in groups.values() for f, _ in items if f.layer in base)
    base_critical = sum(1 for items in groups.values() for f, _ in items
                        if f.layer in base and f.severity == "critical")
    plan = Plan(actions=actions, unfixed=unfixed, fixable=fixable, base_fixable=base_n, app_fixable=fixable - base_n)
    candidates: list[tuple[int, int, str, str]] = [
        (a.fixes, a.critical, a.text, f"upgrade {a.package} to {a.target} (fixes {a.fixes})") for a in actions]
    if base_n:
        name = f"{_base_name(os)} " if os is not None else ""
        rebuild = (f"{base_n} of {fixable} fixable findings are in the base layers: rebuild on a current "
                   f"{name}base image or run {_upgrade_all(os)} in your build — fixes {base_n}"
                   f"{_of_which(base_critical)}")
        plan.advice.append(rebuild)
        candidates.append((base_n, base_critical, rebuild,
                           f"rebuild on a current {name}base image (fixes {base_n})"))
    for e in eol:
        move = f" (since {e.eol})" if e.eol else ""
        target = f": move to {e.latest}" if e.latest else ""
        plan.advice.append(f"{e.name} is end of life{move}{target}")
    if unfixed:
        plan.advice.append(f"{len(unfixed)} findings have no fix yet: no upgrade removes them")
    if candidates:
        _, _, plan.top, plan.headline = max(candidates, key=lambda c: (c[0], c[1]))
    elif plan.advice:
        plan.top = plan.headline = plan.advice[0]
    return plan


async def image_plan(conn: Any, digest: str) -> Plan | None:
    """The plan of a stored image from its findings, packages, layers and end-of-life data; None if unknown."""
    from imagewatch.matcher.eol import image_eol
    from imagewatch.store import findings as findings_store
    from imagewatch.store import images as images_store
    from imagewatch.store import packages as packages_store

    image = await images_store.get_image(conn, digest)
    if image is None:
        return None
    packages = await packages_store.image_packages(conn, digest)
    os = await packages_store.image_os(conn, digest)
    findings = [f for f in await findings_store.image_findings(conn, digest) if f.linked]
    return plan_for(findings, packages, os, [layer["diff_id"] for layer in image["layers"]],
                    await image_eol(conn, packages, os))
