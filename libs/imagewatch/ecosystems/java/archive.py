"""Maven coordinates from one Java archive: pom.properties, MANIFEST.MF, file name.

Every ``META-INF/maven/**/pom.properties`` is a package (shaded jars carry
several). When none of them is the archive's own artifact (matched by the
``name-1.2.3.jar`` file name), the archive itself is identified from the
manifest and the file name: artifact and version from the file name when it
has them, else ``Implementation-Title``/``-Version`` (or ``Bundle-*``); group
from ``Implementation-Vendor-Id`` or a ``Bundle-SymbolicName`` ending in
``.<artifact>``. Without a group the name is the bare artifact id.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_PROPERTY = re.compile(r"^([^=:\s]+)\s*[=:\s]\s*(.*)$")
_VERSION_START = re.compile(r"-(?=\d)")
_REPOSITORY_ROOTS = frozenset({"repository", "maven-repo", "maven2"})


@dataclass(frozen=True)
class Coordinates:
    """A Maven artifact: ``group`` may be empty when nothing in the archive names it."""

    group: str
    artifact: str
    version: str

    @property
    def name(self) -> str:
        """``group:artifact``, or the artifact alone without a group."""
        return f"{self.group}:{self.artifact}" if self.group else self.artifact


def parse_properties(text: str) -> dict[str, str]:
    """Java ``.properties`` key/value lines (comments and blank lines skipped)."""
    out: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line[0] in "#!":
            continue
        m = _PROPERTY.match(line)
        if m:
            out[m[1]] = m[2].strip()
    return out


def parse_manifest(text: str) -> dict[str, str]:
    """Main section of a ``MANIFEST.MF`` (72-byte lines continued by a leading space)."""
    out: dict[str, str] = {}
    key = None
    for line in text.splitlines():
        if not line:
            break  # end of the main section
        if line.startswith(" ") and key:
            out[key] += line[1:]
        elif ":" in line:
            key, _, value = line.partition(":")
            key = key.strip()
            out[key] = value.strip()
    return out


def from_pom_properties(text: str) -> Coordinates | None:
    """Coordinates from a ``pom.properties``; None when a field is missing or unresolved."""
    props = parse_properties(text)
    group, artifact, version = (props.get(k, "") for k in ("groupId", "artifactId", "version"))
    if not (group and artifact and version) or "${" in group + artifact + version:
        return None
    return Coordinates(group, artifact, version)


def split_filename(base: str) -> tuple[str, str] | None:
    """``log4j-1.2-api-2.17.1.jar`` -> (``log4j-1.2-api``, ``2.17.1``); None without a version.

    The version starts at the last ``-<digit>`` whose remainder holds a dot
    (artifact ids may contain ``-1.2``), else at the first ``-<digit>``.
    """
    stem = base.rsplit(".", 1)[0]
    cuts = [m.start() for m in _VERSION_START.finditer(stem) if m.start() > 0]
    if not cuts:
        return None
    cut = next((c for c in reversed(cuts) if "." in stem[c + 1:]), cuts[0])
    artifact, version = stem[:cut], stem[cut + 1:]
    return (artifact, version) if artifact[0].isalpha() else None


def identify(base: str, manifest: dict[str, str]) -> Coordinates | None:
    """The archive's own coordinates from its file name and manifest."""
    from_name = split_filename(base)
    title = manifest.get("Implementation-Title", "")
    symbolic = manifest.get("Bundle-SymbolicName", "").split(";", 1)[0].strip()
    if from_name:
        artifact, version = from_name
    else:
        artifact = title if title and " " not in title else symbolic.rpartition(".")[2]
        version = manifest.get("Implementation-Version") or manifest.get("Bundle-Version", "")
    if not artifact or not version or " " in version:
        return None
    group = manifest.get("Implementation-Vendor-Id", "")
    if not group and symbolic.endswith("." + artifact):
        group = symbolic[: -len(artifact) - 1]
    return Coordinates(group if " " not in group else "", artifact, version)


def from_repository_path(path: str) -> Coordinates | None:
    """Coordinates of ``<root>/<group dirs>/<artifact>/<version>/<artifact>-<version>[-classifier].jar``.

    ``<root>`` is the last directory named ``repository`` (Maven's local
    repository), ``maven-repo`` (Debian) or ``maven2``; None for other paths.
    """
    parts = path.split("/")
    roots = [i for i, part in enumerate(parts[:-4]) if part in _REPOSITORY_ROOTS]
    if not roots:
        return None
    *group, artifact, version, base = parts[roots[-1] + 1:]
    stem = base.rsplit(".", 1)[0]
    if not group or not (stem == f"{artifact}-{version}" or stem.startswith(f"{artifact}-{version}-")):
        return None
    return Coordinates(".".join(group), artifact, version)
