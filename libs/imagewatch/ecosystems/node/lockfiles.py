"""npm, Yarn and pnpm lock files read into (name, version) pairs.

Covers ``package-lock.json`` v1 (nested ``dependencies``) and v2/v3
(``packages`` keyed by ``node_modules/`` path), ``yarn.lock`` v1 (Yarn's own
format) and Berry (YAML, ``resolution: name@npm:version``), and
``pnpm-lock.yaml`` v5 (``/name/1.0.0_peer``), v6 (``/name@1.0.0(peer)``) and
v9 (``name@1.0.0``). Dependencies marked ``dev`` are left out; workspace,
link, file and git entries are skipped because no registry version was used.
"""

from __future__ import annotations

import json
import re

import yaml

NameVersion = tuple[str, str]
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: big locks
_REGISTRY_VERSION = re.compile(r"^\d+\.\d+\.\d+[-+.\w]*$")


def _load_yaml(text: str) -> dict:
    try:
        doc = yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        raise ValueError(f"node: malformed lock file: {exc}") from exc
    return doc if isinstance(doc, dict) else {}


def _ok(name: str, version: str) -> bool:
    return bool(name) and bool(_REGISTRY_VERSION.match(version))


def _split_at_version(spec: str) -> tuple[str, str]:
    """``@scope/name@1.0.0`` -> (``@scope/name``, ``1.0.0``); the leading ``@`` is the scope's."""
    at = spec.rfind("@")
    return (spec[:at], spec[at + 1:]) if at > 0 else (spec, "")


def parse_package_lock(text: str) -> list[NameVersion]:
    """Packages of an npm ``package-lock.json`` (any lockfileVersion)."""
    doc = json.loads(text)
    out: list[NameVersion] = []
    packages = doc.get("packages")
    if isinstance(packages, dict):
        for key, entry in packages.items():
            if "node_modules/" not in key or not isinstance(entry, dict):
                continue
            if entry.get("link") or entry.get("dev"):
                continue
            name = entry.get("name") or key.rsplit("node_modules/", 1)[1]
            version = str(entry.get("version", ""))
            if _ok(name, version):
                out.append((name, version))
        return out

    def walk(deps: dict) -> None:
        for name, entry in deps.items():
            if not isinstance(entry, dict) or entry.get("dev"):
                continue
            version = str(entry.get("version", ""))
            if version.startswith("npm:"):  # alias: "npm:real-name@1.2.3"
                name, version = _split_at_version(version[4:])
            if _ok(name, version):
                out.append((name, version))
            walk(entry.get("dependencies") or {})

    walk(doc.get("dependencies") or {})
    return out


def _yarn_name(descriptor: str) -> str:
    descriptor = descriptor.strip().strip('"')
    if "@npm:" in descriptor:  # alias "alias@npm:real@^1" installs "real"
        descriptor = descriptor.split("@npm:", 1)[1]
    return _split_at_version(descriptor)[0]


def parse_yarn_lock(text: str) -> list[NameVersion]:
    """Packages of a ``yarn.lock``, classic (v1) or Berry (v2+)."""
    if "__metadata:" in text:
        doc = _load_yaml(text)
        out = []
        for key, entry in doc.items():
            if key == "__metadata" or not isinstance(entry, dict):
                continue
            name, resolved = _split_at_version(str(entry.get("resolution", "")))
            if resolved.startswith("npm:") and _ok(name, resolved[4:]):
                out.append((name, resolved[4:]))
        return out
    out, name = [], None
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        if not line[0].isspace() and line.endswith(":"):
            name = _yarn_name(line[:-1].split(",")[0])
        elif name and line.startswith("  version "):
            version = line.split(None, 1)[1].strip().strip('"')
            if _ok(name, version):
                out.append((name, version))
            name = None
    return out


def _pnpm_key(key: str, major: int) -> NameVersion:
    key = key.lstrip("/").split("(", 1)[0]
    if major >= 6:
        return _split_at_version(key)
    name, _, version = key.rpartition("/")
    return name, version.split("_", 1)[0]


def parse_pnpm_lock(text: str) -> list[NameVersion]:
    """Packages of a ``pnpm-lock.yaml`` (lockfile versions 5, 6 and 9)."""
    doc = _load_yaml(text)
    try:
        major = int(float(str(doc.get("lockfileVersion", "5"))))
    except ValueError:
        major = 5
    out = []
    for key, entry in (doc.get("packages") or {}).items():
        entry = entry if isinstance(entry, dict) else {}
        if entry.get("dev") is True:
            continue
        name, version = _pnpm_key(str(key), major)
        name, version = entry.get("name", name), str(entry.get("version", version))
        if _ok(name, version):
            out.append((name, version))
    return out
