"""What the pages show, built from store records: layers with their commands and contents,
findings as rows, the diff against the previous image of a tag."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from imagewatch.models import SEVERITY_ORDER, Finding, Package, SecretFinding

PREVIEW_CHARS = 4


@dataclass
class LayerView:
    """One layer: position, digests, size, the command that made it and what it brought."""

    position: int
    digest: str
    diff_id: str
    size: int
    command: str
    packages: list[Package] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    secrets: list[SecretFinding] = field(default_factory=list)


def layer_commands(config: dict[str, Any] | None, count: int) -> list[str]:
    """The ``created_by`` of each layer from the config history (entries with ``empty_layer`` make none)."""
    history = (config or {}).get("history") or []
    commands = [str(h.get("created_by") or h.get("comment") or "") for h in history
                if isinstance(h, dict) and not h.get("empty_layer")]
    if len(commands) != count:  # a history that does not line up with the layers tells nothing
        commands = commands[:count] if len(commands) > count else commands + [""] * (count - len(commands))
    return commands


def layers_of(image: dict[str, Any], packages: list[Package], findings: list[Finding],
              secrets: list[SecretFinding]) -> list[LayerView]:
    """The image's layers, base first, each with its command and the packages, findings and secrets it added."""
    commands = layer_commands(image.get("config"), len(image["layers"]))
    views = [LayerView(layer["position"], layer["digest"], layer["diff_id"], layer["size"], commands[i])
             for i, layer in enumerate(image["layers"])]
    by_id = {v.diff_id: v for v in views} | {v.digest: v for v in views}
    for pkg in packages:
        if pkg.layer in by_id:
            by_id[pkg.layer].packages.append(pkg)
    for f in findings:
        if f.layer in by_id:
            by_id[f.layer].findings.append(f)
    for s in secrets:
        target = by_id.get(s.layer) if s.layer else None
        if target is None and s.layer_index is not None and 0 <= s.layer_index < len(views):
            target = views[s.layer_index]
        if target is not None:
            target.secrets.append(s)
    return views


def severity_rank(severity: str) -> int:
    """Higher is worse; unknown severities rank lowest."""
    return SEVERITY_ORDER.get(severity, 0)


def preview(secret: SecretFinding) -> str:
    """At most the stored preview's first characters followed by an ellipsis; never a value."""
    return (secret.preview[:PREVIEW_CHARS] + "…") if secret.preview else ""


def display_id(f: Finding) -> str:
    """The CVE when known, else the advisory id."""
    cve = next((i for i in [f.advisory_id, *f.ids] if i.startswith("CVE-")), "")
    return cve or f.advisory_id


def other_ids(f: Finding) -> list[str]:
    """The finding's ids other than the one shown."""
    shown = display_id(f)
    return [i for i in dict.fromkeys([f.advisory_id, *f.ids]) if i != shown]


def diff_rows(findings: list[Finding], ids: list[str]) -> list[Finding]:
    """The findings known under any of ``ids``, most severe first."""
    wanted = set(ids)
    rows = [f for f in findings if wanted & {f.advisory_id, *f.ids}]
    rows.sort(key=lambda f: (-severity_rank(f.severity), f.advisory_id, f.package))
    return rows
