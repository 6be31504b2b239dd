"""Misconfiguration check records, the filesystem entry they read, and helpers."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from imagewatch.models import SecretFinding, Severity


@dataclass(frozen=True, slots=True)
class Check:
    """What a misconfiguration check reports: id, title, severity, remediation."""

    id: str
    title: str
    severity: Severity
    remediation: str

    def finding(self, path: str, *, layer_index: int | None = None, layer: str = "",
                fingerprint: str = "", preview: str = "") -> SecretFinding:
        """A ``SecretFinding`` of kind ``misconfiguration`` for this check."""
        return SecretFinding(
            kind="misconfiguration", rule_id=self.id, title=self.title, severity=self.severity,
            path=path, layer=layer, layer_index=layer_index, fingerprint=fingerprint,
            preview=preview, remediation=self.remediation,
        )


@dataclass(frozen=True, slots=True)
class FileEntry:
    """Metadata of one filesystem entry of one layer (no content).

    ``path`` is relative to the image root without a leading slash; ``mode`` is
    the permission bits including setuid/setgid/sticky (``0o7777`` mask);
    ``layer_index`` counts from 0 at the base layer.
    """

    path: str
    mode: int
    uid: int = 0
    gid: int = 0
    size: int = 0
    layer_index: int = 0
    layer: str = ""
    is_dir: bool = False
    is_symlink: bool = False


ImageConfig = Mapping[str, Any]
# A config check gets the image config blob and a fingerprint function.
ConfigFn = Callable[[ImageConfig, Callable[[bytes], str]], Iterable[SecretFinding]]
FileFn = Callable[[list[FileEntry]], Iterable[SecretFinding]]


def runtime_config(config: ImageConfig) -> Mapping[str, Any]:
    """The ``config`` object of an OCI image config (``{}`` when absent)."""
    return config.get("config") or {}


def env_pairs(config: ImageConfig) -> list[tuple[str, str]]:
    """``Env`` as (name, value) pairs."""
    out = []
    for item in runtime_config(config).get("Env") or []:
        name, _, value = str(item).partition("=")
        out.append((name, value))
    return out


def history_commands(config: ImageConfig) -> list[tuple[int, str]]:
    """(index, created_by) for every history entry that has one."""
    return [(i, str(h.get("created_by") or "")) for i, h in enumerate(config.get("history") or [])
            if h.get("created_by")]
